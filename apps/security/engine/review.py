"""The security review of a DesignModel: OWASP API Security Top 10 (2023) and data protection.

Input: the DesignModel, including its raw OpenAPI document (`api_document`). Output: findings
(each with category, CWE, evidence pointers and a fix) and the checklist section of the report.

The rules live in `rules/` by subject; `reporter.Review` builds and locates their findings and
drops a rule's second finding for the same key, so the order the groups run in decides which
one is kept: the stories' rules run first, and where a story speaks about an operation its
finding wins.

Schema rules visit every object of the document once, where it is written, the way Spectral's
OWASP ruleset does on the bundled document; `$ref`s are not followed there, so a schema used by
hundreds of operations is reported once. Examples and `x-` extensions are data, not schemas, and
are not visited. An object carrying `x-workbench-ignore: [rule-id, ...]` waives those rules for
itself and everything inside it (see `reporter`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from apps.designs.engine.bulk import bulk_step, settle
from apps.designs.engine.findings import Finding, severity_rank
from apps.designs.engine.model import SEVERITIES, DesignModel
from apps.security.engine.catalog import CATEGORIES, RULES
from apps.security.engine.reporter import Review
from apps.security.engine.rules.bodies import body_rules
from apps.security.engine.rules.data_protection import data_rules
from apps.security.engine.rules.functions import function_rules
from apps.security.engine.rules.operations import operation_rules
from apps.security.engine.rules.schemas import schema_rules
from apps.security.engine.rules.servers import scheme_rules, server_rules
from apps.security.engine.rules.stories import endpoint_rules, receivers, story_rules
from apps.security.engine.rules.story_model import story_model_rules


class _Graded(Protocol):
    category: str
    severity: str
    suppressed: Mapping[str, Any] | None


def checklist(findings: Iterable[_Graded], *, has_api: bool, has_model: bool) -> list[dict[str, Any]]:
    """One item per OWASP category and data protection, with a status derived from the findings.

    Takes anything with category, severity and suppressed: engine findings or stored ones."""
    open_counts = Counter((f.category, f.severity) for f in findings if not f.suppressed)
    return checklist_from_counts(open_counts, has_api=has_api, has_model=has_model)


def checklist_from_counts(
    open_counts: Mapping[tuple[str, str], int], *, has_api: bool, has_model: bool
) -> list[dict[str, Any]]:
    """The checklist from how many open (not suppressed) findings each (category, severity) has:
    what a stored run's rows answer with one grouped query."""
    counts: dict[str, int] = {}
    worst: dict[str, int] = {}  # category -> rank of its most severe open finding
    for (category_id, severity), count in open_counts.items():
        if not count:
            continue
        key = category_id.partition(":")[0]
        counts[key] = counts.get(key, 0) + count
        worst[key] = min(worst.get(key, len(SEVERITIES)), severity_rank(severity))
    items = []
    for category in CATEGORIES:
        applicable = has_model if category.key == "DP" else has_api
        if not applicable:
            status = "not_applicable"
        elif worst.get(category.key, len(SEVERITIES)) <= severity_rank("medium"):
            status = "fail"
        elif counts.get(category.key):
            status = "needs_review"
        else:
            status = "pass"
        items.append(
            {
                "key": category.key,
                "title": category.title,
                "status": status,
                "findings": counts.get(category.key, 0),
                "explanation": category.explanation,
                "reference": category.reference,
            }
        )
    return items


def analyze_security(model: DesignModel) -> tuple[list[Finding], dict[str, Any]]:
    """All security rules over the design. See the module docstring."""
    with bulk_step():
        return _analyze_security(model)


def _analyze_security(model: DesignModel) -> tuple[list[Finding], dict[str, Any]]:
    review = Review(model=model, doc=model.api_document)
    doc = model.api_document
    # The operations receiving calls from outside: both the story and the function rules ask.
    receiving = receivers(model.endpoints, model.webhooks)
    if doc is not None:
        oas31 = doc.version.startswith("3.1")
        story_rules(review, receiving=receiving)  # first: where a story speaks about an operation, its finding wins
        responses_objects = schema_rules(review, data=doc.data, oas31=oas31)
        # What the review has gathered so far lives until it finishes (see `bulk`): the collector
        # need not traverse it again (on Microsoft Graph, a full run of 20 ms in the rules after).
        settle()
        scheme_rules(review, doc=doc)
        server_rules(review, doc=doc)
        operation_rules(review, doc=doc, responses_objects=responses_objects)
        settle()
        body_rules(review, doc=doc)
        endpoint_rules(review)
        function_rules(review, receiving=receiving)
    else:
        story_rules(review, receiving=receiving)
    data_rules(review)
    story_model_rules(review)
    findings = review.finish()
    section = {
        "checklist": checklist(findings, has_api=doc is not None, has_model=bool(model.entities) or doc is not None),
        "rules": len(RULES),
        # Findings the design waives with x-workbench-ignore (not those a rule exempts itself).
        "suppressed": sum(1 for f in findings if f.suppressed and f.suppressed["source"] == "spec"),
    }
    return findings, section
