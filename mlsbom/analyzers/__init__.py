"""The ordered analyser registry: detection asks each `sniff` in this order; first answer wins."""

from __future__ import annotations

from mlsbom.analyzers.archives import ZipAnalyzer
from mlsbom.analyzers.base import Analyzer
from mlsbom.analyzers.chat_templates import ChatTemplateAnalyzer
from mlsbom.analyzers.compressed import CompressedAnalyzer
from mlsbom.analyzers.gguf import GgufAnalyzer
from mlsbom.analyzers.json_files import JsonAnalyzer
from mlsbom.analyzers.keras_files import KerasAnalyzer
from mlsbom.analyzers.native import NativeAnalyzer
from mlsbom.analyzers.notebooks import NotebookAnalyzer
from mlsbom.analyzers.numpy_files import NumpyAnalyzer
from mlsbom.analyzers.onnx_files import OnnxAnalyzer
from mlsbom.analyzers.pickles import PickleAnalyzer
from mlsbom.analyzers.plain import RepositoryAnalyzer, TextAnalyzer, UnknownAnalyzer
from mlsbom.analyzers.python_code import PythonAnalyzer
from mlsbom.analyzers.pytorch_legacy import TorchLegacyAnalyzer
from mlsbom.analyzers.safetensors_files import SafetensorsAnalyzer
from mlsbom.analyzers.savedmodel import SavedModelAnalyzer
from mlsbom.analyzers.sevenzip import SevenZipAnalyzer
from mlsbom.analyzers.signatures import SignatureFileAnalyzer
from mlsbom.analyzers.tar_archives import TarAnalyzer
from mlsbom.analyzers.yaml_files import YamlAnalyzer
from mlsbom.models import Format

REGISTRY: tuple[Analyzer, ...] = (
    ZipAnalyzer(),  # also PyTorch zips, TorchScript, .npz and .keras (classified by members)
    TarAnalyzer(),
    SevenZipAnalyzer(),
    NumpyAnalyzer(),
    SafetensorsAnalyzer(),
    GgufAnalyzer(),
    KerasAnalyzer(),  # HDF5 magic; Keras config.json only when forced by a .keras container
    NativeAnalyzer(),
    TorchLegacyAnalyzer(),
    PickleAnalyzer(),  # before compressed and text: protocol-0 pickles are ASCII
    CompressedAnalyzer(),
    OnnxAnalyzer(),  # protobuf has no magic: structure plus the name hint
    SavedModelAnalyzer(),
    SignatureFileAnalyzer(),  # before JSON: bundles are JSON
    NotebookAnalyzer(),  # before JSON: notebooks are JSON
    ChatTemplateAnalyzer(),  # by name (.jinja); before JSON: templates start with "{"
    JsonAnalyzer(),
    PythonAnalyzer(),
    YamlAnalyzer(),  # by name (.yaml, .yml, MLmodel), text only
    TextAnalyzer(),
    RepositoryAnalyzer(),  # never sniffed: set by the walk for hub and cache repositories
    UnknownAnalyzer(),  # last: claims everything
)

BY_FORMAT: dict[Format, Analyzer] = {fmt: a for a in REGISTRY for fmt in a.formats}
