"""Native libraries and executables (ELF, PE, Mach-O) shipped beside weights.

Custom operators and "optimised kernels" are loaded with ctypes or torch.ops.load_library; a
binary in a model repository is code no Python-level review covers.
"""

from __future__ import annotations

import struct

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.facts import NativeBinary
from mlsbom.models import Format

_MACHO = {
    b"\xfe\xed\xfa\xce": "Mach-O 32-bit",
    b"\xce\xfa\xed\xfe": "Mach-O 32-bit",
    b"\xfe\xed\xfa\xcf": "Mach-O 64-bit",
    b"\xcf\xfa\xed\xfe": "Mach-O 64-bit",
}
_ELF_TYPES = {1: "relocatable", 2: "executable", 3: "shared library", 4: "core dump"}
_ELF_MACHINES = {3: "x86", 40: "arm", 62: "x86-64", 183: "aarch64", 243: "riscv"}


def identify(head: bytes) -> tuple[str, str] | None:
    """(format, detail) for ELF, PE and Mach-O headers, else None."""
    if head.startswith(b"\x7fELF") and len(head) >= 20:
        little = head[5] == 1
        etype, machine = struct.unpack("<HH" if little else ">HH", head[16:20])
        kind = _ELF_TYPES.get(etype, f"type {etype}")
        return "ELF", f"{kind}, {_ELF_MACHINES.get(machine, f'machine {machine}')}"
    if head.startswith(b"MZ") and len(head) >= 64:
        (pe_at,) = struct.unpack("<I", head[60:64])
        if pe_at + 6 <= len(head) and head[pe_at : pe_at + 4] == b"PE\x00\x00":
            (machine,) = struct.unpack("<H", head[pe_at + 4 : pe_at + 6])
            return "PE", f"machine 0x{machine:04x}"
        return None
    if head[:4] in _MACHO:
        return "Mach-O", _MACHO[head[:4]]
    if head.startswith(b"\xca\xfe\xba\xbe") and len(head) >= 8:
        (count,) = struct.unpack(">I", head[4:8])
        if 0 < count < 20:  # Java class files share the magic but carry a version >= 45 here
            return "Mach-O", f"universal binary, {count} architectures"
    return None


class NativeAnalyzer:
    formats: tuple[Format, ...] = (Format.NATIVE,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.NATIVE if identify(head) else None

    def analyze(self, job: Job) -> Analysis:
        found = identify(job.head)
        if found is None:
            return Analysis()
        return Analysis([NativeBinary(*found)])
