"""ONNX models: external-data locations, custom operator domains and Python operators.

The model is walked field by field with the onnx package's own protobuf descriptors (field numbers
come from `onnx.ModelProto.DESCRIPTOR`); initializer bytes are skipped by seeking, so a
multi-gigabyte model costs a few reads. No runtime session is created, no external data is read.
"""

from __future__ import annotations

import functools
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
from mlsbom.facts import Fact, LimitExceeded, OnnxExternalData, OnnxModel, OnnxOperator, ParseError
from mlsbom.loader_paths import path_problem
from mlsbom.models import Format

MAX_PROTO = 1 << 40
PYTHON_OPS = frozenset({"PyOp", "PythonOp", "PyFunc", "PythonOpV2", "PyOpV2"})


def location_problem(location: str) -> str:
    """Where an external-data path points relative to the model's folder."""
    return path_problem(location)


@functools.cache
def _numbers() -> dict[str, int]:
    import onnx

    def num(message: object, name: str) -> int:
        value: int = message.DESCRIPTOR.fields_by_name[name].number  # type: ignore[attr-defined]
        return value

    return {
        "model.ir_version": num(onnx.ModelProto, "ir_version"),
        "model.producer_name": num(onnx.ModelProto, "producer_name"),
        "model.graph": num(onnx.ModelProto, "graph"),
        "model.opset_import": num(onnx.ModelProto, "opset_import"),
        "model.functions": num(onnx.ModelProto, "functions"),
        "opset.domain": num(onnx.OperatorSetIdProto, "domain"),
        "opset.version": num(onnx.OperatorSetIdProto, "version"),
        "graph.node": num(onnx.GraphProto, "node"),
        "graph.initializer": num(onnx.GraphProto, "initializer"),
        "graph.sparse_initializer": num(onnx.GraphProto, "sparse_initializer"),
        "sparse.values": num(onnx.SparseTensorProto, "values"),
        "sparse.indices": num(onnx.SparseTensorProto, "indices"),
        "function.node": num(onnx.FunctionProto, "node"),
        "function.attribute_proto": num(onnx.FunctionProto, "attribute_proto"),
        "model.training_info": num(onnx.ModelProto, "training_info"),
        "training.initialization": num(onnx.TrainingInfoProto, "initialization"),
        "training.algorithm": num(onnx.TrainingInfoProto, "algorithm"),
        "attr.t": num(onnx.AttributeProto, "t"),
        "attr.tensors": num(onnx.AttributeProto, "tensors"),
        "attr.sparse_tensor": num(onnx.AttributeProto, "sparse_tensor"),
        "attr.sparse_tensors": num(onnx.AttributeProto, "sparse_tensors"),
        "node.op_type": num(onnx.NodeProto, "op_type"),
        "node.domain": num(onnx.NodeProto, "domain"),
        "node.attribute": num(onnx.NodeProto, "attribute"),
        "attr.g": num(onnx.AttributeProto, "g"),
        "attr.graphs": num(onnx.AttributeProto, "graphs"),
        "tensor.name": num(onnx.TensorProto, "name"),
        "tensor.external_data": num(onnx.TensorProto, "external_data"),
        "entry.key": num(onnx.StringStringEntryProto, "key"),
        "entry.value": num(onnx.StringStringEntryProto, "value"),
    }


