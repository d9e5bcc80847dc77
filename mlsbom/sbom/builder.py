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
from pathlib import PurePath

from cyclonedx.contrib.hash.factories import HashTypeFactory
from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisJustification,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
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
from mlsbom.facts import (
    ConfigSummary,
    Fact,
    HubFile,
    HubRepository,
    ModelCardInfo,
    ModelConfig,
    ProvenanceProblem,
    ShardIndexInfo,
    SignatureCheck,
    SignatureFileMismatch,
    SignatureFileProblem,
    TensorSummary,
)
from mlsbom.models import ArtifactResult, Finding, ScanResult, Severity
from mlsbom.sbom.identity import ModelIdentity, hub_id, identify

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
    signatures: list[tuple[SignatureCheck, dict[str, SignatureFileProblem]]] = field(
        default_factory=list
    )
    hub: HubRepository | None = None
    ref: str = ""  # the model's bom-ref: from its identity, unique within the BOM

    @property
    def key(self) -> str:
        """Who the model is, without where it lies: `org/name@revision`, or the folder name."""
        ident = self.identity
        if ident.repo:
            return f"{ident.repo}@{ident.revision}" if ident.revision else ident.repo
        return ident.name

    def file_ref(self, art_path: str) -> str:
        return f"{self.ref}/file/{relative_path(art_path, self.target)}"


def gather(result: ScanResult) -> list[ModelFacts]:
    """Split artefacts by target and pick out the provenance facts."""
    models = [ModelFacts(t, identify(t)) for t in result.targets]
    by_target = {m.target: m for m in reversed(models)}  # a repeated target: its first model
    for art in result.artifacts:
        model = by_target.get(art.ref.target)
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
    seen: dict[str, int] = {}
    for model in models:  # same identity twice (two folders named `model`): number the later ones
        n = seen[model.key] = seen.get(model.key, 0) + 1
        model.ref = f"model/{model.key}" + (f"#{n}" if n > 1 else "")
    return models


def _props(pairs: Iterable[tuple[str, object]]) -> list[Property]:
    return [Property(name=f"mlsbom:{k}", value=str(v)) for k, v in pairs if v not in (None, "")]


def relative_path(path: str, target: str) -> str:
    """A path relative to its target (a single-file target: the file name)."""
    base = target.rstrip("/")
    return path[len(base) + 1 :] if path.startswith(base + "/") else path.rsplit("/", 1)[-1]


def _worst_label(arts: Sequence[ArtifactResult]) -> str:
    """`pass` or the worst active severity: the BOM's `verdict` (not pass/warn/fail)."""
    worst = max((a.worst for a in arts if a.worst is not None), default=None)
    return "pass" if worst is None else worst.label


def _file_component(
    model: ModelFacts, art: ArtifactResult, members: list[ArtifactResult]
) -> Component:
    props: list[tuple[str, object]] = [("format", art.format.value), ("size", art.size)]
    for fact in (f for a in (art, *members) for f in a.facts):
        if isinstance(fact, TensorSummary):
            props += [
                ("tensors", fact.tensors),
                ("dtypes", ",".join(fact.dtypes)),
                ("parameters", fact.parameters),
            ]
    props += [("members", len(members) or None), ("verdict", _worst_label([art, *members]))]
    for fact in art.facts:
        if isinstance(fact, HubFile):  # what the hub claims; verified only when hashed here
            props += [
                ("hub:claimed-sha256", fact.claimed_sha256),
                ("hub:sha256-status", _claim_status(fact.claimed_sha256, art.sha256)),
                ("hub:bytes-read", fact.bytes_read),
            ]
    props += [(f"signature:{k}", v) for k, v in signature_properties(model, art)]
    hashes = [HashTypeFactory().from_hashlib_alg("sha256", art.sha256)] if art.sha256 else []
    return Component(
        type=ComponentType.FILE,
        name=relative_path(art.ref.path, model.target),
        bom_ref=model.file_ref(art.ref.path),
        hashes=hashes,
        properties=_props(props),
    )


