"""TensorFlow SavedModel `saved_model.pb`: the ops of every graph and function, without tensorflow.

Field numbers come from tensorflow/core/protobuf/{saved_model,meta_graph}.proto and
framework/{graph,function,node_def,op_def}.proto. Ops that read or write files, or call back into
Python, are reported with their counts; rules/lists/tf-ops.toml says which ops count as which.
"""

from __future__ import annotations

import fnmatch
from collections import Counter

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.protowire import (
    FIELDS,
    LEN,
    MAX_DEPTH,
    Field,
    FieldBudget,
    Reader,
    WireError,
)
from mlsbom.facts import Fact, LimitExceeded, ParseError, TfGraph, TfOp
from mlsbom.lists import Lists
from mlsbom.models import Format

SAVED_MODEL_META_GRAPHS = 2
META_GRAPH_DEF = 2
GRAPH_NODE, GRAPH_LIBRARY = 1, 2
NODE_OP = 2
LIBRARY_FUNCTION = 1
FUNCTION_NODE_DEF = 3


def _category(op: str, lists: Lists) -> str | None:
    """The category the `tf-ops` list gives the op, if any."""
    for entry in lists["tf-ops"]:
        category, _, pattern = entry.partition("=")
        if fnmatch.fnmatchcase(op, pattern):
            return category
    return None


class _Walk:
    def __init__(self, reader: Reader) -> None:
        self.r = reader
        self.ops: Counter[str] = Counter()

    def graph(self, field: Field, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise WireError("graphs nested too deeply")
        for f in self.r.message(field):
            if f.wire != LEN:
                continue
            if f.number == GRAPH_NODE:
                self.node(f)
            elif f.number == GRAPH_LIBRARY:
                for fn in self.r.message(f):
                    if fn.number == LIBRARY_FUNCTION and fn.wire == LEN:
                        for nd in self.r.message(fn):
                            if nd.number == FUNCTION_NODE_DEF and nd.wire == LEN:
                                self.node(nd)

    def node(self, field: Field) -> None:
        for f in self.r.message(field):
            if f.number == NODE_OP and f.wire == LEN:
                op = self.r.text(f)[:200]
                if len(self.ops) < 50_000 or op in self.ops:
                    self.ops[op] += 1


class SavedModelAnalyzer:
    formats: tuple[Format, ...] = (Format.TF_SAVEDMODEL,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        name = hint.name.lower()
        shaped = len(head) > 2 and head[0] == 0x08 and head[2] == 0x12
        if shaped and (name == "saved_model.pb" or name.endswith(".pb")):
            return Format.TF_SAVEDMODEL
        return None

    def analyze(self, job: Job) -> Analysis:
        size = job.size
        if size is None:
            return Analysis([ParseError("SavedModel of unknown size")])
        walk: _Walk
        metas = 0
        with job.source.open() as f:
            reader = Reader(f, size, job.deadline)
            walk = _Walk(reader)
            try:
                for field in reader.fields(0, size):
                    if field.number != SAVED_MODEL_META_GRAPHS or field.wire != LEN:
                        continue
                    metas += 1
                    for part in reader.message(field):
                        if part.number == META_GRAPH_DEF and part.wire == LEN:
                            walk.graph(part, 0)
            except FieldBudget:
                return Analysis([LimitExceeded("protobuf-fields", FIELDS)])
            except WireError as exc:
                return Analysis([ParseError(f"SavedModel: {exc}")])
            except TimeoutError:
                return Analysis([LimitExceeded("seconds", int(job.limits.max_seconds))])
        facts: list[Fact] = [TfGraph(metas, sum(walk.ops.values()), len(walk.ops))]
        for op, count in sorted(walk.ops.items()):
            category = _category(op, job.lists)
            if category is not None:
                facts.append(TfOp(op, category, count))
        return Analysis(facts)
