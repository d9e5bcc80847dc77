"""What a Python expression names, followed through the ways code reaches an object without
spelling a call: import aliases, assignments (`f = os.system`), `getattr`, `vars(m)[...]`,
`m.__dict__[...]`, `globals()`, `__builtins__`, `sys.modules[...]`, `__import__`,
`importlib.import_module`, and names built from string pieces that fold to constants
(concatenation, `join`, `format`, f-strings, `%`, `chr`, reversal, `bytes.decode`,
base64/hex/rot13).

Static and bounded: nothing is imported or evaluated beyond folding literal strings.
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import zlib

MAX_FOLD = 300  # characters of a folded string
MAX_FOLD_DEPTH = 24
_GET_IPYTHON = {
    "get_ipython",
    "builtins.get_ipython",
    "IPython.get_ipython",
    "IPython.core.getipython.get_ipython",
}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNS = (ast.Assign, ast.AnnAssign, ast.NamedExpr)
_BUILTINS_NAMES = {"__builtins__", "builtins", "__builtin__"}
IMPORTERS = {
    "__import__",
    "builtins.__import__",
    "importlib.import_module",
    "importlib.__import__",
    "pydoc.locate",  # these two resolve `module.attr` (or `module:attr`) to the object
    "pkgutil.resolve_name",
}
_DECODERS = {
    "base64.b64decode": base64.b64decode,
    "base64.standard_b64decode": base64.standard_b64decode,
    "base64.urlsafe_b64decode": base64.urlsafe_b64decode,
    "base64.b32decode": base64.b32decode,
    "base64.b16decode": base64.b16decode,
    "base64.a85decode": base64.a85decode,
    "base64.b85decode": base64.b85decode,
    "binascii.unhexlify": binascii.unhexlify,
    "binascii.a2b_hex": binascii.a2b_hex,
    "binascii.a2b_base64": binascii.a2b_base64,
    "bytes.fromhex": bytes.fromhex,
    "zlib.decompress": lambda b: zlib.decompressobj().decompress(b, MAX_FOLD + 1),
    "gzip.decompress": lambda b: zlib.decompressobj(31).decompress(b, MAX_FOLD + 1),
}
_STR_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "swapcase"}


def _dotted(base: str, *rest: str) -> str:
    head = "builtins" if base in _BUILTINS_NAMES else base
    return ".".join([head, *rest])


class Resolver:
    """Local names to dotted names (imports and simple assignments), and constant strings."""

    def __init__(self, tree: ast.Module) -> None:
        self.imports: list[ast.Import | ast.ImportFrom] = []
        self.star: list[str] = []  # modules imported with `from m import *`
        self.lists: dict[str, list[str]] = {}  # `n = ["sys", "tem"]`
        self.aliases: dict[str, str] = {}
        self.constants: dict[str, str | bytes] = {}
        self.shadowed: set[str] = set()  # bound in the file: a parameter `compile` is no builtin
        assigns: list[tuple[str, ast.expr]] = []
        counts: dict[str, int] = {}
        for node in ast.walk(tree):
            kind = type(node)
            if kind is ast.Name:
                if type(node.ctx) is ast.Store:  # type: ignore[attr-defined]
                    self.shadowed.add(node.id)  # type: ignore[attr-defined]
            elif kind is ast.Import or kind is ast.ImportFrom:
                self.imports.append(node)  # type: ignore[arg-type]
                self._bind(node)  # type: ignore[arg-type]
            elif kind is ast.arg:
                self.shadowed.add(node.arg)  # type: ignore[attr-defined]
            elif kind in _DEFS:
                self.shadowed.add(node.name)  # type: ignore[attr-defined]
            elif kind in _ASSIGNS and isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value is None:
                    continue
                for t in targets:
                    if isinstance(t, ast.Name):
                        assigns.append((t.id, node.value))
                        counts[t.id] = counts.get(t.id, 0) + 1
        for _ in range(3):  # chains: g = f; f = os.system
            for local, value in assigns:
                if isinstance(value, ast.List | ast.Tuple) and counts[local] == 1:
                    items = [self.fold(e) for e in value.elts]
                    if all(isinstance(i, str) for i in items):
                        self.lists[local] = [str(i) for i in items]
                folded = self.fold(value)
                if folded is not None and counts[local] == 1:
                    self.constants[local] = folded
                    continue
                target = self.name(value)
                if target is None or target == local:
                    continue
                # `f = os.system`, `m = __import__("os")`, `e = exec`; not `x = y` of locals
                if (
                    "." in target
                    or target in _BUILTIN_CALLABLES
                    or not isinstance(value, ast.Name)
                    or value.id in self.aliases
                ):
                    self.aliases.setdefault(local, target)

    def _bind(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                local = a.asname or a.name.split(".")[0]
                self.aliases[local] = a.name if a.asname else a.name.split(".")[0]
            return
        module = "." * node.level + (node.module or "")
        if any(a.name == "*" for a in node.names) and module:
            self.star.append(module)
        for a in node.names:
            self.aliases[a.asname or a.name] = f"{module}.{a.name}" if module else a.name

    def name(self, node: ast.expr, depth: int = 0) -> str | None:
        """The dotted name an expression evaluates to, when it names an importable object."""
        if depth > MAX_FOLD_DEPTH:
            return None
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return _dotted(self.aliases[node.id])
            return None if node.id in self.shadowed else _dotted(node.id)
        if isinstance(node, ast.Attribute):
            inner = self.name(node.value, depth + 1)
            if inner is None:
                return None
            if node.attr == "__dict__":
                return inner  # m.__dict__["x"] is m.x
            return f"{inner}.{node.attr}"
        if isinstance(node, ast.Subscript):
            return self._subscript(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return None

    def _subscript(self, node: ast.Subscript, depth: int) -> str | None:
        key = self.fold(node.slice)
        if not isinstance(key, str):
            return None
        value = node.value
        if isinstance(value, ast.Call):
            fn = self.name(value.func, depth + 1)
            if fn in ("vars", "builtins.vars") and value.args:
                inner = self.name(value.args[0], depth + 1)
                return f"{inner}.{key}" if inner else None
            if fn in ("globals", "locals", "builtins.globals", "builtins.locals"):
                return _dotted(self.aliases.get(key, key))
        inner = self.name(value, depth + 1)
        if inner is None:
            return None
        if inner == "sys.modules":
            return key  # sys.modules["os"] is the module os
        if inner == "builtins" or inner.endswith(".__builtins__"):
            return f"builtins.{key}"
        if isinstance(value, ast.Attribute) and value.attr == "__dict__":
            return f"{inner}.{key}"
        return None

    def _call(self, node: ast.Call, depth: int) -> str | None:
        if isinstance(node.func, ast.Call) and node.args:  # operator.attrgetter("system")(os)
            getter = self.name(node.func.func, depth + 1)
            if getter in ("operator.attrgetter", "operator.methodcaller") and node.func.args:
                attr, obj = self.fold(node.func.args[0]), self.name(node.args[0], depth + 1)
                if isinstance(attr, str) and obj is not None:
                    return f"{obj}.{attr}"
        fn = self.name(node.func, depth + 1)
        if fn in ("getattr", "builtins.getattr") and len(node.args) >= 2:
            obj = self.name(node.args[0], depth + 1)
            attr = self.fold(node.args[1])
            if obj is not None and isinstance(attr, str):
                return obj if attr == "__dict__" else f"{obj}.{attr}"
            return None
        if fn in IMPORTERS and node.args:
            module = self.fold(node.args[0])
            return module.replace(":", ".") if isinstance(module, str) and module else None
        if fn in ("vars", "builtins.vars") and node.args:
            return self.name(node.args[0], depth + 1)
        if fn in _GET_IPYTHON:
            return "IPython.shell"  # the running shell: .system, .run_cell, .getoutput, .ex…
        return None

    def fold(self, node: ast.AST, depth: int = 0) -> str | bytes | None:
        """The constant string (or bytes) an expression always evaluates to, if statically known."""
        if depth > MAX_FOLD_DEPTH:
            return None
        out = self._fold(node, depth)
        if out is not None and len(out) > MAX_FOLD:
            return None
        return out

    def _fold(self, node: ast.AST, depth: int) -> str | bytes | None:
        d = depth + 1
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str | bytes) else None
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                inner = v.value if isinstance(v, ast.FormattedValue) else v
                text = self.fold(inner, d)
                if not isinstance(text, str):
                    return None
                parts.append(text)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.fold(node.left, d), self.fold(node.right, d)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            if isinstance(left, bytes) and isinstance(right, bytes):
                return left + right
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            fmt = self.fold(node.left, d)
            items = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            args = [self.fold(e, d) for e in items]
            if isinstance(fmt, str) and all(isinstance(a, str) for a in args):
                try:
                    return fmt % tuple(args)
                except (TypeError, ValueError):
                    return None
            return None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            s = node.slice
            bounds = [_int(b) if b is not None else None for b in (s.lower, s.upper, s.step)]
            if any(
                b is None and e is not None
                for b, e in zip(bounds, (s.lower, s.upper, s.step), strict=True)
            ):
                return None
            text = self.fold(node.value, d)
            if text is None or bounds[2] == 0:
                return None
            return text[bounds[0] : bounds[1] : bounds[2]]
        if isinstance(node, ast.Call):
            return self._fold_call(node, d)
        return None

    def _fold_call(self, node: ast.Call, depth: int) -> str | bytes | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = self.fold(func.value, depth)
            if owner is not None:
                return _method(
                    owner, func.attr, [self.fold(a, depth) for a in node.args], node, self, depth
                )
        fn = self.name(func, depth)
        args = node.args
        if fn in ("chr", "builtins.chr") and args:
            code = _int(args[0])
            return chr(code) if code is not None and 0 <= code < 0x110000 else None
        if fn in ("str", "builtins.str") and args:
            text = self.fold(args[0], depth)
            return text if isinstance(text, str) else None
        if fn in ("bytes", "bytearray", "builtins.bytes") and args:
            ints = _ints(args[0])
            return bytes(ints) if ints is not None else None
        if fn in ("reversed", "builtins.reversed") and args:
            text = self.fold(args[0], depth)
            return text[::-1] if text is not None else None
        if fn in _DECODERS and args:
            data = self.fold(args[0], depth)
            try:
                return _DECODERS[fn](data) if data is not None else None  # type: ignore[operator]
            except (ValueError, TypeError, binascii.Error, zlib.error):
                return None
        if fn == "codecs.decode" and len(args) >= 2:
            data, codec = self.fold(args[0], depth), self.fold(args[1], depth)
            if (
                isinstance(data, str)
                and isinstance(codec, str)
                and codec.replace("_", "") == "rot13"
            ):
                return codecs.decode(data, "rot13")
        return None


# bare names worth following through `e = exec; e(...)` (other names only when dotted)
_BUILTIN_CALLABLES = {
    f"{p}{n}"
    for p in ("", "builtins.")
    for n in (
        "exec",
        "eval",
        "compile",
        "__import__",
        "getattr",
        "vars",
        "globals",
        "open",
        "get_ipython",
    )
}


def _int(node: ast.AST) -> int | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int(node.operand)
        return -inner if inner is not None else None
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _ints(node: ast.AST) -> list[int] | None:
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    out = [_int(e) for e in node.elts]
    if any(i is None or not 0 <= i < 256 for i in out):
        return None
    return [i for i in out if i is not None]


def _method(
    owner: str | bytes,
    method: str,
    args: list[str | bytes | None],
    node: ast.Call,
    resolver: Resolver,
    depth: int,
) -> str | bytes | None:
    if method == "join" and isinstance(owner, str) and node.args:
        pieces = _pieces(node.args[0], resolver, depth)
        return owner.join(pieces) if pieces is not None else None
    if method == "decode" and isinstance(owner, bytes):
        try:
            return owner.decode(*(a for a in args if isinstance(a, str)))
        except (UnicodeDecodeError, LookupError, TypeError):
            return None
    if method == "encode" and isinstance(owner, str):
        return owner.encode("utf-8", "replace")
    if method == "format" and isinstance(owner, str) and all(isinstance(a, str) for a in args):
        try:
            return owner.format(*args)
        except (IndexError, KeyError, ValueError):
            return None
    if method == "replace" and len(args) == 2 and all(type(a) is type(owner) for a in args):
        return owner.replace(args[0], args[1])  # type: ignore[arg-type]
    if method in _STR_METHODS and isinstance(owner, str) and not args:
        return str(getattr(owner, method)())
    return None


def _pieces(node: ast.AST, resolver: Resolver, depth: int) -> list[str] | None:
    """Strings of a join argument: folds in a list, `map(chr, [...])` or `chr(x) for x in [...]`."""
    if isinstance(node, ast.Name) and node.id in resolver.lists:
        return resolver.lists[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        out = [resolver.fold(e, depth) for e in node.elts]
        return (
            [s for s in out if isinstance(s, str)] if all(isinstance(s, str) for s in out) else None
        )
    if isinstance(node, ast.Call) and node.args:
        fn = resolver.name(node.func, depth)
        chr_map = fn in ("map", "builtins.map") and len(node.args) == 2
        if chr_map and resolver.name(node.args[0], depth) in ("chr", "builtins.chr"):
            ints = _int_list(node.args[1])
            return [chr(i) for i in ints] if ints is not None else None
        if fn in ("reversed", "builtins.reversed"):
            text = resolver.fold(node.args[0], depth)
            return list(text[::-1]) if isinstance(text, str) else None
    if isinstance(node, ast.GeneratorExp | ast.ListComp) and len(node.generators) == 1:
        elt, gen = node.elt, node.generators[0]
        if (
            isinstance(elt, ast.Call)
            and resolver.name(elt.func, depth) in ("chr", "builtins.chr")
            and not gen.ifs
        ):
            ints = _int_list(gen.iter)
            return [chr(i) for i in ints] if ints is not None else None
    text = resolver.fold(node, depth)
    return list(text) if isinstance(text, str) else None


def _int_list(node: ast.AST) -> list[int] | None:
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    out = [_int(e) for e in node.elts]
    return (
        None
        if any(i is None or not 0 <= i < 0x110000 for i in out)
        else [i for i in out if i is not None]
    )