def _claim_status(claimed: str | None, actual: str | None) -> str | None:
    """Whether the hub's LFS sha256 for a file was checked against the bytes mlsbom hashed."""
    if claimed is None:
        return None
    if actual is None:
        return "claimed by the hub, not verified (file not read whole)"
    return "verified" if claimed == actual else f"differs from the bytes read (sha256 {actual})"


def signature_properties(model: ModelFacts, art: ArtifactResult) -> list[tuple[str, object]]:
    """How the signatures over this file judged it (and, for a signature file, its result)."""
    out: list[tuple[str, object]] = []
    where = PurePath(art.ref.path)  # a display path, compared as the file system path it names
    for check, problems in model.signatures:
        covers = PurePath(check.covers)  # built from Path(target): `./m/` is `m`
        if where == covers:
            rel = art.ref.name
        elif covers in where.parents:
            rel = where.relative_to(covers).as_posix()
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
    from cyclonedx.contrib.license.factories import LicenseFactory  # 0.1-0.2 s: SPDX lists

    factory = LicenseFactory()
    if card.license == "other" and card.license_name:
        return [factory.make_from_string(card.license_name)]
    return [factory.make_from_string(card.license)]


def _hub_url(repo: str, *, dataset: bool = False) -> str:
    """The repository's page on the configured hub (HF_ENDPOINT, else huggingface.co)."""
    from mlsbom.hub.remote import endpoint

    return f"{endpoint()}/{'datasets/' if dataset else ''}{repo}"


def _hub_component(
    kind: ComponentType, ref: str, name: str, *, dataset: bool = False, purl: bool = True
) -> Component:
    """A base model or dataset named by a card; `purl=False` for a pedigree's reference to it."""
    repo = hub_id(name)
    package = None
    refs = []
    if repo is not None:
        org, short = repo.split("/", 1)
        if purl and not dataset:
            package = PackageURL("huggingface", org, short)
        url = _hub_url(repo, dataset=dataset)
        refs = [ExternalReference(type=ExternalReferenceType.WEBSITE, url=XsUri(url))]
    return Component(type=kind, name=name, bom_ref=ref, purl=package, external_references=refs)


def _model_component(model: ModelFacts, files: list[Component]) -> tuple[Component, list[str]]:
    """The model's component (files nested) and the base models its card names.

    The base models appear once each as top-level components with their purl; the pedigree
    names them again without one, so each purl stays on one component.
    """
    ident, card, config = model.identity, model.card, model.config
    name = ident.name
    bases = list(dict.fromkeys(card.base_models if card else ()))
    ancestors = [
        _hub_component(
            ComponentType.MACHINE_LEARNING_MODEL, f"{model.ref}/ancestor/{b}", b, purl=False
        )
        for b in bases
    ]
    refs = []
    if ident.repo:
        url = _hub_url(ident.repo)
        refs.append(ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(url)))
        refs.append(
            ExternalReference(
                type=ExternalReferenceType.DOCUMENTATION,
                url=XsUri(f"{url}/blob/{ident.revision or 'main'}/README.md"),
                comment="model card",
            )
        )
    props: list[tuple[str, object]] = [("target", model.key)]
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
    props.append(("verdict", _worst_label([*model.files, *model.members])))
    author = model.hub.author if model.hub is not None and model.hub.author else None
    author = author or (ident.repo.split("/", 1)[0] if ident.repo else None)
    component = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=name,
        version=ident.revision,
        bom_ref=model.ref,
        purl=PackageURL.from_string(ident.purl) if ident.purl else None,
        supplier=OrganizationalEntity(name=author) if author else None,
        authors=[OrganizationalContact(name=author)] if author else None,
        licenses=_licenses(card),
        external_references=refs,
        properties=_props(props),
        pedigree=Pedigree(ancestors=ancestors) if ancestors else None,
    )
    _add_in_order(component, files)
    return component, bases


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


def _finding_ref(finding: Finding, affects: str, seen: dict[str, int]) -> str:
    """A bom-ref from what the finding is (rule, file, member, location), not its position."""
    key = "\0".join(
        (finding.rule_id, affects, *finding.artifact.member_chain, finding.location.describe())
    )
    ref = f"finding/{finding.rule_id}/{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    n = seen[ref] = seen.get(ref, 0) + 1
    return ref if n == 1 else f"{ref}#{n}"


