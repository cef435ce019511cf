"""The vocabulary every analyzer speaks: findings, their fingerprints and severities, and the
per-analyzer results. Pure Python, beside the DesignModel, so that no analyzer imports the job
app (apps/analysis), the reports or another analyzer (tests/test_imports.py holds that)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, Literal

from apps.designs.engine.model import SEVERITIES, Problem, Severity, SourceRef

AnalyzerStatus = Literal["succeeded", "failed", "skipped"]


def fingerprint(analyzer: str, rule_id: str, key: str) -> str:
    """Stable across revisions: built from what the finding is about, never from line numbers."""
    return fingerprint_from(fingerprint_prefix(analyzer, rule_id), key)


def fingerprint_prefix(analyzer: str, rule_id: str) -> str:
    """What every fingerprint of a rule starts its hash with, for `fingerprint_from`."""
    return f"{analyzer}\x1f{rule_id}\x1f"


def fingerprint_from(prefix: str, key: str) -> str:
    """The fingerprint of `key` under a rule's `fingerprint_prefix`."""
    return hashlib.sha256((prefix + key).encode()).hexdigest()[:24]


_RANKS = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def severity_rank(severity: str) -> int:
    """0 for critical ... 4 for info."""
    return _RANKS[severity]


# Not frozen: a big specification yields a hundred thousand findings, and a frozen dataclass
# costs several times as much to build. Treat them as immutable all the same.
@dataclass(slots=True)
class Finding:
    analyzer: str
    rule_id: str
    severity: Severity
    title: str
    message: str
    fix: str
    locations: tuple[SourceRef, ...]
    fingerprint: str
    references: tuple[str, ...] = ()
    category: str = ""  # e.g. API1:2023 (OWASP API Security Top 10), DP for data protection
    cwe: str = ""
    # Set when the design itself waives the finding (x-workbench-ignore): where and why.
    suppressed: Mapping[str, Any] | None = None
    # Set by `ranking.rank`: the order reports list findings in, and what the finding concerns.
    priority: int = 0
    stories: tuple[str, ...] = ()  # ids of the stories that depend on it
    endpoints: tuple[str, ...] = ()  # METHOD /path of the operations it touches
    # Against a base revision (`ranking.mark_changes`): "new" or "unchanged"; "" without one.
    change: str = ""
    # Set when the generated endpoints answer it (apps/endpoints/engine/resolved.py): {"source":
    # "generation", "reason": what their code does}. The finding stays open: the pasted design still
    # has the gap. An annotation, not part of what the finding is (not compared).
    resolved_by: Mapping[str, Any] | None = field(default=None, compare=False)

    def replaced(self, **changes: Any) -> Finding:
        """A copy with `changes`, as `dataclasses.replace` makes it at a fourth of the cost (which
        looks every field up by name): the report copies each finding when ranking it."""
        copy = Finding(*_field_values(self))
        for name, value in changes.items():
            setattr(copy, name, value)
        return copy

    def as_dict(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "rule_id": self.rule_id,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "fix": self.fix,
            "references": list(self.references),
            "fingerprint": self.fingerprint,
            # a design-wide finding has thousands of places: no bound method made for each
            "locations": list(map(SourceRef.as_dict, self.locations)),
            "category": self.category,
            "cwe": self.cwe,
            "suppressed": dict(self.suppressed) if self.suppressed else None,
            "priority": self.priority,
            "stories": list(self.stories),
            "endpoints": list(self.endpoints),
            "change": self.change,
            "resolved_by": dict(self.resolved_by) if self.resolved_by else None,
        }


_field_values = attrgetter(*(f.name for f in fields(Finding)))


def finding_from_problem(problem: Problem) -> Finding:
    severity: Severity = "critical" if problem.fatal else problem.severity
    return Finding(
        analyzer="parse",
        rule_id=problem.code,
        severity=severity,
        title=problem.message[:1].upper() + problem.message[1:],
        message=problem.message,
        fix=problem.fix,
        locations=(problem.source,),
        fingerprint=fingerprint(
            "parse",
            problem.code,
            f"{problem.source.document}:{problem.source.pointer or problem.message}",
        ),
    )


@dataclass(frozen=True, slots=True)
class AnalyzerResult:
    name: str
    status: AnalyzerStatus
    reason: str = ""
    findings: tuple[Finding, ...] = ()
    section: Mapping[str, Any] | None = None  # the analyzer's own part of the report
    duration_ms: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)
