"""Jinja chat templates: parsed with Jinja's own parser, never rendered.

Serving stacks render a model's chat template on every request; a template that reaches
`__globals__`, `__subclasses__` or `__builtins__` through attribute access escapes the sandbox
(the known SSTI chains through `cycler`, `joiner`, `lipsum`, `namespace`, `self`). The AST walk
reports attribute access the sandbox forbids (names starting with `_`), names assembled from
pieces, `attr()` with such names or computed names, and `import`/`include`/`extends`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.python_code import read_text
from mlsbom.facts import Fact, ParseError
from mlsbom.models import Format

MAX_TEMPLATE = 1 << 20
MAX_NODES = 200_000
GADGETS = frozenset({"cycler", "joiner", "lipsum", "namespace", "self", "range", "dict"})


@dataclass(frozen=True, slots=True)
class TemplateConstruct(Fact):
    """A chat-template construct: `private-attribute`, `built-name`, `computed-attribute`,
    `gadget-attribute` or `include`."""

    kind: ClassVar[str] = "chat-template"
    technique: str
    expression: str
    line: int


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


def _const_str(node: object) -> str | None:
    from jinja2 import nodes

    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return node.value
    return None


def _assembled(node: object) -> str:
    """Constant text of a concatenation (`~`, `+`, `join`), non-constant parts as `?`."""
    from jinja2 import nodes

    parts: list[str] = []
    stack = [node]
    while stack and len(parts) < 64:
        n = stack.pop()
        if isinstance(n, nodes.Concat):
            stack.extend(reversed(n.nodes))
        elif isinstance(n, nodes.Add):
            stack.extend((n.right, n.left))
        else:
            parts.append(_const_str(n) if _const_str(n) is not None else "?")  # type: ignore[arg-type]
    return "".join(parts)


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


def _describe(node: object) -> str:
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        key = _const_str(node.arg)
        inner = repr(key) if key is not None else "…"
        return f"{_describe(node.node)}[{inner}]"
    if isinstance(node, nodes.Call):
        return f"{_describe(node.node)}(…)"
    if isinstance(node, nodes.Filter):
        return f"…|{node.name}"
    return "…"


def template_facts(source: str) -> list[Fact]:
    """Facts about one chat template's source."""
    from jinja2 import TemplateSyntaxError, nodes

    env = _environment()
    try:
        tree = env.parse(source)  # type: ignore[attr-defined]
    except TemplateSyntaxError as exc:
        return [ParseError(f"Jinja syntax error: {exc.message} (line {exc.lineno})")]
    except (RecursionError, MemoryError, ValueError) as exc:
        return [ParseError(f"template not parseable: {type(exc).__name__}")]
    facts: list[Fact] = []
    for node in _walk(tree):
        line = getattr(node, "lineno", 0) or 0
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            facts.append(TemplateConstruct("private-attribute", _describe(node), line))
        elif isinstance(node, nodes.Getitem) and (key := _const_str(node.arg)) is not None:
            if key.startswith("_"):
                facts.append(TemplateConstruct("private-attribute", _describe(node), line))
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            name = _const_str(node.args[0])
            if name is None:
                facts.append(TemplateConstruct("computed-attribute", "…|attr(…)", line))
            elif name.startswith("_"):
                facts.append(TemplateConstruct("private-attribute", f"…|attr({name!r})", line))
        elif isinstance(node, nodes.Concat | nodes.Add):
            text = _assembled(node)
            if "__" in text or text.startswith("_?") or ("?_" in text and "_?" in text):
                facts.append(TemplateConstruct("built-name", text[:120], line))
        elif isinstance(node, nodes.Import | nodes.FromImport | nodes.Include | nodes.Extends):
            facts.append(TemplateConstruct("include", type(node).__name__.lower(), line))
        if (
            isinstance(node, nodes.Getattr)
            and isinstance(node.node, nodes.Name)
            and node.node.name in GADGETS
            and node.attr not in ("items", "keys", "values", "get", "current", "next", "reset")
        ):
            facts.append(TemplateConstruct("gadget-attribute", _describe(node), line))
    return _dedupe(facts)


def _dedupe(facts: list[Fact]) -> list[Fact]:
    return list(dict.fromkeys(facts))


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
        return Analysis(template_facts(text))