def _waiver_analysis(finding: Finding) -> VulnerabilityAnalysis | None:
    """A waived finding as VEX: accepted by the policy, with the waiver's reason and expiry."""
    if not finding.waived:
        return None
    detail = f"waived by policy: {finding.waiver_reason or 'no reason given'}"
    if finding.waiver_expires:
        detail += f" (until {finding.waiver_expires})"
    return VulnerabilityAnalysis(
        state=ImpactAnalysisState.NOT_AFFECTED,
        justification=ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
        responses=[ImpactAnalysisResponse.WILL_NOT_FIX],
        detail=detail,
    )


def finding_detail(finding: Finding) -> str:
    """The vulnerability's `detail`: message, where in the file, evidence (also a diff key)."""
    detail = finding.message
    where = finding.location.describe()
    if finding.artifact.member_chain:
        where = " > ".join(finding.artifact.member_chain) + (f" ({where})" if where else "")
    if where:
        detail += f" [at {where}]"
    if finding.evidence:
        detail += f"; evidence: {finding.evidence}"
    return detail


def _vulnerability(ref: str, finding: Finding, affects: str) -> Vulnerability:
    detail = finding_detail(finding)
    cwes = [int(c.split("-")[1]) for c in finding.cwe if c.startswith("CWE-") and c[4:].isdigit()]
    return Vulnerability(
        bom_ref=ref,
        id=finding.rule_id,
        source=VulnerabilitySource(name="mlsbom"),
        description=finding.title,
        detail=detail,
        recommendation=finding.remediation,
        cwes=cwes,
        ratings=[VulnerabilityRating(severity=_SEVERITY[finding.severity])],
        affects=[BomTarget(ref=affects)],
        analysis=_waiver_analysis(finding),
    )


def build_bom(result: ScanResult, timestamp: datetime) -> tuple[Bom, list[ModelFacts]]:
    """The Bom for a scan result (modelCard is added to the JSON afterwards)."""
    models = gather(result)
    components: list[Component] = []
    dependencies: list[Dependency] = []
    vulns: list[Vulnerability] = []
    data: dict[str, Component] = {}
    refs: dict[str, int] = {}
    for model in models:
        files = []
        for art in model.files:
            members = [m for m in model.members if m.ref.path == art.ref.path]
            files.append(_file_component(model, art, members))
        component, bases = _model_component(model, files)
        components.append(component)
        deps = []
        for name in bases:
            base = _hub_component(ComponentType.MACHINE_LEARNING_MODEL, f"base-model/{name}", name)
            data.setdefault(str(base.bom_ref.value), base)
            deps.append(Dependency(base.bom_ref))
        for dataset in model.card.datasets if model.card else ():
            comp = _hub_component(ComponentType.DATA, f"dataset/{dataset}", dataset, dataset=True)
            data.setdefault(str(comp.bom_ref.value), comp)
            deps.append(Dependency(data[str(comp.bom_ref.value)].bom_ref))
        dependencies.append(Dependency(component.bom_ref, dependencies=deps))
        for art in (*model.files, *model.members):
            affects = model.file_ref(art.ref.path)
            for finding in art.findings:
                vulns.append(_vulnerability(_finding_ref(finding, affects, refs), finding, affects))
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
        serial_number=_serial(models, timestamp),
    )
    return bom, models


def _serial(models: list[ModelFacts], timestamp: datetime) -> uuid.UUID:
    """From the content, not where it lies: the same input and epoch give the same BOM."""
    h = hashlib.sha256(timestamp.isoformat().encode())
    for model in models:
        for art in (*model.files, *model.members):
            name = " > ".join((model.file_ref(art.ref.path), *art.ref.member_chain))
            h.update(f"{name}\0{art.sha256}\0{art.format.value}\0".encode())
            for f in art.findings:
                h.update(f"{f.rule_id}\0{f.location.describe()}\0".encode())
    return uuid.UUID(bytes=h.digest()[:16], version=5)
