"""The ordered analyser registry: detection asks each `sniff` in this order; first answer wins."""

from __future__ import annotations

from mlsbom.analyzers.archives import ZipAnalyzer
from mlsbom.analyzers.base import Analyzer
from mlsbom.analyzers.compressed import CompressedAnalyzer
from mlsbom.analyzers.numpy_files import NumpyAnalyzer
from mlsbom.analyzers.pickles import PickleAnalyzer
from mlsbom.analyzers.plain import TextAnalyzer, UnknownAnalyzer
from mlsbom.analyzers.pytorch_legacy import TorchLegacyAnalyzer
from mlsbom.analyzers.safetensors_files import SafetensorsAnalyzer
from mlsbom.models import Format

REGISTRY: tuple[Analyzer, ...] = (
    ZipAnalyzer(),
    NumpyAnalyzer(),
    SafetensorsAnalyzer(),
    TorchLegacyAnalyzer(),
    PickleAnalyzer(),  # before compressed and text: protocol-0 pickles are ASCII
    CompressedAnalyzer(),
    TextAnalyzer(),
    UnknownAnalyzer(),  # last: claims everything
)

BY_FORMAT: dict[Format, Analyzer] = {fmt: a for a in REGISTRY for fmt in a.formats}
