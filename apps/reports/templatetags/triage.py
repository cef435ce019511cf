"""`{% finding_triage finding as triage %}`: a finding's triage on the run page. The design's
triage is read once per request (a few rows), not once per finding."""

import contextlib
from typing import Any

from django import template

from apps.reports.models import TriageState
from apps.reports.selectors import FindingTriage, last_triage_changes, triage_map

register = template.Library()


@register.simple_tag(takes_context=True)
def finding_triage(context: template.Context, finding: Any) -> dict[str, Any]:
    # The run page's context holds the run: no query per finding for it.
    run = context.get("run") if getattr(context.get("run"), "pk", None) == finding.run_id else finding.run
    design_id = run.revision.design_id
    holder = context.get("request") or context
    cache = getattr(holder, "_triage_maps", None)
    if cache is None:
        cache = {}
        with contextlib.suppress(AttributeError):
            holder._triage_maps = cache
    if design_id not in cache:
        cache[design_id] = (triage_map(design_id=design_id), last_triage_changes(design_id=design_id))
    triages, last_changes = cache[design_id]
    triage: FindingTriage | None = triages.get(finding.fingerprint)
    state = triage.state if triage else TriageState.OPEN
    last = last_changes.get(finding.fingerprint)
    return {
        "state": state,
        "label": TriageState(state).label,
        "triage": triage,
        "last": last,
        "fixed_but_present": bool(triage and triage.fixed_but_present(run_id=run.pk, present=True)),
        "choices": TriageState.choices,
    }
