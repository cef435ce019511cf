"""A rule's documentation page: what the docs say of it, what the security catalog says, and the
fix and references its latest finding in the reader's workspaces carries. Nothing here writes."""

from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404
from django.utils.safestring import mark_safe

from apps.analysis.models import Finding
from apps.reports.engine.rules_docs import documented_rule_ids, inline_html, is_rule_id, rule_doc
from apps.security.engine.catalog import CATEGORY_BY_KEY, RULE_BY_ID

# Rule ids begin with their analyzer's name, or a short one.
_ANALYZERS = {"sec": "security", "mig": "migrations", "trace": "traceability"}
# The columns of a docs' rules table that say what a rule finds, and how to fix it.
_TITLE_FIELDS = ("what it finds", "fires when", "finding")
_FIX_FIELDS = ("how to fix it", "fix")
# The documents a rule's entry is looked for in (the others document the product, not rules).
RULE_DOCUMENTS = ("security-rules.md", "migration-rules.md", "queryplans.md", "traceability.md", "endpoints.md")


@cache
def _documents() -> dict[str, str]:
    """The docs' Markdown, read once per process (they change only with a release)."""
    folder = Path(settings.BASE_DIR) / "docs"
    return {name: (folder / name).read_text(encoding="utf-8") for name in RULE_DOCUMENTS if (folder / name).exists()}


def rule_page_get(*, user: AbstractBaseUser | AnonymousUser, rule_id: str) -> dict[str, Any]:
    """Everything the rule's page shows; 404 for an id that is no rule (not documented, not in
    the security catalog, and in no finding the user may see)."""
    if not is_rule_id(rule_id):
        raise Http404("No such rule.")
    documents = _documents()
    doc = rule_doc(rule_id, documents)
    catalog = RULE_BY_ID.get(rule_id)
    example = (
        Finding.objects.filter(
            rule_id=rule_id, run__revision__design__workspace__memberships__user_id=getattr(user, "pk", None)
        )
        .only("id", "run_id", "title", "severity", "fix", "references", "category", "cwe")
        .order_by("-id")
        .first()
    )
    if catalog is None and example is None and rule_id not in documented_rule_ids(documents) and not doc.documented:
        raise Http404("No such rule.")
    category = CATEGORY_BY_KEY.get(catalog.category) if catalog else None
    references: list[str] = []
    if example is not None:
        references.extend(str(r) for r in example.references or [])
    if category is not None and category.reference not in references:
        references.append(category.reference)
    # Without a catalog entry, the docs' row says what the rule finds and how to fix it.
    entry = dict(doc.fields)
    title_key = next((k for k in _TITLE_FIELDS if entry.get(k)), None)
    fix_key = next((k for k in _FIX_FIELDS if entry.get(k)), None)
    used = set() if catalog else {title_key, fix_key}
    return {
        "rule_id": rule_id,
        "analyzer": _ANALYZERS.get(rule_id.split(".", 1)[0], rule_id.split(".", 1)[0]),
        "doc": doc,
        "fields": [(name, inline_html(value)) for name, value in doc.fields if name not in used],
        "title_html": "" if catalog or not title_key else mark_safe(inline_html(entry[title_key])),  # noqa: S308 - escaped
        "fix_html": "" if catalog or not fix_key else mark_safe(inline_html(entry[fix_key])),  # noqa: S308 - escaped
        "mentions": [{"document": m.document, "section": m.section, "html": inline_html(m.text)} for m in doc.mentions],
        "catalog": catalog,
        "category": category,
        "example": example,
        "title": catalog.title if catalog else "",
        "why": catalog.why if catalog else "",
        "fix": catalog.fix if catalog else "",
        "references": [r for r in references if r.startswith(("https://", "http://"))],
    }
