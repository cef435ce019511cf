from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from apps.designs.models import Revision

register = template.Library()


@register.simple_tag
def source_url(revision: Revision, location: dict[str, Any]) -> str:
    """Link from a finding's location to the exact line of the pasted document."""
    url = reverse(
        "designs:source",
        args=[revision.design_id, revision.number, location["document"]],
    )
    line = location.get("line")
    return f"{url}?line={line}#L{line}" if line else url


@register.simple_tag
def rule_url(rule_id: str) -> str:
    """Link from a finding to its rule's documentation page."""
    try:
        return reverse("reports:rule", args=[rule_id])
    except NoReverseMatch:  # an id no rule page can have (a slash in it): its page would 404 anyway
        return reverse("reports:rule", args=["unknown"])
