"""The `mlsbom` command: flags -> config -> engine (facts, judge, policy) -> decide -> reporter
-> exit code.

Exit codes: 0 pass, 1 policy failure, 2 usage or tool error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlsbom import __version__
from mlsbom._cli_diff import diff_command
from mlsbom._cli_output import check_outputs, executor_option, report_options, write
from mlsbom._cli_output import guarded as _guarded
from mlsbom._cli_rules import rules
from mlsbom._cli_signing import render_verify, signer_options, signer_policy
from mlsbom._cli_sweep import JSONL, SweepOptions, check_sweep, run_sweep, sweep_options
from mlsbom.config import Limits, ScanConfig, cap_address_space
from mlsbom.errors import MlsbomError, TargetError
from mlsbom.models import ScanResult, Severity
from mlsbom.policy import VERIFY, Decision, Policy, decide
from mlsbom.policy_file import discover, load_policy
from mlsbom.progress import terminal_progress
from mlsbom.reporters import OutputFormat, reporter_for
from mlsbom.reporters.escape import printable
from mlsbom.reporters.text import NORMAL, QUIET, VERBOSE, plural
from mlsbom.rules import RuleSet, load_rules
from mlsbom.speed import SIGSTORE_VERIFIER, Speedups

if TYPE_CHECKING:
    from mlsbom.executors import Executor
    from mlsbom.hub.download import Downloads
    from mlsbom.signing.signers import SignerPolicy

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
_SEVERITIES = [s.label for s in Severity]

_spec_option = click.option(
    "--spec",
    type=click.Choice(["1.6", "1.7"]),
    default="1.6",
    envvar="MLSBOM_SBOM_SPEC",
    show_default=True,
    help="CycloneDX specification version of the BOM.",
)
_rules_option = click.option(
    "--rules",
    "rules_folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="MLSBOM_RULES",
    help="Judge with the rules (and classify with the lists) of this folder instead of the "
    "shipped ones; laid out like rules/ [default: the shipped rules].",
)


def _policy_options(purpose: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--policy, --no-policy and --debug for the commands besides scan."""

    def add(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option("--debug", is_flag=True, help="Show tracebacks for tool errors.")(func)
        func = click.option(
            "--no-policy", is_flag=True, help="Ignore .mlsbom.toml / [tool.mlsbom]."
        )(func)
        return click.option(
            "--policy",
            "policy_path",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="MLSBOM_POLICY",
            help=purpose,
        )(func)

    return add


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlsbom")
def cli() -> None:
    """Scan ML model artefacts for code that runs on load, without ever loading them.

    \b
    Environment variables (besides the [env var: MLSBOM_*] shown at each option):
      MLSBOM_CACHE_DIR     result cache folder for --cache (default ~/.cache/mlsbom)
      MLSBOM_MAX_MEMORY    address-space cap in bytes (default: the built-in limit)
      MLSBOM_HUB_TIMEOUT   seconds per Hugging Face Hub request (default 30)
      MLSBOM_HUB_CONCURRENCY  requests in flight per hub host (default 4)
      MLSBOM_HUB_RETRIES   retries after HTTP 429 (default 5)
      MLSBOM_HUB_MAX_WAIT  longest wait in seconds after HTTP 429 (default 60)
      MLSBOM_NO_SPEEDUPS   1: none of the speed-ups (the plain flow; the same reports)
      HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE   the Hugging Face Hub client's own
    """


@cli.command()
@click.argument("targets", nargs=-1)
@click.option(
    "--hf-cache",
    is_flag=True,
    help="Also scan every repository in the local Hugging Face cache (HF_HUB_CACHE).",
)
@click.option(
    "--download",
    is_flag=True,
    help="Download hf:// targets into a quarantine folder, scan them there (verifies every "
    "digest) and move them into the HF cache only when the scan passes.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="MLSBOM_BASELINE",
    help="A BOM of an earlier scan: report and fail only on findings it does not hold.",
)
@click.option(
    "--keep",
    "keep_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --download: move a failing repository here for inspection instead of deleting it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*(f.value for f in OutputFormat), JSONL]),
    default="text",
    envvar="MLSBOM_FORMAT",
    show_default=True,
    help="Report format (sarif for code scanning, junit for test reports, markdown for PRs, "
    "jsonl for one line per target as each completes).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the --format report here instead of stdout.",
)
@report_options
@sweep_options
@click.option(
    "-v", "--verbose", is_flag=True, help="Text report: list every artefact, passing ones too."
)
@click.option("-q", "--quiet", is_flag=True, help="Text report: only the verdict line.")
@click.option(
    "--fail-on",
    type=click.Choice(_SEVERITIES, case_sensitive=False),
    envvar="MLSBOM_FAIL_ON",
    help="Fail when a finding reaches this severity [default: high, or the policy's].",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MLSBOM_POLICY",
    help="Policy file (.mlsbom.toml or pyproject.toml with [tool.mlsbom]); by default the "
    "nearest one from the working directory up to the repository root.",
)
@click.option(
    "--no-policy", is_flag=True, help="Ignore .mlsbom.toml / [tool.mlsbom] found from the cwd."
)
@click.option(
    "--explain", is_flag=True, help="Add fickling's decompiled Python to flagged pickles."
)
@click.option(
    "--sbom",
    "sbom_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MLSBOM_SBOM",
    help="Also write a CycloneDX ML-BOM here (hashes every file).",
)
@_spec_option
@signer_options
@click.option(
    "--require-signature",
    is_flag=True,
    envvar="MLSBOM_REQUIRE_SIGNATURE",
    help="Fail unless every target carries a signature that verifies for an accepted signer.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    envvar="MLSBOM_JOBS",
    show_default=True,
    help="Worker processes for local files (output identical to --jobs 1); with --executor dask, "
    "the local cluster's workers.",
)
@executor_option
@click.option(
    "--cache",
    "use_cache",
    is_flag=True,
    envvar="MLSBOM_CACHE",
    help="Reuse results of unchanged files (keyed by content; MLSBOM_CACHE_DIR, default "
    "~/.cache/mlsbom). Made for pre-commit hooks.",
)
@click.option(
    "--skip-project-code",
    is_flag=True,
    help="Of the files named, leave out Python files no model config imports (a project's own "
    "scripts). Made for pre-commit hooks.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    help="Show a progress bar on stderr when it is a terminal.",
)
@_rules_option
@click.option("--debug", is_flag=True, help="Show tracebacks for tool errors.")
def scan(
    targets: tuple[str, ...],
    hf_cache: bool,
    download: bool,
    baseline: Path | None,
    keep_dir: Path | None,
    fmt: str,
    output: Path | None,
    reports: dict[OutputFormat, Path],
    sweep: SweepOptions,
    verbose: bool,
    quiet: bool,
    fail_on: str | None,
    policy_path: Path | None,
    no_policy: bool,
    explain: bool,
    sbom_path: Path | None,
    spec: str,
    identities: tuple[str, ...],
    issuers: tuple[str, ...],
    keys: tuple[Path, ...],
    cert_chains: tuple[Path, ...],
    trusted_root: Path | None,
    publishers: tuple[str, ...],
    ignore_paths: tuple[str, ...],
    attestations: tuple[Path, ...],
    require_signature: bool,
    jobs: int,
    executor: str,
    use_cache: bool,
    skip_project_code: bool,
    progress: bool,
    rules_folder: Path | None,
    debug: bool,
) -> None:
    """Scan files and folders (signatures included); exit 0 pass, 1 policy failure, 2 error."""

    def run() -> int:
        outputs = [("--output", output), ("--sbom", sbom_path)]
        check_outputs([*outputs, *((f"--{f.value}", p) for f, p in reports.items())])
        check_sweep(sweep, fmt, output)
        if verbose and quiet:
            raise MlsbomError("--verbose and --quiet exclude each other")
        signers = signer_policy(
            identities, issuers, keys, cert_chains, trusted_root, require_signature,
            ignore_paths, attestations, publishers,
        )  # fmt: skip
        chosen = targets
        if sweep.targets_from is not None:
            from mlsbom.sweep import read_targets

            chosen = (*targets, *read_targets(sweep.targets_from))
        if skip_project_code:
            from mlsbom.project_code import split_project_code

            chosen, skipped = split_project_code(chosen)
            if skipped and not chosen:
                files = plural(len(skipped), "project Python file")
                click.echo(f"PASS: {files}, none a model loader reads")
                return EXIT_PASS
            if skipped:
                click.echo(
                    f"note: left out {plural(len(skipped), 'project Python file')}", err=True
                )
        chosen = _with_cache(chosen, hf_cache)
        if sweep.active(fmt):
            if download:
                raise MlsbomError("--download does not combine with --format jsonl or --sbom-dir")
            return sweep_targets(chosen, signers)
        if download:
            from mlsbom.hub.download import Downloads

            with Downloads(keep_dir) as downloads:
                return scan_targets(downloads.fetch(chosen), signers, downloads)
        if keep_dir is not None:
            raise MlsbomError("--keep needs --download", hint="add --download, or drop --keep")
        return scan_targets(chosen, signers, None)

    def scan_targets(
        chosen: tuple[str, ...], signers: SignerPolicy, downloads: Downloads | None
    ) -> int:
        config = ScanConfig(
            explain=explain,
            hash_files=sbom_path is not None,
            signatures=signers,
            jobs=jobs,
            executor=executor,
            cache=use_cache,
            progress=terminal_progress(progress),
        )
        rules, result, decision = _scan_and_decide(
            chosen, config, policy_path, no_policy, fail_on, baseline, rules_folder
        )
        if downloads is not None:
            result = downloads.annotate(result)
            for note in downloads.settle(decision.passed):
                click.echo(note, err=True)
        report(rules, result, decision)
        return EXIT_PASS if decision.passed else EXIT_FAIL

    def sweep_targets(chosen: tuple[str, ...], signers: SignerPolicy) -> int:
        config = ScanConfig(
            explain=explain,
            hash_files=sbom_path is not None or sweep.sbom_dir is not None,
            signatures=signers,
            jobs=jobs,
            executor=executor,
            cache=use_cache,
        )
        from mlsbom.executors import executor_for

        with contextlib.closing(executor_for(executor, jobs)) as shared:  # workers live on
            return sweep_with(chosen, config, shared)

    def sweep_with(chosen: tuple[str, ...], config: ScanConfig, shared: Executor) -> int:
        from mlsbom.sweep import concurrent, judge_targets, merged
        from mlsbom.sweep import sweep as in_turn

        rules, policy, config = _judging(config, policy_path, no_policy, fail_on, rules_folder)
        view = None
        if baseline is not None:
            from mlsbom.sbom.diff import load_view

            view = load_view(baseline)

        def check(result: ScanResult) -> ScanResult:
            _require_files(result)
            if view is not None:
                from mlsbom.sbom.baseline import without_baseline

                result, _ = without_baseline(result, view)
            return result

        judge = judge_targets(config, rules, policy, check, shared, _speedups().digests)
        keep = fmt != JSONL or bool(reports) or sbom_path is not None
        runner = in_turn if shared.name != "dask" else concurrent(max(4, 4 * jobs))
        bar = terminal_progress(progress, unit="targets")
        code, outcomes = run_sweep(sweep, chosen, judge, fmt, output, spec, keep, runner, bar)
        if keep:
            whole = merged(outcomes)
            report(rules, whole, decide(whole, policy), primary=fmt != JSONL)
        return code

    def report(
        rules: RuleSet, result: ScanResult, decision: Decision, primary: bool = True
    ) -> None:
        if sbom_path is not None:
            from mlsbom.sbom.render import render_sbom

            write(render_sbom(result, spec, validator=_speedups().validator), sbom_path)
        verbosity = VERBOSE if verbose else QUIET if quiet else NORMAL
        for extra, path in reports.items():
            write(reporter_for(extra, rules, verbosity=verbosity).render(result, decision), path)
        if primary:
            color = output is None and fmt == "text" and sys.stdout.isatty()
            main = reporter_for(OutputFormat(fmt), rules, color=color, verbosity=verbosity)
            write(main.render(result, decision), output)

    sys.exit(_guarded(run, debug))


def _with_cache(targets: tuple[str, ...], hf_cache: bool) -> tuple[str, ...]:
    """The targets, plus every cached hub repository with --hf-cache; at least one target."""
    if hf_cache:
        from mlsbom.hub.cache import cached_repos, hub_cache_root

        repos = cached_repos()
        if not repos and not targets:
            raise MlsbomError(f"no repositories in the Hugging Face cache {hub_cache_root()}")
        targets = (*targets, *(str(r) for r in repos))
    if not targets:
        raise MlsbomError("no target given", hint="mlsbom scan PATH|hf://org/name, or --hf-cache")
    return targets


def _scan_and_decide(
    targets: tuple[str, ...],
    config: ScanConfig,
    policy_path: Path | None,
    no_policy: bool,
    fail_on: str | None,
    baseline: Path | None = None,
    rules_folder: Path | None = None,
) -> tuple[RuleSet, ScanResult, Decision]:
    began, digests = _speedups().begin(targets, config)  # hashing while rules and policy load
    from mlsbom.engine import scan as run_scan

    rules, policy, config = _judging(config, policy_path, no_policy, fail_on, rules_folder)
    result = run_scan(targets, config, rules, began, digests=digests, policy=policy)
    _require_files(result)
    if baseline is not None:
        from mlsbom.sbom.baseline import without_baseline
        from mlsbom.sbom.diff import load_view

        result, known = without_baseline(result, load_view(baseline))
        click.echo(f"{known} findings already in the baseline {baseline} not reported", err=True)
    return rules, result, decide(result, policy)


def _judging(
    config: ScanConfig,
    policy_path: Path | None,
    no_policy: bool,
    fail_on: str | None,
    rules_folder: Path | None = None,
) -> tuple[RuleSet, Policy, ScanConfig]:
    """The rules, the policy (file, then --fail-on) and the config with its signers merged."""
    rules = load_rules(rules_folder)
    found = policy_path or (None if no_policy else discover())
    policy = load_policy(found, rules) if found else Policy()
    if fail_on:
        policy = dataclasses.replace(policy, fail_on=Severity.parse(fail_on))
    signers = policy.signatures.merged(config.signatures)
    return rules, policy, dataclasses.replace(config, signatures=signers)


def _require_files(result: ScanResult) -> None:
    """An empty folder is a usage error, not a pass: a CI gate must not go green on nothing."""
    walked = {a.ref.target for a in result.artifacts if a.ref.path != a.ref.target}
    for target in result.targets:
        if target.startswith("hf://") or not os.path.isdir(target):
            continue
        if target not in walked:
            raise TargetError(  # in a sweep: an error for this target, the others go on
                f"nothing to scan in {printable(target)}: the folder holds no files",
                hint="check the path; an empty folder is reported as an error so that a "
                "CI gate never passes on nothing",
            )


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the BOM here."
)
@_spec_option
@executor_option
@_rules_option
@_policy_options("Policy file whose waivers and overrides apply to the recorded findings.")
def sbom(
    targets: tuple[str, ...],
    output: Path | None,
    spec: str,
    executor: str,
    rules_folder: Path | None,
    policy_path: Path | None,
    no_policy: bool,
    debug: bool,
) -> None:
    """Write a CycloneDX ML-BOM of the targets (findings included); exit 0, or 2 on error."""

    def run() -> int:
        check_outputs([("--output", output)])
        config = ScanConfig(hash_files=True, executor=executor)
        _, result, _ = _scan_and_decide(
            targets, config, policy_path, no_policy, None, rules_folder=rules_folder
        )
        from mlsbom.sbom.render import render_sbom

        write(render_sbom(result, spec, validator=_speedups().validator), output)
        return EXIT_PASS

    sys.exit(_guarded(run, debug))


