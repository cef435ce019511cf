"""Security findings the generated endpoints answer: marked resolved by generation.

A finding is marked only when every operation its places lie in was generated and that
operation's code enforces what the rule asks (the endpoints section's `enforces`): a page-size
cap, object-level access, the role a story requires, a privileged field kept read-only (the very
fields the finding names), a secret left out of the response (likewise), a received call's
signature checked (a webhook a story requires signed, a public write that receives such calls). The mark is
`resolved_by` = {"source": "generation", "reason": what the code does}; the finding stays open,
since the pasted design still has the gap and code written without the generated app must close
it too. Findings the code cannot answer are left as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from apps.designs.engine.findings import Finding
from apps.designs.engine.structured import unescape_pointer_part

# Security rule -> the kind of enforcement (OperationOutcome.enforces) that answers it; for the
# two marked True, only for the very fields the finding names.
_ANSWERED_BY: dict[str, tuple[str, bool]] = {
    "sec.api4.unbounded-page-size": ("page-size-cap", False),
    "sec.api1.object-access-required": ("object-level", False),
    "sec.api5.role-required": ("role", False),
    "sec.api3.privileged-field-writable": ("read-only", True),
    "sec.api3.secret-in-response": ("secret-omitted", True),
    # A receiver of a third party's calls that checks their signature: the signature the story
    # requires, and the authentication a public write lacks.
    "sec.api10.unsigned-webhook": ("signature", False),
    "sec.api2.unauthenticated-write": ("signature", False),
}
_WHAT = {
    "page-size-cap": "caps each page at API_MAX_PAGE_SIZE",
    "object-level": "lets callers reach only their own rows",
    "role": "admits only the roles the stories name",
    "read-only": "keeps the field read-only",
    "secret-omitted": "leaves the secret out of the response",
    "signature": "refuses calls without the HMAC-SHA256 signature of their body (WEBHOOK_SECRET)",
}


def resolved_by_generation(findings: Sequence[Finding], operations: Sequence[Any]) -> list[Finding]:
    """The findings, those the generated code answers marked (`resolved_by`, source "generation").
    `operations` are the endpoints section's (each with `pointer`, `generated`, `view` and
    `enforces`, a list of {"kind", "detail"}); a finding's operations are those its places lie in."""
    by_pointer = {
        o["pointer"]: (str(o.get("view", "")), [(e["kind"], str(e["detail"])) for e in o.get("enforces", ())])
        for o in operations
        if o.get("pointer")
    }
    generated = {o["pointer"] for o in operations if o.get("pointer") and o.get("generated")}
    marked = []
    for finding in findings:
        answer = _ANSWERED_BY.get(finding.rule_id)
        if answer is None or finding.suppressed is not None:
            marked.append(finding)
            continue
        places = {_operation_pointer(loc.pointer or "") for loc in finding.locations} - {None}
        if not places:
            marked.append(finding)
            continue
        kind, per_field = answer
        ops = [by_pointer.get(place) if place in generated else None for place in places]
        fields = {name for loc in finding.locations if (name := _field(loc.pointer or "")) is not None}
        # Every operation enforces it, and for the per-field rules, each of them for every field named.
        enforced = all(
            o is not None
            and any(k == kind for k, _ in o[1])
            and (not per_field or (fields and fields <= {d.lower() for k, d in o[1] if k == kind}))
            for o in ops
        )
        if not enforced:
            marked.append(finding)
            continue
        views = ", ".join(sorted({o[0] for o in ops if o is not None}))
        marked.append(
            replace(
                finding,
                resolved_by={
                    "source": "generation",
                    "reason": (
                        f"In the generated endpoints, {views} {_WHAT[kind]}. The pasted document still does not say "
                        "so; code written without the generated app must do the same."
                    ),
                },
            )
        )
    return marked


def _operation_pointer(pointer: str) -> str | None:
    """The operation a JSON pointer lies in (`/paths/~1a/get/responses/200` -> `/paths/~1a/get`);
    None outside one, and inside its callbacks (requests the API sends, which no generated view does)."""
    parts = pointer.split("/")
    if len(parts) < 4 or parts[1] != "paths" or (len(parts) > 4 and parts[4] == "callbacks"):
        return None
    return "/".join(parts[:4])


def _field(pointer: str) -> str | None:
    """The property a JSON pointer ends at (…/properties/<name>), lower-cased; None otherwise."""
    head, _, name = pointer.rpartition("/")
    if not head.endswith("/properties") or not name:
        return None
    return unescape_pointer_part(name).lower()
