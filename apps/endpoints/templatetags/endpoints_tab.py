"""The run page's summary of the generated endpoints (the operations are stored packed)."""

from typing import Any

from django import template

from apps.endpoints.selectors import endpoints_summary
from apps.endpoints.services import endpoints_section_unpack

register = template.Library()


@register.simple_tag
def endpoints_summary_of(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """`{% endpoints_summary_of report as summary %}`: the counts and reasons, or None."""
    stored = (report or {}).get("endpoints")
    return (
        endpoints_summary(endpoints_section_unpack(stored, in_report_order=False)) if isinstance(stored, dict) else None
    )
