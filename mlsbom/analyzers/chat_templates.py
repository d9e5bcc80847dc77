"""Jinja chat templates: parsed with Jinja's own parser, never rendered.

Serving stacks render a model's chat template on every request; a template that reaches
`__globals__`, `__subclasses__` or `__builtins__` through attribute access escapes the sandbox
(the known SSTI chains through `cycler`, `joiner`, `lipsum`, `namespace`, `self`). Every place a
template names an attribute is judged: `x.name`, `x['name']`, the `attr` filter, the `attribute`
arguments of `map`/`selectattr`/`rejectattr`/`groupby`/`sort`/`sum`/`unique`/`min`/`max`,
`str.format` replacement fields, and method calls. Names starting with `_` are reported; so are
names of Python or Jinja runtime attributes outside the `chat-template-attributes` allowlist, and
names the template computes (`~`, `join`, `format`, variables holding such strings).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.python_code import read_text
from mlsbom.facts import Fact, LimitExceeded, ParseError, TemplateConstruct
from mlsbom.lists import Lists
from mlsbom.models import Format

MAX_TEMPLATE = 1 << 20
MAX_NODES = 200_000
MAX_FACTS = 200
GADGETS = frozenset({"cycler", "joiner", "lipsum", "namespace", "self", "range", "dict", "loop"})
# filter -> position of its attribute-name argument (all also take attribute=)
ATTRIBUTE_ARGS = {
    "selectattr": 0, "rejectattr": 0, "groupby": 0, "sum": 0, "sort": 2, "unique": 1,
    "min": 1, "max": 1, "map": -1,
}  # fmt: skip
# instance attributes of Jinja runtime objects that dir() of their classes does not show
JINJA_INSTANCE_ATTRIBUTES = frozenset(
    {"environment", "globals", "parent", "vars", "eval_ctx", "exported_vars", "blocks",
     "globals_keys", "filters", "tests", "loader", "cache", "policies", "finalize", "undefined",
     "root_render_func", "module", "filename", "catch_kwargs", "caller", "explicit_caller",
     "func_globals", "func_code", "im_func", "im_self", "im_class", "f_globals"}
)  # fmt: skip
FORMAT_FIELD = re.compile(r"\{[^{}]*[.\[][^{}]*\}")


@functools.cache
def runtime_attributes() -> frozenset[str]:
    """Public attribute names of the Python and Jinja objects a template could reach."""
    import types

    import jinja2
    from jinja2 import runtime, utils

    kinds: list[type] = [
        types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.CodeType,
        types.FrameType, types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType,
        types.TracebackType, types.ModuleType, type, property, BaseException, runtime.Context,
        runtime.Macro, runtime.TemplateReference, runtime.LoopContext, runtime.Undefined,
        runtime.BlockReference, jinja2.Template, jinja2.Environment, utils.Cycler, utils.Joiner,
        utils.Namespace,
    ]  # fmt: skip
    names = {a for k in kinds for a in dir(k) if not a.startswith("_")}
    return frozenset(names | JINJA_INSTANCE_ATTRIBUTES)


def allowed_attributes(lists: Lists) -> frozenset[str]:
    """The `chat-template-attributes` list: runtime attributes and methods templates may use."""
    return frozenset(lists["chat-template-attributes"])


def _environment() -> object:
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationTag(Extension):
        """transformers' `{% generation %}…{% endgeneration %}` block (assistant masks)."""

        tags = {"generation"}  # noqa: RUF012 - Jinja's extension API

        def parse(self, parser: object) -> nodes.Node:
            lineno = next(parser.stream).lineno  # type: ignore[attr-defined]
            body = parser.parse_statements(  # type: ignore[attr-defined]
                ("name:endgeneration",), drop_needle=True
            )
            return nodes.Scope(body, lineno=lineno)

    return ImmutableSandboxedEnvironment(
        extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", GenerationTag]
    )


def _walk(root: object) -> Iterator[object]:
    from jinja2 import nodes

    stack = [root]
    seen = 0
    while stack and seen < MAX_NODES:
        node = stack.pop()
        seen += 1
        yield node
        if isinstance(node, nodes.Node):
            stack.extend(node.iter_child_nodes())


def _describe(node: object, depth: int = 0) -> str:
    from jinja2 import nodes

    if depth > 8:
        return "…"
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node, depth + 1)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        key = node.arg.value if isinstance(node.arg, nodes.Const) else "…"
        return f"{_describe(node.node, depth + 1)}[{key!r}]"
    if isinstance(node, nodes.Call):
        return f"{_describe(node.node, depth + 1)}(…)"
    if isinstance(node, nodes.Filter):
        return f"…|{node.name}"
    return "…"


def _name_problem(name: str, allowed: frozenset[str]) -> str | None:
    if name.startswith("_") or "__" in name:
        return "private-attribute"
    if name in runtime_attributes() and name not in allowed:
        return "python-attribute"
    return None


