"""The one error hierarchy; the CLI catches `MlsbomError` once and exits 2."""

from __future__ import annotations


class MlsbomError(Exception):
    """A usage or configuration error the user can fix."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """A human message: what is wrong and, where known, how to fix it."""
        text = f"error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class TargetError(MlsbomError):
    """A scan target is missing or not supported."""


class PolicyError(MlsbomError):
    """A policy file is malformed."""


class RuleError(MlsbomError):
    """A rule file in rules/ is malformed (a bug in the shipped rules or a custom rule)."""
