"""Share links: a read-only copy of one run's report for people without an account."""

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.designs.engine.loader import parse_design
from apps.designs.services import parse_limits, revision_input
from apps.reports.anonymise import Anonymiser, anonymise_report, design_names, replacements
from apps.reports.models import ShareLink, ShareView, token_hash
from apps.reports.services import triage_set


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.meta: dict[str, str] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        if tag == "meta" and found.get("name"):
            self.meta[found["name"] or ""] = found.get("content") or ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _create(client: Client, run_id: int, **data: Any) -> tuple[int, str]:
    response = client.post(reverse("reports:shares", args=[run_id]), {"days": "7", **data}, follow=True)
    body = response.content.decode()
    found = re.search(r'id="share-url">[^<]*/s/([^/<]+)/<', body)
    return response.status_code, found.group(1) if found else ""


def test_a_share_link_opens_logged_out_read_only_is_logged_and_ends(client: Client, owner: Any, shop_run: Any) -> None:
    client.force_login(owner)
    run_page = client.get(reverse("analysis:run", args=[shop_run.pk])).content.decode()
    assert reverse("reports:shares", args=[shop_run.pk]) in run_page
    shares = client.get(reverse("reports:shares", args=[shop_run.pk])).content.decode()
    assert 'id="share-form"' in shares and 'name="days"' in shares and 'name="anonymise"' in shares
    assert 'id="create-share"' in shares
    assert _create(client, shop_run.pk, days="0")[0] == 400
    assert _create(client, shop_run.pk, days="91")[0] == 400
    assert _create(client, shop_run.pk, days="soon")[0] == 400
    assert not ShareLink.objects.exists()
    code, token = _create(client, shop_run.pk)
    assert code == 200 and len(token) >= 40
    # Shown once: the page after the redirect has it, a reload does not (and makes no second link).
    assert 'id="share-url"' not in client.get(reverse("reports:shares", args=[shop_run.pk])).content.decode()
    link = ShareLink.objects.get()
    assert link.token_hash == token_hash(token) and token not in link.token_hash  # only the hash is kept
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)

    client.logout()
    response = client.get(f"/s/{token}/", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert "noindex" in response["X-Robots-Tag"]
    page = _parse(response.content.decode())
    assert "noindex" in page.meta["robots"]
    assert "form" not in page.tags and "input" not in page.tags and "button" not in page.tags
    assert all(href.startswith(("?", "#")) for href in page.links)  # nothing into the logged-in app
    text = " ".join(page.text)
    assert "Full card numbers stored" in text and "Top problems" in text and "Security checklist" in text
    assert re.search(r"\d+ critical, \d+ high, \d+ medium, \d+ low, \d+ info\.", text)
    view = ShareView.objects.get()
    assert view.link == link and view.address == "203.0.113.9"

    unknown = client.get("/s/" + "x" * 43 + "/")
    assert unknown.status_code == 404 and "noindex" in unknown["X-Robots-Tag"]

    client.force_login(owner)
    listing = client.get(reverse("reports:shares", args=[shop_run.pk])).content.decode()
    row = listing.split(f'id="share-{link.pk}"')[1].split("</tr>")[0]
    assert 'class="share-views">1<' in row and "revoke-share" in row and "live" in row
    client.post(reverse("reports:share-revoke", args=[link.pk]))
    client.logout()
    revoked = client.get(f"/s/{token}/")
    assert revoked.status_code == 404 and revoked.content == unknown.content

    link.revoked_at = None
    link.expires_at = timezone.now() - timedelta(seconds=1)
    link.save()
    expired = client.get(f"/s/{token}/")
    assert expired.status_code == 404 and expired.content == unknown.content
    assert ShareView.objects.count() == 1  # the 404s are not views

    client.force_login(owner)
    client.post(reverse("reports:share-delete", args=[link.pk]))
    assert not ShareLink.objects.exists() and not ShareView.objects.exists()


def test_viewers_cannot_create_or_revoke_and_outsiders_get_404(
    client: Client, owner: Any, viewer: Any, outsider: Any, shop_run: Any
) -> None:
    client.force_login(owner)
    _create(client, shop_run.pk)
    link = ShareLink.objects.get()
    client.force_login(viewer)
    page = client.get(reverse("reports:shares", args=[shop_run.pk])).content.decode()
    assert 'id="share-form"' not in page and "revoke-share" not in page
    assert _create(client, shop_run.pk)[0] == 403
    assert client.post(reverse("reports:share-revoke", args=[link.pk])).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("reports:shares", args=[shop_run.pk])).status_code == 404
    assert client.post(reverse("reports:share-delete", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None and ShareLink.objects.count() == 1


def _identifiers(run: Any) -> set[str]:
    names = design_names(parse_design(revision_input(run.revision), limits=parse_limits()).model)
    return {n for n in (*names.tables, *names.columns, *names.paths, *names.values) if len(n) >= 3}


def test_an_anonymised_share_leaks_no_name_of_the_shop_design(
    client: Client, owner: Any, shop_run: Any, settings: Any
) -> None:
    card = shop_run.findings.get(rule_id="sec.dp.card-number-stored", message__startswith="payments.")
    triage_set(finding=card, user=owner, state="accepted_risk", reason="payments.card_number is tokenised")
    client.force_login(owner)
    _, token = _create(client, shop_run.pk, anonymise="1")
    client.logout()
    settings.SHARE_PAGE_FINDINGS = 20
    total = shop_run.findings.count()
    pages = [client.get(f"/s/{token}/", {"page": n}).content.decode() for n in range(1, -(-total // 20) + 1)]
    assert f"21\N{EN DASH}40 of {total} (page 2 of {len(pages)})" in pages[1]
    assert sum(p.count('<section class="finding') for p in pages) == total  # every finding, once
    html = "".join(pages)
    words = set(re.findall(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*", " ".join(_parse(html).text)))
    # The page's own words (headings, labels), rendered without any design, are not leaks.
    chrome = set(
        re.findall(
            r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*",
            " ".join(
                _parse(
                    render_to_string(
                        "reports/_report_body.html",
                        {"report": {"summary": {"by_severity": {}}, "analyzers": [], "design": {}, "tool": {}}},
                    )
                ).text
            ),
        )
    )
    # So are the rule ids (the workbench's vocabulary: sec.api5.admin-weak-auth, sec.api4.array-limit).
    for rule_id in shop_run.findings.values_list("rule_id", flat=True):
        chrome.update(re.findall(r"[A-Za-z0-9]+", rule_id))
    identifiers = _identifiers(shop_run)
    assert {"orders", "payments", "card_number", "customers"} <= identifiers
    assert (identifiers & words) - chrome == set()
    assert "table_" in html and "column_" in html and "path_" in html
    assert "tokenised" in html  # the review is shared, its names replaced
    assert "payments" not in html and "card_number" not in html


def test_anonymising_replaces_the_same_name_by_the_same_stand_in_everywhere() -> None:
    from apps.reports.anonymise import DesignNames

    names = DesignNames(tables=("orders", "order_items"), columns=("id", "order_id"), paths=("orders", "v1"))
    mapping = replacements(names)
    assert mapping == {
        "orders": "table_1",
        "order_items": "table_2",
        "id": "column_1",
        "order_id": "column_2",
        "v1": "path_1",
    }
    report = {
        "fingerprint": "orders",
        "findings": [
            {
                "title": "orders.order_id has no index",
                "pointer": "/paths/~1v1~1orders~1{id}/get",
                "sql": "CREATE INDEX ON orders (order_id);",
                "fingerprint": "abc",
            }
        ],
    }
    out = anonymise_report(report, names)
    assert out["findings"][0] == {
        "title": "table_1.column_2 has no index",
        "pointer": "/paths/~1path_1~1table_1~1{column_1}/get",
        "sql": "CREATE INDEX ON table_1 (column_2);",
        "fingerprint": "abc",
    }
    assert out["fingerprint"] == "orders"  # hashes and format fields are kept
    assert Anonymiser(mapping).text("reordering orders_idx") == "reordering table_1_idx"
