"""Jinja chat templates: parsed, never rendered; sandbox-escape gadgets are facts."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class ChatTemplateAnalyzer:
    formats: tuple[Format, ...] = (Format.CHAT_TEMPLATE,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
