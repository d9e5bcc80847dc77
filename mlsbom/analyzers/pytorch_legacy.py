"""PyTorch's legacy (pre-1.6) checkpoint: five stacked pickles, then raw storage bytes."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.pickles import walk_pickles
from mlsbom.facts import ParseError, TorchCheckpoint
from mlsbom.models import Format

# pickle of the magic number 0x1950a86a20f9469cfc6c as LONG1, as torch.save writes it
MAGIC = b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_STREAMS = ("magic number", "protocol version", "system info", "object", "storage keys")


# Skips: none. torch 2.x serialization.py `_legacy_load` unpickles exactly these five streams,
# then reads each storage with `_set_from_file` (an 8-byte element count, then raw bytes) and
# unpickles nothing after them; mlsbom walks the five pickles and stops, so no byte torch reads
# as a pickle goes unwalked. The older tar layout (`legacy_load`: members sys_info, pickle,
# tensors, storages) is a tar: the tar analyser hands each member to detection.
class TorchLegacyAnalyzer:
    formats: tuple[Format, ...] = (Format.PYTORCH_LEGACY,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.PYTORCH_LEGACY if MAGIC in head[:32] else None

    def analyze(self, job: Job) -> Analysis:
        with job.source.open() as f:
            walker, facts = walk_pickles(
                f, job, size=job.size, max_streams=len(_STREAMS), tensor_stream="3"
            )
        complete = walker.streams_complete
        if complete < len(_STREAMS) and not walker.stopped:
            missing = _STREAMS[complete]
            facts.append(ParseError(f"legacy checkpoint ends before its {missing} pickle"))
        facts.append(TorchCheckpoint("legacy", _STREAMS[:complete], walker.persistent_ids))
        return Analysis(facts)
