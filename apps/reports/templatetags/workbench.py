import re
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

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


FENCE = re.compile(r"```[\w+-]*\n(.*?)\n?```", re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")


@register.filter
def finding_text(text: str) -> SafeString:
    """A finding's message or fix as the rules write them, in Markdown's two code forms: a fenced
    block becomes a <pre> (the YAML or SQL to paste) and `name` becomes <code>; the rest is
    escaped, its line breaks kept. Without this the page showed the fences and backticks."""
    parts = FENCE.split(str(text or ""))
    html: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:
            html.append(format_html('<pre class="wrap fix-code"><code>{}</code></pre>', part))
        else:
            inline = INLINE_CODE.sub(r"<code>\1</code>", escape(part.strip("\n") if index else part.rstrip("\n")))
            html.append(inline.replace("\n", "<br>"))
    return mark_safe("".join(html))  # noqa: S308 - every piece of the text is escaped above
