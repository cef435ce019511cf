"""The one analysis pipeline behind the UI, the API and `manage.py analyze`.

Pure: texts in, an AnalysisOutcome out. The caller passes limits, the clock and a progress
callback; the Celery task and the command differ only in what they do with progress and
with the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from apps.analysis.engine.traceability import analyze_traceability
from apps.designs.engine.findings import AnalyzerResult, Finding, finding_from_problem
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import DesignModel, ParseResult
from apps.security.engine.review import analyze_security

# Opens a sandbox PostgreSQL session (apps.sandbox.engine); given by the caller, since the
# engines never reach a database on their own.
SandboxFactory = Callable[[], AbstractContextManager[Any]]


class NeedsSandboxError(Exception):
    """An analyzer needs the sandbox PostgreSQL and the caller gave none."""


@dataclass(frozen=True, slots=True)
class AnalyzerContext:
    sandbox: SandboxFactory | None = None
    # Timeouts a generated safe migration sets before its first statement.
    safe_lock_timeout_ms: int = 2_000
    safe_statement_timeout_ms: int = 300_000
    # A timestamp such as 20261126_1435 for names of generated files; given, never read here.
    stamp: str = ""
    # Synthetic row counts at which statement times are measured, then extrapolated.
    calibration_rows: tuple[int, ...] = (10_000, 40_000)
    calibration_max_tables: int = 40
    # A column or table that changed name: a rename (True) or a drop and an add (False).
    detect_renames: bool = True
    # Largest page a generated list operation serves.
    endpoints_max_page_size: int = 100


AnalyzerRun = Callable[[DesignModel, DesignModel | None, AnalyzerContext], tuple[list[Finding], dict[str, object]]]


@dataclass(frozen=True, slots=True)
class AnalyzerSpec:
    name: str
    title: str
    run: AnalyzerRun | None
    not_built: str = ""  # why it cannot run yet, shown in the report instead of results
    # Whether its findings are about the design (compared with the base revision's: new, fixed,
    # unchanged) rather than about the change itself (the migration preview's).
    compares: bool = False


def _traceability(
    model: DesignModel, base: DesignModel | None, context: AnalyzerContext
) -> tuple[list[Finding], dict[str, object]]:
    return analyze_traceability(model)


def _security(
    model: DesignModel, base: DesignModel | None, context: AnalyzerContext
) -> tuple[list[Finding], dict[str, object]]:
    return analyze_security(model)


def _migrations(
    model: DesignModel, base: DesignModel | None, context: AnalyzerContext
) -> tuple[list[Finding], dict[str, object]]:
    if context.sandbox is None:
        raise NeedsSandboxError("needs the sandbox PostgreSQL (SANDBOX_DATABASE_URL); none was given")
    # Imported on use: it drives Django's migration framework, which the other engines never load.
    from apps.migrations_preview.engine.analyzer import analyze_migrations

    return analyze_migrations(
        model,
        base,
        context.sandbox,
        lock_timeout_ms=context.safe_lock_timeout_ms,
        statement_timeout_ms=context.safe_statement_timeout_ms,
        stamp=context.stamp,
        calibration_rows=context.calibration_rows,
        calibration_max_tables=context.calibration_max_tables,
        detect_renames=context.detect_renames,
    )


def _endpoints(
    model: DesignModel, base: DesignModel | None, context: AnalyzerContext
) -> tuple[list[Finding], dict[str, object]]:
    # Imported on use: writing models.py from the migration preview's states loads Django.
    from apps.endpoints.engine.analyzer import analyze_endpoints

    return analyze_endpoints(model, max_page_size=context.endpoints_max_page_size)


ANALYZERS: tuple[AnalyzerSpec, ...] = (
    AnalyzerSpec("traceability", "Traceability", _traceability, compares=True),
    AnalyzerSpec("security", "Security checklist", _security, compares=True),
    AnalyzerSpec("migrations", "Migration preview", _migrations),
    AnalyzerSpec(
        "queryplans",
        "Query plans",
        None,
        "not built yet: EXPLAIN-based plan analysis is planned",
    ),
    AnalyzerSpec("endpoints", "Generated endpoints", _endpoints),
)
ANALYZER_NAMES: tuple[str, ...] = tuple(a.name for a in ANALYZERS)

# Stages a run goes through, for progress: parsing first, then each analyzer.
STAGES: tuple[str, ...] = ("parse", *ANALYZER_NAMES)

ProgressCallback = Callable[[str, str, int], None]  # (stage, state, percent done)


@dataclass(frozen=True, slots=True)
class AnalysisOutcome:
    parse: ParseResult
    base: ParseResult | None
    results: tuple[AnalyzerResult, ...]
    durations_ms: dict[str, float] = field(default_factory=dict)
    # With a base revision: the findings the comparing analyzers (AnalyzerSpec.compares) report on
    # it, for marking this revision's findings new or unchanged and listing the fixed ones.
    base_findings: tuple[Finding, ...] | None = None

    @property
    def analysable(self) -> bool:
        return self.parse.ok

    @property
    def findings(self) -> tuple[Finding, ...]:
        parse_findings = tuple(finding_from_problem(p) for p in self.parse.problems)
        return parse_findings + tuple(f for r in self.results for f in r.findings)


class UnknownAnalyzerError(ValueError):
    pass


def select_analyzers(only: tuple[str, ...] | None) -> tuple[str, ...]:
    if not only:
        return ANALYZER_NAMES
    unknown = [name for name in only if name not in ANALYZER_NAMES]
    if unknown:
        raise UnknownAnalyzerError(f"unknown analyzer {', '.join(unknown)}; choose from {', '.join(ANALYZER_NAMES)}")
    return tuple(only)


def analyze(
    inputs: DesignInput,
    *,
    limits: ParseLimits,
    base: DesignInput | None = None,
    only: tuple[str, ...] | None = None,
    on_progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.perf_counter,
    sandbox: SandboxFactory | None = None,
    context: AnalyzerContext | None = None,
) -> AnalysisOutcome:
    """Parse the design (and the base revision, if any) and run the selected analyzers.

    An analyzer that raises is reported as failed with its reason; the others still run.
    Raises UnknownAnalyzerError for a name not in ANALYZER_NAMES.
    """
    selected = select_analyzers(only)
    report = on_progress or (lambda stage, state, percent: None)
    total = len(STAGES)
    durations: dict[str, float] = {}

    report("parse", "running", 0)
    started = clock()
    parsed = parse_design(inputs, limits=limits)
    base_parsed = parse_design(base, limits=limits) if base is not None else None
    durations["parse"] = (clock() - started) * 1000
    report("parse", "succeeded" if parsed.ok else "failed", round(100 / total))

    context = AnalyzerContext(sandbox=sandbox) if context is None else context
    results: list[AnalyzerResult] = []
    compare = base_parsed is not None and base_parsed.ok and parsed.ok
    base_findings: list[Finding] = []
    for position, spec in enumerate(ANALYZERS, start=2):
        percent = round(100 * position / total)
        if spec.name not in selected:
            results.append(AnalyzerResult(spec.name, "skipped", "not selected"))
            report(spec.name, "skipped", percent)
            continue
        if spec.run is None:
            results.append(AnalyzerResult(spec.name, "skipped", spec.not_built))
            report(spec.name, "skipped", percent)
            continue
        if not parsed.ok:
            results.append(
                AnalyzerResult(
                    spec.name,
                    "skipped",
                    "the design could not be parsed; fix the problems listed first",
                )
            )
            report(spec.name, "skipped", percent)
            continue
        report(spec.name, "running", round(100 * (position - 1) / total))
        started = clock()
        try:
            findings, section = spec.run(parsed.model, base_parsed.model if base_parsed else None, context)
        except NeedsSandboxError as exc:
            results.append(AnalyzerResult(spec.name, "skipped", str(exc)))
            report(spec.name, "skipped", percent)
            continue
        except Exception as exc:  # an analyzer's bug must not take the others down
            elapsed = (clock() - started) * 1000
            results.append(
                AnalyzerResult(
                    spec.name,
                    "failed",
                    f"{type(exc).__name__}: {exc}",
                    duration_ms=elapsed,
                )
            )
            report(spec.name, "failed", percent)
            continue
        if compare and spec.compares and base_parsed is not None:
            try:
                base_findings += spec.run(base_parsed.model, None, context)[0]
            except Exception:  # the base is only compared with: without it, no finding is marked
                compare = False
        elapsed = (clock() - started) * 1000
        durations[spec.name] = elapsed
        results.append(
            AnalyzerResult(
                spec.name,
                "succeeded",
                findings=tuple(findings),
                section=section,
                duration_ms=elapsed,
            )
        )
        report(spec.name, "succeeded", percent)
    return AnalysisOutcome(
        parse=parsed,
        base=base_parsed,
        results=tuple(results),
        durations_ms=durations,
        base_findings=tuple(base_findings) if compare else None,
    )