@cli.command()
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--signature",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The model.sig to check TARGET against [default: TARGET/model.sig, or FILE.sigstore.json"
    " / FILE.sigstore beside a file].",
)
@signer_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@_policy_options("Policy file whose [signatures] signers are accepted too.")
def verify(
    target: Path,
    signature: Path | None,
    identities: tuple[str, ...],
    issuers: tuple[str, ...],
    keys: tuple[Path, ...],
    cert_chains: tuple[Path, ...],
    trusted_root: Path | None,
    publishers: tuple[str, ...],
    ignore_paths: tuple[str, ...],
    attestations: tuple[Path, ...],
    fmt: str,
    policy_path: Path | None,
    no_policy: bool,
    debug: bool,
) -> None:
    """Verify TARGET's signatures offline; exit 0 verified, 1 not (unsigned, invalid, untrusted,
    mismatch), 2 usage error."""
    from mlsbom.engine import verify as verify_scan

    def run() -> int:
        signers = signer_policy(
            identities, issuers, keys, cert_chains, trusted_root, False, ignore_paths, attestations,
            publishers,
        )  # fmt: skip
        rules = load_rules()
        found = policy_path or (None if no_policy else discover())
        if found:
            signers = load_policy(found, rules).signatures.merged(signers)
        digests = _speedups().digests(warm=SIGSTORE_VERIFIER)
        result = verify_scan(target, signature, signers, rules, digests)
        decision = decide(result, VERIFY)
        click.echo(render_verify(result, decision, fmt), nl=False)
        return EXIT_PASS if decision.passed else EXIT_FAIL

    sys.exit(_guarded(run, debug))


cli.add_command(rules)
cli.add_command(diff_command)


def _show_envvars(group: click.Group) -> None:
    """`--help` names the MLSBOM_* variable beside every option that reads one."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _show_envvars(command)
        for param in command.params:
            if isinstance(param, click.Option) and param.envvar:
                param.show_envvar = True


_show_envvars(cli)


def _speedups() -> Speedups:
    """This run's speed-ups: the console entry's (files may be hashing since start-up), or as
    the switch says (MLSBOM_NO_SPEEDUPS) when the CLI is run without it."""
    ctx = click.get_current_context(silent=True)
    given = ctx.find_object(Speedups) if ctx is not None else None
    return given or Speedups.from_env()


def main(speed: Speedups | None = None) -> None:
    """Console entry point: bounded memory for the whole process, then the command."""
    speed = speed or Speedups.from_env()
    cap_address_space(Limits().max_address_space)
    try:
        cli(prog_name="mlsbom", obj=speed)
    except SystemExit as done:
        speed.exit(done.code)
    speed.exit(0)