class _Judge:
    def __init__(self, flow: object, allowed: frozenset[str]) -> None:
        self.flow = flow
        self.allowed = allowed
        self.facts: list[TemplateConstruct] = []

    def add(self, technique: str, expression: str, line: int) -> None:
        if len(self.facts) < MAX_FACTS:
            self.facts.append(TemplateConstruct(technique, expression[:160], line))

    def names(self, node: object, where: str, line: int, *, subscript: bool = False) -> None:
        """Judge an expression used as an attribute name (or a subscript key)."""
        from jinja2 import nodes

        from mlsbom.template_flow import Flow

        assert isinstance(self.flow, Flow)
        if isinstance(node, nodes.Slice):
            return
        value = self.flow.value(node)  # type: ignore[arg-type]
        for const in sorted(value.consts):
            for part in re.split(r"[.,]", const) if not subscript else [const]:
                problem = _name_problem(part.strip(), self.allowed)
                if problem:
                    self.add(problem, f"{where} {part.strip()!r}", line)
        if value.built or (value.data and not subscript):
            self.add("computed-subscript" if subscript else "computed-attribute", where, line)

    def filter(self, node: object, line: int) -> None:
        from jinja2 import nodes

        assert isinstance(node, nodes.Filter)
        name, args = node.name, node.args
        for kw in node.kwargs:
            if kw.key == "attribute":
                self.names(kw.value, f"…|{name}(attribute=…)", line)
        if name == "attr" and args:
            self.names(args[0], "…|attr(…)", line)
        elif name in ("map", "select", "reject") and args:
            first = args[0]
            if not isinstance(first, nodes.Const):
                self.add("computed-attribute", f"…|{name}(<computed filter or test>)", line)
            elif name == "map" and first.value == "attr" and len(args) > 1:
                self.names(args[1], "…|map('attr', …)", line)
        elif name in ATTRIBUTE_ARGS and 0 <= ATTRIBUTE_ARGS[name] < len(args):
            self.names(args[ATTRIBUTE_ARGS[name]], f"…|{name}(…)", line)

    def call(self, node: object, line: int) -> None:
        from jinja2 import nodes

        from mlsbom.template_flow import Flow

        assert isinstance(node, nodes.Call) and isinstance(self.flow, Flow)
        target = node.node
        if not isinstance(target, nodes.Getattr):
            return
        if target.attr not in self.allowed and not target.attr.startswith("_"):
            self.add("unlisted-method", _describe(node), line)
        if target.attr in ("format", "format_map"):
            receiver = self.flow.value(target.node)
            if receiver.built or receiver.data:
                self.add("computed-attribute", f"{_describe(target)} on a computed string", line)
            for const in receiver.consts:
                if FORMAT_FIELD.search(const):
                    self.add("format-field", f"{const[:80]!r}.{target.attr}(…)", line)


def template_facts(source: str, lists: Lists) -> list[Fact]:
    """Facts about one chat template's source, judged against `lists`."""
    from jinja2 import TemplateSyntaxError, nodes

    from mlsbom.template_flow import solve

    allowed = lists.compiled(allowed_attributes)
    env = _environment()
    try:
        tree = env.parse(source)  # type: ignore[attr-defined]
        every = list(_walk(tree))
        judge = _Judge(solve(every), allowed)  # type: ignore[arg-type]
    except TemplateSyntaxError as exc:
        return [ParseError(f"Jinja syntax error: {exc.message} (line {exc.lineno})")]
    except (RecursionError, MemoryError, ValueError) as exc:
        return [ParseError(f"template not parseable: {type(exc).__name__}")]
    facts: list[Fact] = []
    if len(every) >= MAX_NODES:
        facts.append(LimitExceeded("template-nodes", MAX_NODES))
    for node in every:
        line = getattr(node, "lineno", 0) or 0
        if isinstance(node, nodes.Getattr):
            problem = _name_problem(node.attr, allowed)
            if problem:
                judge.add(problem, _describe(node), line)
            elif (
                isinstance(node.node, nodes.Name)
                and node.node.name in GADGETS
                and node.attr not in allowed
            ):
                judge.add("gadget-attribute", _describe(node), line)
        elif isinstance(node, nodes.Getitem):
            judge.names(node.arg, _describe(node), line, subscript=True)
        elif isinstance(node, nodes.Filter):
            judge.filter(node, line)
        elif isinstance(node, nodes.Call):
            judge.call(node, line)
        elif isinstance(node, nodes.Concat | nodes.Add):
            text = _assembled(node)
            if "__" in text or text.startswith("_?") or ("?_" in text and "_?" in text):
                judge.add("built-name", text[:120], line)
        elif isinstance(node, nodes.Import | nodes.FromImport | nodes.Include | nodes.Extends):
            judge.add("include", type(node).__name__.lower(), line)
    facts.extend(dict.fromkeys(judge.facts))
    return facts


def _assembled(node: object) -> str:
    """Constant text of a concatenation (`~`, `+`), non-constant parts as `?`."""
    from jinja2 import nodes

    parts: list[str] = []
    stack = [node]
    while stack and len(parts) < 64:
        n = stack.pop()
        if isinstance(n, nodes.Concat):
            stack.extend(reversed(n.nodes))
        elif isinstance(n, nodes.Add):
            stack.extend((n.right, n.left))
        elif isinstance(n, nodes.Const) and isinstance(n.value, str):
            parts.append(n.value)
        else:
            parts.append("?")
    return "".join(parts)


class ChatTemplateAnalyzer:
    formats: tuple[Format, ...] = (Format.CHAT_TEMPLATE,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        name = hint.name.lower()
        if name.endswith((".jinja", ".jinja2", ".j2")):
            return Format.CHAT_TEMPLATE
        return None

    def analyze(self, job: Job) -> Analysis:
        text, facts = read_text(job, MAX_TEMPLATE)
        if text is None:
            return Analysis(facts)
        return Analysis(template_facts(text, job.lists))
