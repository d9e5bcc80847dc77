"""Why a signature does not verify, said plainly: no library dumps, reprs or raw bytes."""

from __future__ import annotations

import re

from mlsbom.facts import SignatureStatus

_BYTES = re.compile(r"""b(['"]).*?(?<!\\)\1""")
_REPR = re.compile(r"<[A-Z][A-Za-z]*\(.*?\)>+")
_HEX = re.compile(r"\b[0-9a-f]{40,}\b")
_PYDANTIC_TAIL = re.compile(r"\s*\[type=.*$")
_MAX = 240
# What sigstore-python says -> what went wrong, for the messages users meet most.
_PLAIN = (
    (
        "candidates exhausted",
        "the signing certificate was not issued by a CA of the trusted root "
        "(another Sigstore instance, e.g. staging? give its --trusted-root)",
    ),
    (
        "cert is not valid at validation time",
        "a certificate in the chain was not valid when the signature was logged",
    ),
    (
        "inclusion proof contains invalid root hash",
        "the log entry's inclusion proof does not lead to the logged tree's root hash",
    ),
    (
        "Signature not found for log ID",
        "the log checkpoint is not signed by a log of the trusted root",
    ),
    ("entry must contain inclusion proof", "the bundle's log entry has no inclusion proof"),
    (
        "not enough sources of verified time",
        "no log entry or timestamp of the trusted root vouches for when this was signed",
    ),
    (
        "inconsistent with other materials",
        "the log entry records a different signature, certificate or artefact than the bundle",
    ),
    ("expected exactly one log entry", "the bundle has no transparency log entry"),
    ("invalid root hash signature", "the log checkpoint does not sign the proof's root hash"),
    (
        "checkpoint: invalid signature",
        "the log checkpoint's signature does not verify with the trusted root's log key",
    ),
    (
        "SCT verify failed",
        "the certificate's SCT does not verify with the trusted root's CT log key",
    ),
    (
        "Signature is invalid for input",
        "the signature does not verify over the artefact with the signing certificate",
    ),
    (
        "Integrated time only supported for",
        "sigstore-python cannot date this log entry kind (only dsse/hashedrekord 0.0.1 entries "
        "and signed timestamps)",
    ),
    (
        "SET: invalid inclusion promise",
        "the log's signed entry timestamp does not verify with the trusted root's log key",
    ),
)


class SignatureError(Exception):
    """The signature cannot be verified; `status` says how (never `verified`)."""

    def __init__(self, status: SignatureStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _pydantic(lines: list[str]) -> str | None:
    """`N validation error(s) for Model / field / message` -> `field: message`."""
    for i, line in enumerate(lines):
        if re.search(r"\d+ validation errors? for \w+", line) and i + 2 < len(lines):
            head = line.split(":")[0] + ": " if ":" in line else ""
            field, message = lines[i + 1].strip(), _PYDANTIC_TAIL.sub("", lines[i + 2].strip())
            message = message.removeprefix("Value error, ")
            return f"{head}{field}: {message}"
    return None


def clean_message(exc: BaseException | str, *, sigstore: bool = True) -> str:
    """One readable line from an exception raised by sigstore, cryptography or pydantic
    (`sigstore`: translate sigstore-python's wording of Sigstore failures)."""
    text = str(exc)
    for phrase, plain in _PLAIN if sigstore else _PLAIN[:0]:
        if phrase in text:
            return plain
    text = text.replace("validation failed: ", "").replace("candidates exhausted: ", "")
    args: tuple[object, ...] = getattr(exc, "args", ())
    if isinstance(exc, BaseException) and len(args) > 1 and all(isinstance(a, str) for a in args):
        text = str(args[0]).rstrip(": ")  # ('message: ', 'details with bytes') tuples
    lines = [line for line in text.splitlines() if line.strip()]
    text = _pydantic(lines) or (lines[0] if lines else type(exc).__name__)
    text = _REPR.sub("a certificate", text)
    text = _BYTES.sub("…", text)
    text = _HEX.sub(lambda m: m.group(0)[:16] + "…", text)
    text = re.sub(r"\s*\(encountered processing.*$", "", text)
    return text.strip()[:_MAX]