class _Walk:
    def __init__(self, reader: Reader) -> None:
        self.r = reader
        self.n = _numbers()
        self.ops: Counter[tuple[str, str]] = Counter()
        self.external: list[OnnxExternalData] = []

    def graph(self, field: Field, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise WireError("subgraphs nested too deeply")
        n = self.n
        for f in self.r.message(field):
            if f.wire != LEN:
                continue
            if f.number == n["graph.node"]:
                self.node(f, depth)
            elif f.number == n["graph.initializer"]:
                self.tensor(f)
            elif f.number == n["graph.sparse_initializer"]:
                self.sparse(f)

    def sparse(self, field: Field) -> None:
        n = self.n
        for part in self.r.message(field):
            if part.wire == LEN and part.number in (n["sparse.values"], n["sparse.indices"]):
                self.tensor(part)

    def attribute(self, field: Field, depth: int) -> None:
        """Subgraphs (If/Loop/Scan bodies) and tensors held in a node or function attribute."""
        n = self.n
        for a in self.r.message(field):
            if a.wire != LEN:
                continue
            if a.number in (n["attr.g"], n["attr.graphs"]):
                self.graph(a, depth + 1)
            elif a.number in (n["attr.t"], n["attr.tensors"]):
                self.tensor(a)
            elif a.number in (n["attr.sparse_tensor"], n["attr.sparse_tensors"]):
                self.sparse(a)

    def training_info(self, field: Field) -> None:
        n = self.n
        for part in self.r.message(field):
            if part.wire == LEN and part.number in (
                n["training.initialization"],
                n["training.algorithm"],
            ):
                self.graph(part, 1)

    def function(self, field: Field) -> None:
        n = self.n
        for fn in self.r.message(field):
            if fn.number == n["function.node"] and fn.wire == LEN:
                self.node(fn, 1)
            elif fn.number == n["function.attribute_proto"] and fn.wire == LEN:
                self.attribute(fn, 1)

    def node(self, field: Field, depth: int) -> None:
        n = self.n
        op_type, domain = "", ""
        for f in self.r.message(field):
            if f.wire != LEN:
                continue
            if f.number == n["node.op_type"]:
                op_type = self.r.text(f)[:200]
            elif f.number == n["node.domain"]:
                domain = self.r.text(f)[:200]
            elif f.number == n["node.attribute"]:
                self.attribute(f, depth)
        if len(self.ops) < 10_000 or (domain, op_type) in self.ops:
            self.ops[(domain, op_type)] += 1

    def tensor(self, field: Field) -> None:
        n = self.n
        name, location = "", None
        for f in self.r.message(field):
            if f.wire != LEN:
                continue
            if f.number == n["tensor.name"]:
                name = self.r.text(f)[:200]
            elif f.number == n["tensor.external_data"]:
                key = value = ""
                for e in self.r.message(f):
                    if e.wire == LEN and e.number == n["entry.key"]:
                        key = self.r.text(e)
                    elif e.wire == LEN and e.number == n["entry.value"]:
                        value = self.r.text(e)
                if key == "location":
                    location = value[:500]
        if location is not None and len(self.external) < 1000:
            self.external.append(OnnxExternalData(name, location, location_problem(location)))


def _looks_onnx(head: bytes) -> bool:
    """ModelProto starts with ir_version (field 1, varint) followed by another known field."""
    return (
        len(head) > 3
        and head[0] == 0x08
        and 1 <= head[1] <= 20
        and head[2] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42)
    )


class OnnxAnalyzer:
    formats: tuple[Format, ...] = (Format.ONNX,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if _looks_onnx(head) and (hint.name.lower().endswith(".onnx") or b"\x3a" in head[:64]):
            return Format.ONNX
        if hint.name.lower().endswith(".onnx") and head[:1] in (b"\x08", b"\x12", b"\x3a"):
            return Format.ONNX
        return None

    def analyze(self, job: Job) -> Analysis:
        size = job.size
        if size is None or size > MAX_PROTO:
            return Analysis([LimitExceeded("onnx-bytes", MAX_PROTO, size)])
        with job.source.open() as f:
            reader = Reader(f, size, job.deadline)
            walk = _Walk(reader)
            n = walk.n
            ir_version: int | None = None
            producer, opsets = "", list[str]()
            try:
                for field in reader.fields(0, size):
                    if field.number == n["model.ir_version"] and field.wire == 0:
                        ir_version = field.value
                    elif field.wire != LEN:
                        continue
                    elif field.number == n["model.producer_name"]:
                        producer = reader.text(field)[:200]
                    elif field.number == n["model.graph"]:
                        walk.graph(field, 0)
                    elif field.number == n["model.opset_import"] and len(opsets) < 100:
                        domain, version = "", 0
                        for o in reader.message(field):
                            if o.number == n["opset.domain"] and o.wire == LEN:
                                domain = reader.text(o)[:200]
                            elif o.number == n["opset.version"] and o.wire == 0:
                                version = o.value
                        opsets.append(f"{domain or 'ai.onnx'}:{version}")
                    elif field.number == n["model.functions"]:
                        walk.function(field)
                    elif field.number == n["model.training_info"]:
                        walk.training_info(field)
            except FieldBudget:
                return Analysis([LimitExceeded("protobuf-fields", FIELDS)])
            except WireError as exc:
                return Analysis([ParseError(f"ONNX: {exc}")])
            except TimeoutError:
                return Analysis([LimitExceeded("seconds", int(job.limits.max_seconds))])
        facts: list[Fact] = [OnnxModel(ir_version, producer, tuple(opsets), sum(walk.ops.values()))]
        facts.extend(walk.external)
        for (domain, op_type), count in sorted(walk.ops.items()):
            facts.append(OnnxOperator(domain or "ai.onnx", op_type, count, op_type in PYTHON_OPS))
        return Analysis(facts)
