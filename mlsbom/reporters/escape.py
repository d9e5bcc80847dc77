"""Escaping of scanned text (file and member names, pickle strings, template snippets) per output.

Everything a scanned artefact controls is untrusted: a name can carry a newline that forges a
report line, an ANSI escape that rewrites the terminal, a bidi override that reverses what a
reviewer reads, backticks that break out of Markdown code, characters XML 1.0 forbids, or bytes
that are not UTF-8 (Python keeps them as lone surrogates, `surrogateescape`). Every reporter
passes untrusted strings through the one function here that fits its output.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
import urllib.parse

# Categories shown escaped: controls, format characters (bidi overrides, zero-width joiners,
# BOM), surrogates (undecodable bytes), private use, unassigned, line/paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MAX_SHOWN = 2000  # one untrusted string never floods a report


@functools.lru_cache(maxsize=4096)
def _needs_escape(char: str) -> bool:
    if char == " ":
        return False
    category = unicodedata.category(char)
    return category in _ESCAPED_CATEGORIES or category == "Zs"


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, limit: int = _MAX_SHOWN) -> str:
    """One line of visible text: every control, format, separator or undecodable character is
    shown as a `\\xNN` / `\\uNNNN` escape; longer text is cut with a marker."""
    if len(text) > limit:
        text = text[:limit] + f"...[{len(text) - limit} more characters]"
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape_char(c) if _needs_escape(c) else c for c in text)


def printable_lines(text: str, limit: int = _MAX_SHOWN) -> list[str]:
    """Multi-line untrusted text (decompiled code): split on newlines only, each line printable."""
    return [printable(line, limit) for line in text.split("\n")]


def json_safe(text: str) -> str:
    """A string JSON (UTF-8) can carry: undecodable bytes become `\\xNN`, the rest is unchanged
    (json escapes control characters itself)."""
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return text
    return "".join(_escape_char(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def json_tree(value: object) -> object:
    """Every string the document carries, encodable as UTF-8 (undecodable names escaped)."""
    if isinstance(value, str):
        return json_safe(value)
    if isinstance(value, dict):
        return {json_safe(k): json_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_tree(v) for v in value]
    return value


def uri_path(path: str) -> str:
    """A relative URI reference for a path: its original bytes, percent-encoded (RFC 3986)."""
    return urllib.parse.quote(os.fsencode(path), safe="/-._~")


def md_code(text: str, limit: int = 300, *, in_table: bool = True) -> str:
    """Inline Markdown code that cannot be broken out of: visible escapes for control and
    bidi characters, a backtick fence longer than any run of backticks inside, padding where the
    content starts or ends with a backtick, and `|` escaped so a table cell stays one cell."""
    shown = printable(text, limit)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith(("`", " ")) or shown.endswith(("`", " ")) else ""
    code = f"{fence}{pad}{shown}{pad}{fence}"
    return code.replace("|", "\\|") if in_table else code


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()<>!|~&@:#])")


def md_text(text: str, limit: int = 300) -> str:
    """Markdown text with no markup of its own: the characters that start inline markup
    (emphasis, code, links, images, HTML, entities, autolinks, mentions, table cells) are
    backslash-escaped, controls shown escaped. For the reporter's own sentences; scanned text
    goes into `md_code`."""
    return _MD_SPECIAL.sub(r"\\\1", printable(text, limit))


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str, limit: int = _MAX_SHOWN) -> str:
    """Text valid in XML 1.0 (element text or attribute value): untrusted text is made printable,
    and any character XML forbids that is left is escaped; ElementTree adds the entity escapes."""
    return _XML_ILLEGAL.sub(lambda m: _escape_char(m.group()), printable(text, limit))
