"""Speed work, in one place, behind one switch: MLSBOM_NO_SPEEDUPS=1 turns every trick off.

Without them mlsbom runs its plain flow, which gives the same reports: the engine walks the
targets, analyses each file, then asks the digest service it was handed (`digests.Digests`; the
plain one hashes each file here, one after another), and the SBOM renderer validates with the
library's own validator. The tricks, each measured in docs/benchmarks.md:

- `startup.begin` (the console entry, before click and the CLI are imported): reads the command
  line and starts hashing the files a hashing command names (`sbom`, `scan --sbom`), 0.02 s after
  start instead of 0.1-0.2 s;
- `hash_child.py` + `child_digests.ChildDigests`: files hashed by a stdlib-only child process
  on every core, largest first, away from this process's GIL; threads where it cannot start;
- `Speedups.begin`: the walk and the hashing start before rules and policy load, and what the
  command needs next (the SBOM writer, sigstore's verifier) is imported while the files hash;
- `schema.py`: jsonschema imported without the checkers of string formats a BOM of ours never
  holds (the IRI grammar alone costs 0.9 s), and validating with a linear-time `uniqueItems`
  (the library's is quadratic: 3.3 s for a 1,000-file BOM);
- `Speedups.exit`: leave without interpreter teardown (0.05-0.1 s of freeing modules).

The state these need (a child hashing since start-up) lives in the `Speedups` value the console
entry makes and hands to the CLI, never in a module. Kept to `os` and `sys` here: the console
entry imports this before anything else.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs 10 ms here
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import NoReturn

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from mlsbom.config import ScanConfig
    from mlsbom.digests import Digests
    from mlsbom.prescan import Walked
    from mlsbom.speed.hash_child import Prefetched

SWITCH = "MLSBOM_NO_SPEEDUPS"
SBOM_WRITER = ("mlsbom.sbom.render",)
SIGSTORE_VERIFIER = ("sigstore.models", "sigstore.verify")  # about 0.4 s to import


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """False when MLSBOM_NO_SPEEDUPS is set to anything but an empty value, 0, false or no."""
    value = (os.environ if environ is None else environ).get(SWITCH, "")
    return value.strip().lower() in ("", "0", "false", "no")


class Speedups:
    """The speed-ups of one run (or none: `enabled=False`), handed to the CLI by the console
    entry; every trick asks it, and nothing else decides."""

    __slots__ = ("_validators", "enabled", "prefetched")

    def __init__(self, enabled: bool = True, prefetched: Prefetched | None = None) -> None:
        self.enabled = enabled
        self.prefetched = prefetched if enabled else None
        self._validators: dict[SchemaVersion, JsonStrictValidator] = {}

    @classmethod
    def from_env(cls) -> Speedups:
        """As the switch says, with nothing hashing yet (the CLI run without the console entry,
        as tests and library callers do)."""
        return cls(enabled=enabled())

    def digests(self, warm: Sequence[str] = ()) -> Digests:
        """The digest service: a hashing child (adopting the prefetched files) that imports
        `warm` while it hashes, or the plain one."""
        if not self.enabled:
            from mlsbom.digests import InProcessDigests

            return InProcessDigests()
        from mlsbom.speed.child_digests import ChildDigests

        return ChildDigests(self.prefetched, warm=warm)

    def begin(self, targets: Sequence[str], config: ScanConfig) -> tuple[Walked | None, Digests]:
        """Walk the targets and start hashing now, before rules and policy load, then import
        what the command needs next while the files hash. Plain: (None, the plain service),
        and the scan walks and hashes in its own time."""
        digests = self.digests()
        if not self.enabled:
            return None, digests
        import importlib

        from mlsbom.prescan import start

        began = start(targets, config, digests)  # TargetError before anything is scanned
        warm: list[str] = []
        if config.hash_files:
            from mlsbom.speed.schema import import_jsonschema

            import_jsonschema()  # before the SBOM writer imports it whole
            warm += SBOM_WRITER
        if began.signed or config.signatures.required or config.signatures.attestations:
            warm += SIGSTORE_VERIFIER
        for module in warm:
            importlib.import_module(module)
        return began, digests

    def validator(self, version: SchemaVersion) -> JsonStrictValidator:
        """The SBOM's schema validator: linear `uniqueItems` (schema.py), or the library's."""
        if version not in self._validators:
            if self.enabled:
                from mlsbom.speed.schema import fast_validator

                self._validators[version] = fast_validator(version)
            else:
                from mlsbom.sbom.render import plain_validator

                self._validators[version] = plain_validator(version)
        return self._validators[version]

    def exit(self, code: object) -> NoReturn:
        """End the process with `code` (as `sys.exit` takes it): without interpreter teardown
        (exit handlers still run, the standard streams are flushed first), or plainly."""
        if not self.enabled:
            raise SystemExit(code)
        if not isinstance(code, int):
            if code is not None:
                print(code, file=sys.stderr)
            code = 0 if code is None else 1
        import atexit
        import contextlib

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
                stream.flush()
        os._exit(code)
