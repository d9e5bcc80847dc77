"""Which strings can reach a Jinja attribute or subscript: a small flow-insensitive value analysis.

Every expression is summarised as a `Value`: the constant strings it may be (`consts`), whether
the template builds a string whose text is not known statically (`built`: concatenation, `join`,
`format`, slicing a literal, a macro's output), and whether it may come from render-time data
(`data`: messages, tools, loop variables over them). Variables (`set`, `for`, macro parameters,
`namespace` attributes) are resolved to the union of everything assigned to them, iterated to a
fixed point with a bounded number of passes. Nothing is evaluated or rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import nodes

MAX_CONSTS = 64
MAX_DEPTH = 64
MAX_PASSES = 8
NUMERIC_FILTERS = frozenset({"length", "count", "int", "float", "abs", "round", "wordcount"})
NUMERIC_CALLS = frozenset({"range", "namespace", "raise_exception", "dict"})
MUTATORS = frozenset({"update", "append", "extend", "insert", "setdefault", "add"})
# filters that pick or reorder items of a collection: data in, data out, whatever their arguments
COLLECTION_FILTERS = frozenset(
    {"selectattr", "rejectattr", "select", "reject", "map", "sort", "dictsort", "list",
     "unique", "batch", "slice", "groupby", "items", "min", "max", "first", "last"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Value:
    consts: frozenset[str] = frozenset()
    built: bool = False
    data: bool = False
    text: bool = False  # a const may be a whole string (not only an item of a literal list/dict)
    keys: frozenset[str] = frozenset()  # keys of a literal dict (what iterating it yields)

    def __or__(self, other: Value) -> Value:
        consts, keys = self.consts | other.consts, self.keys | other.keys
        data = self.data or other.data
        if len(consts) + len(keys) > MAX_CONSTS:
            return Value(frozenset(), True, data)
        return Value(consts, self.built or other.built, data, self.text or other.text, keys)

    def iterated(self) -> Value:
        """What iterating this value yields (keys of dicts, characters of strings)."""
        built = self.built or (self.text and bool(self.consts))
        return Value(self.consts | self.keys, built, self.data, False)

    def item(self) -> Value:
        """An item, character or attribute of this value (`x[i]`, `x.k`, `for c in x`)."""
        built = self.built or (self.text and bool(self.consts))  # a character of a literal
        return Value(self.consts, built, self.data, False)

    @property
    def template_made(self) -> bool:
        return self.built or bool(self.consts) or bool(self.keys)


DATA = Value(data=True)
BUILT = Value(built=True)
NOTHING = Value()


@dataclass
class Flow:
    """Variable values of one template, resolved by `solve(tree)`."""

    names: dict[str, Value] = field(default_factory=dict)
    ns_attrs: dict[tuple[str, str], Value] = field(default_factory=dict)
    macros: dict[str, nodes.Macro] = field(default_factory=dict)

    def value(self, node: nodes.Node, depth: int = 0) -> Value:
        """What `node` may evaluate to."""
        if depth > MAX_DEPTH:
            return BUILT
        d = depth + 1
        if isinstance(node, nodes.Const):
            if isinstance(node.value, str):
                return Value(frozenset({node.value}), text=True)
            return NOTHING
        if isinstance(node, nodes.TemplateData):
            return BUILT
        if isinstance(node, nodes.Name):
            return self.names.get(node.name, DATA)
        if isinstance(node, nodes.Concat):
            return self._concat([self.value(n, d) for n in node.nodes])
        if isinstance(node, nodes.Add):
            return self._concat([self.value(node.left, d), self.value(node.right, d)])
        if isinstance(node, nodes.Mul | nodes.Mod):
            left, right = self.value(node.left, d), self.value(node.right, d)
            return BUILT if left.template_made or right.template_made else DATA
        if isinstance(node, nodes.CondExpr):
            other = self.value(node.expr2, d) if node.expr2 is not None else NOTHING
            return self.value(node.expr1, d) | other
        if isinstance(node, nodes.Or | nodes.And):
            return self.value(node.left, d) | self.value(node.right, d)
        if isinstance(node, nodes.List | nodes.Tuple):
            return self._container([self.value(n, d) for n in node.items])
        if isinstance(node, nodes.Dict):
            out = self._container([self.value(p.value, d) for p in node.items])
            keys = self._container([self.value(p.key, d) for p in node.items])
            return Value(out.consts, out.built or keys.built, out.data, False, keys.consts)
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            member = self.value(node.node, d).item()
            if isinstance(node.node, nodes.Name):
                member = member | self._ns_member(node.node.name, getattr(node, "attr", None))
            return member
        if isinstance(node, nodes.Filter):
            return self._filter(node, d)
        if isinstance(node, nodes.Call):
            return self._call(node, d)
        if isinstance(node, nodes.Compare | nodes.Test | nodes.Not | nodes.UnaryExpr):
            return DATA
        if isinstance(node, nodes.BinExpr):
            return DATA  # Sub, Div, FloorDiv, Pow: numbers
        return BUILT

    def _ns_member(self, name: str, attr: str | None) -> Value:
        """Attributes set on a namespace (`ns.k = …`, `namespace(k=…)`, `ns.update(…)`)."""
        out = self.ns_attrs.get((name, "*"), NOTHING)
        if attr is not None:
            return out | self.ns_attrs.get((name, attr), NOTHING)
        for (owner, _), value in self.ns_attrs.items():
            if owner == name:
                out = out | value
        return out

    def _mutation(self, call: nodes.Call) -> bool:
        """`x.update({...})`, `x.append(v)`, … (the `do` extension): v flows into x."""
        target = call.node
        if not (
            isinstance(target, nodes.Getattr)
            and target.attr in MUTATORS
            and isinstance(target.node, nodes.Name)
        ):
            return False
        value = NOTHING
        for arg in [*call.args, *(k.value for k in call.kwargs)]:
            value = value | self.value(arg)
        value = Value(value.consts | value.keys, value.built, value.data, value.text)
        name = target.node.name
        return self._assign(target.node, value) | self._assign_ns((name, "*"), value)

    def _concat(self, parts: list[Value]) -> Value:
        if all(p.consts and not p.built and not p.data for p in parts):
            out = {""}
            for p in parts:
                out = {a + b for a in out for b in p.consts}
                if len(out) > MAX_CONSTS:
                    return BUILT
            return Value(frozenset(out), text=True)
        if any(p.template_made for p in parts):
            return BUILT
        return DATA

    @staticmethod
    def _container(items: list[Value]) -> Value:
        """A literal list/dict: iterating it yields its items (used by `for`)."""
        out = NOTHING
        for item in items:
            out = out | item
        return Value(out.consts, out.built, out.data)

    def _filter(self, node: nodes.Filter, d: int) -> Value:
        inner = self.value(node.node, d) if node.node is not None else NOTHING
        if node.name in ("default", "d"):
            return inner | (self.value(node.args[0], d) if node.args else NOTHING)
        if node.name in NUMERIC_FILTERS:
            return DATA
        if node.name in COLLECTION_FILTERS:
            return inner.iterated()
        args = [self.value(a, d) for a in node.args] + [self.value(k.value, d) for k in node.kwargs]
        if inner.template_made or any(a.template_made for a in args):
            return BUILT
        return DATA

    def _call(self, node: nodes.Call, d: int) -> Value:
        target = node.node
        if isinstance(target, nodes.Name):
            if target.name in self.macros or target.name == "lipsum":
                return BUILT  # rendered template text
            return DATA if target.name in NUMERIC_CALLS else BUILT
        if isinstance(target, nodes.Getattr):
            receiver = self.value(target.node, d)
            if target.attr in ("items", "keys", "values"):
                return receiver.iterated()
            if receiver.template_made:
                return BUILT
            if target.attr in ("get", "pop", "setdefault") and len(node.args) >= 2:
                return DATA | self.value(node.args[1], d)
            return DATA
        return BUILT

    def _assign(self, target: nodes.Node, value: Value) -> bool:
        if isinstance(target, nodes.Name):
            old = self.names.get(target.name, NOTHING)
            new = old | value
            self.names[target.name] = new
            return new != old
        if isinstance(target, nodes.NSRef):
            return self._assign_ns((target.name, target.attr), value)
        if isinstance(target, nodes.Tuple):
            changed = False
            for item in target.items:
                changed |= self._assign(item, value.item())
            return changed
        return False

    def _loop(self, target: nodes.Node, source: nodes.Node) -> bool:
        rows = source.items if isinstance(source, nodes.List | nodes.Tuple) else None
        if isinstance(target, nodes.Tuple) and rows is not None:
            changed = False  # for a, b in [("x", "y"), …]: each name gets its column
            for row in rows:
                if isinstance(row, nodes.List | nodes.Tuple) and len(row.items) == len(
                    target.items
                ):
                    for t, v in zip(target.items, row.items, strict=True):
                        changed |= self._assign(t, self.value(v))
                else:
                    changed |= self._assign(target, self.value(row))
            return changed
        items = self.value(source).iterated()
        strings = rows is not None and all(
            isinstance(r, nodes.Const) and isinstance(r.value, str) for r in rows
        )
        return self._assign(target, Value(items.consts, items.built, items.data, strings))

    def _assign_ns(self, key: tuple[str, str], value: Value) -> bool:
        old = self.ns_attrs.get(key, NOTHING)
        new = old | value
        self.ns_attrs[key] = new
        return new != old

    def _namespace(self, target: nodes.Node, call: nodes.Node, d: int) -> bool:
        if not (
            isinstance(target, nodes.Name)
            and isinstance(call, nodes.Call)
            and isinstance(call.node, nodes.Name)
            and call.node.name == "namespace"
        ):
            return False
        changed = False
        for kw in call.kwargs:
            changed |= self._assign_ns((target.name, kw.key), self.value(kw.value, d))
        for arg in [*call.args, *filter(None, (call.dyn_args, call.dyn_kwargs))]:
            changed |= self._assign_ns((target.name, "*"), self.value(arg, d))
        return changed

    def _pass(self, body: list[nodes.Node]) -> bool:
        changed = False
        for node in body:
            if isinstance(node, nodes.Assign):
                changed |= self._namespace(node.target, node.node, 0)
                changed |= self._assign(node.target, self.value(node.node))
            elif isinstance(node, nodes.AssignBlock):
                changed |= self._assign(node.target, BUILT)
            elif isinstance(node, nodes.For):
                changed |= self._loop(node.target, node.iter)
            elif isinstance(node, nodes.With):
                for t, v in zip(node.targets, node.values, strict=False):
                    changed |= self._assign(t, self.value(v))
            elif isinstance(node, nodes.Macro | nodes.CallBlock):
                args, defaults = node.args, node.defaults
                offset = len(args) - len(defaults)
                for i, default in enumerate(defaults):
                    changed |= self._assign(args[offset + i], self.value(default))
            elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
                changed |= self._macro_call(node)
            elif isinstance(node, nodes.Call):
                changed |= self._mutation(node)
        return changed

    def _macro_call(self, call: nodes.Call) -> bool:
        assert isinstance(call.node, nodes.Name)
        macro = self.macros.get(call.node.name)
        if macro is None:
            return False
        changed = False
        for param, arg in zip(macro.args, call.args, strict=False):
            changed |= self._assign(param, self.value(arg))
        by_name = {p.name: p for p in macro.args}
        for kw in call.kwargs:
            if kw.key in by_name:
                changed |= self._assign(by_name[kw.key], self.value(kw.value))
        return changed


def solve(all_nodes: list[nodes.Node]) -> Flow:
    """Resolve variable values over every node of a template (flow-insensitive)."""
    flow = Flow()
    for node in all_nodes:
        if isinstance(node, nodes.Macro):
            flow.macros.setdefault(node.name, node)
    for _ in range(MAX_PASSES):
        if not flow._pass(all_nodes):
            break
    return flow
