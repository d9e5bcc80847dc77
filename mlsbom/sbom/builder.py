"""ScanResult -> CycloneDX Bom (the library's model), one machine-learning-model per target.

Everything with a bom-ref gets an explicit, content-derived one so output is deterministic. The
parts the library does not model (`modelCard`) are added to the JSON afterwards by `modelcard.py`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cyclonedx.contrib.hash.factories import HashTypeFactory
from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import License
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from packageurl import PackageURL

from mlsbom import __version__
from mlsbom.facts import Fact, TensorSummary
from mlsbom.hub.walk import HubFile, HubRepository
from mlsbom.models import ArtifactResult, Finding, ScanResult, Severity
from mlsbom.provenance import (
    ConfigSummary,
    ModelCardInfo,
    ModelConfig,
    ProvenanceProblem,
    ShardIndexInfo,
)
from mlsbom.sbom.identity import ModelIdentity, hub_id, identify
from mlsbom.signing.check import SignatureCheck, SignatureFileMismatch

_SEVERITY = {
    Severity.INFO: VulnerabilitySeverity.INFO,
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
}


@dataclass(slots=True)
class ModelFacts:
    """Everything the scan learnt about one target, gathered for the BOM."""

    target: str
    identity: ModelIdentity
    files: list[ArtifactResult] = field(default_factory=list)
    members: list[ArtifactResult] = field(default_factory=list)
    config: ModelConfig | None = None
    card: ModelCardInfo | None = None
    summaries: list[ConfigSummary] = field(default_factory=list)
    shard_indexes: list[ShardIndexInfo] = field(default_factory=list)
    problems: list[ProvenanceProblem] = field(default_factory=list)
    extra: list[Fact] = field(default_factory=list)
    signatures: list[tuple[SignatureCheck, dict[str, str]]] = field(default_factory=list)
    hub: HubRepository | None = None


def _under(path: str, target: str) -> bool:
    base = target.rstrip("/")
    return path in (target, base) or path.startswith(base + "/")


def gather(result: ScanResult) -> list[ModelFacts]:
    """Split artefacts by target and pick out the provenance facts."""
    models = [ModelFacts(t, identify(t)) for t in result.targets]
    for art in result.artifacts:
        model = next((m for m in models if _under(art.ref.path, m.target)), None)
        if model is None:
            continue
        (model.members if art.ref.member_chain else model.files).append(art)
        for fact in art.facts:
            if isinstance(fact, ModelConfig) and art.ref.name == "config.json":
                model.config = model.config or fact
            elif isinstance(fact, ModelCardInfo):
                model.card = model.card or fact
            elif isinstance(fact, ConfigSummary):
                model.summaries.append(fact)
            elif isinstance(fact, ShardIndexInfo):
                model.shard_indexes.append(fact)
            elif isinstance(fact, ProvenanceProblem):
                model.problems.append(fact)
            elif isinstance(fact, HubRepository):
                model.hub = fact
                if model.identity.repo:
                    model.identity = dataclasses.replace(model.identity, revision=fact.commit)
            elif isinstance(fact, SignatureCheck):
                problems = {
                    f.file: f.problem for f in art.facts if isinstance(f, SignatureFileMismatch)
                }
                model.signatures.append((fact, problems))
    return models


def _props(pairs: Iterable[tuple[str, object]]) -> list[Property]:
    return [Property(name=f"mlsbom:{k}", value=str(v)) for k, v in pairs if v not in (None, "")]


def _rel(path: str, target: str) -> str:
    base = target.rstrip("/")
    return path[len(base) + 1 :] if path.startswith(base + "/") else path.rsplit("/", 1)[-1]


def file_ref(index: int, art_path: str, target: str) -> str:
    return f"model-{index}/file/{_rel(art_path, target)}"


def _verdict(arts: Sequence[ArtifactResult]) -> str:
    worst = max((a.worst for a in arts if a.worst is not None), default=None)
    return "pass" if worst is None else worst.label


def _file_component(
    index: int, model: ModelFacts, art: ArtifactResult, members: list[ArtifactResult]
) -> Component:
    props: list[tuple[str, object]] = [("format", art.format.value), ("size", art.size)]
    for fact in (f for a in (art, *members) for f in a.facts):
        if isinstance(fact, TensorSummary):
            props += [
                ("tensors", fact.tensors),
                ("dtypes", ",".join(fact.dtypes)),
                ("parameters", fact.parameters),
            ]
    props += [("members", len(members) or None), ("verdict", _verdict([art, *members]))]
    for fact in art.facts:
        if isinstance(fact, HubFile):  # what the hub claims; not verified without a download
            props += [
                ("hub:claimed-sha256", fact.claimed_sha256),
                ("hub:bytes-read", fact.bytes_read),
            ]
    props += [(f"signature:{k}", v) for k, v in signature_properties(model, art)]
    hashes = [HashTypeFactory().from_hashlib_alg("sha256", art.sha256)] if art.sha256 else []
    return Component(
        type=ComponentType.FILE,
        name=_rel(art.ref.path, model.target),
        bom_ref=file_ref(index, art.ref.path, model.target),
        hashes=hashes,
        properties=_props(props),
    )


def signature_properties(model: ModelFacts, art: ArtifactResult) -> list[tuple[str, object]]:
    """How the signatures over this file judged it (and, for a signature file, its result)."""
    out: list[tuple[str, object]] = []
    for check, problems in model.signatures:
        covers = check.covers.rstrip("/")
        if art.ref.path == covers:
            rel = art.ref.name
        elif art.ref.path.startswith(covers + "/"):
            rel = art.ref.path[len(covers) + 1 :]
        else:
            continue
        status = problems.get(rel, check.status)
        out += [("status", status), ("signer", check.signer), ("issuer", check.issuer)]
    for fact in art.facts:
        if isinstance(fact, SignatureCheck):
            out += [
                ("result", "intact" if fact.intact else fact.status),
                ("material", fact.material),
                ("signer", fact.signer),
                ("issuer", fact.issuer),
                ("covers", fact.covers),
                ("files", fact.files),
                ("differ", fact.differ),
            ]
    return list(dict.fromkeys(out))


def _licenses(card: ModelCardInfo | None) -> list[License]:
    if card is None or not card.license:
        return []
    factory = LicenseFactory()
    if card.license == "other" and card.license_name:
        return [factory.make_from_string(card.license_name)]
    return [factory.make_from_string(card.license)]


def _hub_component(kind: ComponentType, ref: str, name: str, *, dataset: bool = False) -> Component:
    repo = hub_id(name)
    purl = None
    refs = []
    if repo is not None:
        org, short = repo.split("/", 1)
        if not dataset:
            purl = PackageURL("huggingface", org, short)
        url = f"https://huggingface.co/{'datasets/' if dataset else ''}{repo}"
        refs = [ExternalReference(type=ExternalReferenceType.WEBSITE, url=XsUri(url))]
    return Component(type=kind, name=name, bom_ref=ref, purl=purl, external_references=refs)


def _model_component(
    index: int, model: ModelFacts, files: list[Component]
) -> tuple[Component, list[Component]]:
    ident, card, config = model.identity, model.card, model.config
    name = ident.name
    ancestors = [
        _hub_component(ComponentType.MACHINE_LEARNING_MODEL, f"model-{index}/ancestor/{b}", b)
        for b in (card.base_models if card else ())
    ]
    refs = []
    if ident.repo:
        url = f"https://huggingface.co/{ident.repo}"
        refs.append(ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(url)))
        refs.append(
            ExternalReference(
                type=ExternalReferenceType.DOCUMENTATION,
                url=XsUri(f"{url}/blob/{ident.revision or 'main'}/README.md"),
                comment="model card",
            )
        )
    props: list[tuple[str, object]] = [("target", model.target)]
    if config:
        props += [
            ("claimed-source", config.name_or_path),  # _name_or_path: unverified
            ("torch-dtype", config.torch_dtype),
            ("transformers-version", config.transformers_version),
        ]
    if card:
        props += [("library", card.library_name), ("language", ",".join(card.languages))]
    for summary in model.summaries:
        props += [(f"{summary.file}:{k}", v) for k, v in summary.items]
    for index_fact in model.shard_indexes:
        props += [(f"{index_fact.file}:shards", len(index_fact.shards))]
    props += [(f"metadata-problem:{p.file}", p.problem) for p in model.problems]
    if model.hub is not None:  # what the hub says about the repository
        hub = model.hub
        props += [
            ("hub:commit", hub.commit),
            ("hub:author", hub.author),
            ("hub:license", hub.license),
            ("hub:gated", hub.gated),
            ("hub:security-status", hub.security),
            ("hub:bytes-read", f"{hub.bytes_read} of {hub.total_bytes}"),
        ]
    props.append(("verdict", _verdict([*model.files, *model.members])))
    component = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=name,
        version=ident.revision,
        bom_ref=f"model-{index}",
        purl=PackageURL.from_string(ident.purl) if ident.purl else None,
        licenses=_licenses(card),
        external_references=refs,
        properties=_props(props),
        pedigree=Pedigree(ancestors=ancestors) if ancestors else None,
    )
    _add_in_order(component, files)
    return component, ancestors


def _add_in_order(parent: Component, files: list[Component]) -> None:
    """Nest file components under their model, added in the library's own order.

    cyclonedx-python-lib orders components by a 30-field tuple it builds afresh for every
    comparison; a set built from an unordered list costs about 18 such tuples per file (0.2 s per
    1,000 files). Added already in order (type, group and version are equal; names are unique
    paths), each insertion is an append: about 4 tuples. The order only affects speed, never the
    result.
    """
    for file in sorted(files, key=lambda c: c.name):
        parent.components.add(file)


def _vulnerability(n: int, finding: Finding, affects: str) -> Vulnerability:
    detail = finding.message
    where = finding.location.describe()
    if finding.artifact.member_chain:
        where = " > ".join(finding.artifact.member_chain) + (f" ({where})" if where else "")
    if where:
        detail += f" [at {where}]"
    if finding.evidence:
        detail += f"; evidence: {finding.evidence}"
    cwes = [int(c.split("-")[1]) for c in finding.cwe if c.startswith("CWE-") and c[4:].isdigit()]
    return Vulnerability(
        bom_ref=f"finding-{n}",
        id=finding.rule_id,
        source=VulnerabilitySource(name="mlsbom"),
        description=finding.title,
        detail=detail,
        recommendation=finding.remediation,
        cwes=cwes,
        ratings=[VulnerabilityRating(severity=_SEVERITY[finding.severity])],
        affects=[BomTarget(ref=affects)],
        analysis=VulnerabilityAnalysis(detail="waived by policy") if finding.waived else None,
    )


def build_bom(result: ScanResult, timestamp: datetime) -> tuple[Bom, list[ModelFacts]]:
    """The Bom for a scan result (modelCard is added to the JSON afterwards)."""
    models = gather(result)
    components: list[Component] = []
    dependencies: list[Dependency] = []
    vulns: list[Vulnerability] = []
    data: dict[str, Component] = {}
    for index, model in enumerate(models):
        files = []
        for art in model.files:
            members = [m for m in model.members if m.ref.path == art.ref.path]
            files.append(_file_component(index, model, art, members))
        component, ancestors = _model_component(index, model, files)
        components.append(component)
        deps = []
        for ancestor in ancestors:
            base = _hub_component(
                ComponentType.MACHINE_LEARNING_MODEL, f"base-model/{ancestor.name}", ancestor.name
            )
            if base.bom_ref.value not in data:
                data[str(base.bom_ref.value)] = base
            deps.append(Dependency(base.bom_ref))
        for dataset in model.card.datasets if model.card else ():
            comp = _hub_component(ComponentType.DATA, f"dataset/{dataset}", dataset, dataset=True)
            data.setdefault(str(comp.bom_ref.value), comp)
            deps.append(Dependency(data[str(comp.bom_ref.value)].bom_ref))
        dependencies.append(Dependency(component.bom_ref, dependencies=deps))
        for art in (*model.files, *model.members):
            affects = file_ref(index, art.ref.path, model.target)
            for finding in art.findings:
                vulns.append(_vulnerability(len(vulns), finding, affects))
    components.extend(data[k] for k in sorted(data))
    dependencies.extend(Dependency(data[k].bom_ref) for k in sorted(data))
    metadata = BomMetaData(
        timestamp=timestamp,
        component=components[0] if len(models) == 1 else None,
    )
    metadata.tools.components.add(
        Component(
            type=ComponentType.APPLICATION,
            name="mlsbom",
            version=__version__,
            bom_ref="tool/mlsbom",
        )
    )
    if len(models) == 1:
        components = components[1:]
    bom = Bom(
        components=components,
        metadata=metadata,
        dependencies=dependencies,
        vulnerabilities=vulns,
        serial_number=_serial(result, timestamp),
    )
    return bom, models


def _serial(result: ScanResult, timestamp: datetime) -> uuid.UUID:
    """Derived from the content, so the same input and epoch give the same BOM."""
    h = hashlib.sha256(timestamp.isoformat().encode())
    for art in result.artifacts:
        h.update(f"{art.ref.display}\0{art.sha256}\0{art.format.value}\0".encode())
        for f in art.findings:
            h.update(f"{f.rule_id}\0{f.location.describe()}\0".encode())
    return uuid.UUID(bytes=h.digest()[:16], version=5)
