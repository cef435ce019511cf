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


POINTER_SEPARATOR = " \u203a "  # the breadcrumbs' single right-pointing angle quotation mark


@register.filter
def readable_pointer(pointer: str) -> str:
    """A JSON pointer as a reader follows it: `/paths/~1orders/get` -> `paths > /orders > get`
    with POINTER_SEPARATOR between keys (RFC 6901's ~1 and ~0 are / and ~ inside a key).
    Anything not a pointer is shown as it is."""
    text = str(pointer or "")
    if not text.startswith("/"):
        return text
    return POINTER_SEPARATOR.join(part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/"))
