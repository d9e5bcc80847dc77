"""NumPy `.npy` arrays: bounded header parse; object arrays are pickles and are walked as such."""

from __future__ import annotations

import ast
import io
import re
import struct
import tokenize

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.pickles import walk_pickles
from mlsbom.facts import Fact, NumpyArray, ParseError
from mlsbom.models import Format

MAGIC = b"\x93NUMPY"
MAX_HEADER = 64 << 10  # numpy itself refuses headers over 10,000 bytes by default
_ITEMSIZE = re.compile(r"^[<>|=]?[a-zA-Z?](\d+)$")


# what numpy 2.4 format.dtype_to_descr writes (dtype.str); anything else is not modelled
_PLAIN = re.compile(
    r"^[<>|=]?(b1|\?|[iu][1248]|f(2|4|8|16)|c(8|16|32)|[SUV]\d+|[Mm]8(\[\d*[A-Za-z]+\])?)$"
)
_OBJECT = re.compile(r"^([<>|=]?O[48]?|object_?|object0)$")


def classify(descr: object, depth: int = 0) -> str:
    """'object', 'plain' or 'unknown': mirrors numpy 2.4 format.descr_to_dtype's recursion.

    np.load (allow_pickle=True) unpickles the data when the dtype has objects anywhere; numpy
    accepts many spellings of that ('object', 'O', 'O,f8', …), so only the spellings numpy writes
    for plain types count as plain.
    """
    if depth > 32:
        return "unknown"
    if isinstance(descr, str):
        return "object" if _OBJECT.match(descr) else "plain" if _PLAIN.match(descr) else "unknown"
    if isinstance(descr, tuple):  # (base descr, shape)
        return classify(descr[0], depth + 1) if len(descr) == 2 else "unknown"
    if not isinstance(descr, list) or not descr:
        return "unknown"
    kinds = set()
    for field in descr:
        if not isinstance(field, (tuple, list)) or len(field) not in (2, 3):
            return "unknown"
        kinds.add(classify(field[1], depth + 1))
    return "object" if "object" in kinds else "unknown" if "unknown" in kinds else "plain"


def _filter_header(text: str) -> str:
    """numpy 2.4 format._filter_header: drop the `L` of Python 2 long literals (`2L`)."""
    kept: list[tokenize.TokenInfo] = []
    after_number = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if not (after_number and token.type == tokenize.NAME and token.string == "L"):
                kept.append(token)
            after_number = token.type == tokenize.NUMBER
    except (tokenize.TokenError, IndentationError) as exc:
        raise SyntaxError(str(exc)) from None
    return tokenize.untokenize(kept)


def parse_header(head: bytes) -> tuple[dict[str, object], int]:
    """Return the header dict and the data offset; raise ValueError if malformed."""
    if not head.startswith(MAGIC) or len(head) < 10:
        raise ValueError("not an .npy header")
    major = head[6]
    if major == 1:
        (length,), start = struct.unpack("<H", head[8:10]), 10
    elif major in (2, 3):
        if len(head) < 12:
            raise ValueError("truncated .npy header")
        (length,), start = struct.unpack("<I", head[8:12]), 12
    else:
        raise ValueError(f"unsupported .npy version {major}")
    if length > MAX_HEADER:
        raise ValueError(f".npy header of {length} bytes exceeds {MAX_HEADER}")
    raw = head[start : start + length]
    if len(raw) < length:
        raise ValueError("truncated .npy header")
    text = raw.decode("utf-8" if major == 3 else "latin-1")
    try:
        try:
            header = ast.literal_eval(text)
        except SyntaxError:
            if major == 3:
                raise
            header = ast.literal_eval(_filter_header(text))  # numpy retries Python 2 headers
    except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError) as exc:
        why = re.sub(r" at 0x[0-9a-f]+", "", str(exc))  # no memory addresses: stable output
        raise ValueError(f".npy header is not a Python literal: {why}") from None
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise ValueError(".npy header lacks descr/fortran_order/shape")
    return header, start + length


class NumpyAnalyzer:
    formats: tuple[Format, ...] = (Format.NUMPY,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.NUMPY if head.startswith(MAGIC) else None

    def analyze(self, job: Job) -> Analysis:
        head = job.head
        if len(head) < MAX_HEADER + 12 and (job.size is None or job.size > len(head)):
            with job.source.open() as f:
                head = f.read(MAX_HEADER + 12)
        try:
            header, data_offset = parse_header(head)
        except ValueError as exc:
            return Analysis([ParseError(str(exc), 0)])
        descr, shape = header["descr"], header["shape"]
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            return Analysis([ParseError(f"bad .npy shape {shape!r:.80}", 0)])
        facts: list[Fact] = []
        kind = classify(descr)
        is_object = kind == "object"
        facts.append(NumpyArray(str(descr)[:200], shape, is_object, data_offset))
        if kind == "unknown":  # np.load might unpickle the data: do not pass it unread
            facts.append(
                ParseError(f"dtype {descr!r:.80} is not one numpy writes; not modelled", 0)
            )
        if kind != "plain":
            with job.source.open() as f:
                f.seek(data_offset) if f.seekable() else f.read(data_offset)
                _, pickle_facts = walk_pickles(
                    f, job, start=data_offset, size=job.size, max_streams=1
                )
            facts.extend(pickle_facts)
        # numpy 2.4 format.read_array: a dtype without objects is read as count * itemsize raw
        # bytes and never unpickled; with objects anywhere, pickle.load(fp) reads one stream
        elif isinstance(descr, str) and kind == "plain" and job.size is not None:
            match = _ITEMSIZE.match(descr)
            if match:
                count = 1
                for n in shape:
                    count *= n
                need = data_offset + count * int(match.group(1)) * (4 if "U" in descr else 1)
                if job.size < need:
                    facts.append(ParseError(f"array data truncated: {job.size} of {need} bytes"))
        return Analysis(facts)
