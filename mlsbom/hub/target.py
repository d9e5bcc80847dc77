"""`hf://[models/|datasets/|spaces/]org/name[@revision]` targets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlsbom.errors import TargetError

PREFIX = "hf://"
_KINDS = {"models": "model", "datasets": "dataset", "spaces": "space"}
_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True, slots=True)
class HubTarget:
    repo_type: str  # model | dataset | space
    repo_id: str
    revision: str | None

    def display(self, commit: str | None = None) -> str:
        kind = "" if self.repo_type == "model" else f"{self.repo_type}s/"
        rev = commit or self.revision
        return f"{PREFIX}{kind}{self.repo_id}" + (f"@{rev}" if rev else "")


def is_hub(target: str) -> bool:
    return target.startswith(PREFIX)


def parse(target: str) -> HubTarget:
    """Parse a hub target; TargetError (exit 2) when it is not one."""
    rest = target[len(PREFIX) :]
    repo, _, revision = rest.partition("@")
    repo_type = "model"
    head, _, tail = repo.partition("/")
    if head in _KINDS and tail:
        repo_type, repo = _KINDS[head], tail
    if "@" in rest and not revision:
        raise TargetError(
            f"empty revision in {target!r}",
            hint="write hf://org/name@REVISION (a branch, tag or commit), or leave out the @",
        )
    if not _REPO.match(repo) or ".." in repo or "/" not in repo:
        raise TargetError(
            f"not a hub repository: {target!r}",
            hint="write hf://org/name, hf://org/name@revision or hf://datasets/org/name "
            "(names without an org moved under one, e.g. hf://openai-community/gpt2)",
        )
    return HubTarget(repo_type, repo, revision or None)
