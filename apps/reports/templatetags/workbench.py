from typing import Any

from django import template
from django.urls import reverse

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
