from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis.models import Finding
from apps.designs.engine.loader import DesignInput
from apps.designs.services import revision_create
from apps.security.models import ChecklistReview, Suppression
from tests.factories import make_design, make_finished_run


def test_a_reviewer_sets_a_checklist_item_and_the_progress_follows(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    assert 'id="check-API1"' in page
    assert "0 of 11 items reviewed" in page
    url = reverse("security:review", args=[run.pk, "API1"])
    fragment = client.post(
        url, {"status": "needs_review", "note": "ORD-1 filters by customer"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment
    assert "Reviewed <strong>Needs review</strong> by olivia" in fragment
    assert "ORD-1 filters by customer" in fragment
    assert 'hx-swap-oob="true"' in fragment
    assert "1 of 11 items reviewed" in fragment
    review = ChecklistReview.objects.get()
    assert (review.key, review.status, review.reviewer) == ("API1", "needs_review", owner)
    assert client.post(url, {"status": "bogus"}).status_code == 400


def test_viewers_cannot_review_or_suppress_and_outsiders_get_404(
    client: Client, owner: object, viewer: object, outsider: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    finding = run.findings.first()
    client.force_login(viewer)
    assert client.post(reverse("security:review", args=[run.pk, "API1"]), {"status": "pass"}).status_code == 403
    assert client.post(reverse("security:suppress", args=[finding.pk]), {"reason": "x"}).status_code == 403
    client.force_login(outsider)
    assert client.post(reverse("security:review", args=[run.pk, "API1"]), {"status": "pass"}).status_code == 404
    assert client.post(reverse("security:suppress", args=[finding.pk]), {"reason": "x"}).status_code == 404
    assert not ChecklistReview.objects.exists()
    assert not Suppression.objects.exists()


def test_a_suppression_needs_a_reason_shows_who_and_carries_over(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    # the payments table's column (the API's payment schema has a finding of its own)
    finding = run.findings.get(rule_id="sec.dp.card-number-stored", message__startswith="payments.")
    client.force_login(owner)
    url = reverse("security:suppress", args=[finding.pk])
    assert client.post(url, {"reason": "  "}).status_code == 400
    fragment = client.post(
        url, {"reason": "column dropped in the next release"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Suppressed by olivia" in fragment
    assert "column dropped in the next release" in fragment
    finding.refresh_from_db()
    assert finding.suppressed["source"] == "review"
    second = revision_create(design=design, user=owner, texts=DesignInput(document=shop_v1 + "\n\nA later note.\n"))
    later = make_finished_run(revision=second, user=owner)
    carried = later.findings.get(rule_id="sec.dp.card-number-stored", message__startswith="payments.")
    assert carried.fingerprint == finding.fingerprint
    assert carried.suppressed["reason"] == "column dropped in the next release"
    dp = next(item for item in later.report["security"]["checklist"] if item["key"] == "DP")
    assert dp["findings"] < next(i for i in run.report["security"]["checklist"] if i["key"] == "DP")["findings"]
    client.post(reverse("security:unsuppress", args=[carried.pk]))
    assert not Finding.objects.filter(fingerprint=finding.fingerprint, suppressed__isnull=False).exists()


def test_findings_filter_by_severity_and_render_as_a_fragment(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    url = reverse("analysis:run", args=[run.pk])
    fragment = client.get(
        url, {"severity": "critical"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="findings"
    ).content.decode()
    assert "<html" not in fragment
    assert fragment.count('class="finding sev-') == 1  # card numbers in the payments table, carried by the API
    assert "Full card numbers stored" in fragment
    by_category = client.get(url, {"category": "API10"}).content.decode()
    assert "Webhook signature required by a story" in by_category
    assert "Full card numbers stored" not in by_category.split('id="findings"')[1]
