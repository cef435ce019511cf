"""Triage of findings: states, reasons, who and when, carried over to later revisions by
fingerprint, kept in step with the design's suppressions; editors and owners only."""

import importlib

from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role, Workspace
from apps.accounts.services import membership_set
from apps.designs.engine.loader import DesignInput
from apps.designs.services import revision_create
from apps.reports.models import Triage, TriageChange
from apps.reports.selectors import triage_map
from apps.security.models import Suppression
from apps.security.services import suppression_create
from tests.conftest import make_user
from tests.factories import make_design, make_finished_run


def _post(client: Client, finding_id: int, state: str, reason: str = "") -> tuple[int, str]:
    response = client.post(
        reverse("reports:triage", args=[finding_id]), {"state": state, "reason": reason}, HTTP_HX_REQUEST="true"
    )
    return response.status_code, response.content.decode()


def test_triage_states_carry_over_to_the_next_revision_and_fixed_is_checked(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    card = run.findings.get(rule_id="sec.dp.card-number-stored", message__startswith="payments.")
    other = run.findings.filter(suppressed__isnull=True).exclude(pk=card.pk).first()
    client.force_login(owner)

    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    assert 'class="row triage-form"' in page and 'class="secondary triage-save"' in page
    assert 'value="accepted_risk"' in page and 'value="false_positive"' in page
    assert "triage-open" in page

    # A reason is required except for open; an unknown state is refused; nothing is saved.
    assert _post(client, card.pk, "false_positive", "  ")[0] == 400
    assert _post(client, card.pk, "won't fix", "x")[0] == 400
    assert not Triage.objects.exists() and not Suppression.objects.exists()

    code, fragment = _post(client, card.pk, "false_positive", "masked before storage")
    assert code == 200 and "<html" not in fragment
    assert "triage-false_positive" in fragment and "Suppressed by olivia" in fragment
    assert "masked before storage" in fragment and "open → false_positive" in fragment
    card.refresh_from_db()
    assert card.suppressed["source"] == "review" and card.suppressed["reason"] == "masked before storage"
    # A new reason reaches the marker (the suppression is remade).
    _post(client, card.pk, "accepted_risk", "tokenised by the provider")
    card.refresh_from_db()
    assert card.suppressed["reason"] == "tokenised by the provider"
    assert Suppression.objects.get().reason == "tokenised by the provider"

    code, fragment = _post(client, other.pk, "fixed", "index added in r2")
    assert code == 200 and "triage-fixed" in fragment and "the next run checks it" in fragment
    other.refresh_from_db()
    assert other.suppressed is None  # fixed is a claim, not a waiver

    second = revision_create(design=design, user=owner, texts=DesignInput(document=shop_v1 + "\n\nA later note.\n"))
    later = make_finished_run(revision=second, user=owner)
    carried = later.findings.get(fingerprint=card.fingerprint)
    assert carried.suppressed["reason"] == "tokenised by the provider"
    still = later.findings.get(fingerprint=other.fingerprint)
    states = triage_map(design_id=design.pk)
    assert states[card.fingerprint].state == "accepted_risk"
    assert states[other.fingerprint].fixed_but_present(run_id=later.pk, present=True)
    url = reverse("analysis:run", args=[later.pk])
    page = client.get(url, {"suppressed": "1", "rule": still.rule_id}).content.decode()
    item = page.split(f'id="finding-{still.pk}"')[1].split("</li>")[0]
    assert "marked fixed, still present" in item
    page = client.get(url, {"suppressed": "1", "rule": carried.rule_id}).content.decode()
    item = page.split(f'id="finding-{carried.pk}"')[1].split("</li>")[0]
    assert "triage-accepted_risk" in item and "tokenised by the provider" in item

    # Back to open on the later run: the waiver is lifted on every run of the design.
    code, fragment = _post(client, carried.pk, "open")
    assert code == 200 and "triage-open" in fragment
    assert not Suppression.objects.exists()
    card.refresh_from_db()
    assert card.suppressed is None
    history = list(TriageChange.objects.filter(fingerprint=card.fingerprint).values_list("previous_state", "state"))
    assert history == [("accepted_risk", "open"), ("false_positive", "accepted_risk"), ("open", "false_positive")]
    assert "accepted_risk → open" in fragment and "(3 changes)" in fragment


def test_viewers_cannot_triage_editors_can_and_outsiders_get_404(
    client: Client, owner: object, viewer: object, outsider: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    finding = run.findings.first()
    client.force_login(viewer)
    assert _post(client, finding.pk, "false_positive", "x")[0] == 403
    assert "triage-form" not in client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    client.force_login(outsider)
    assert _post(client, finding.pk, "false_positive", "x")[0] == 404
    assert not Triage.objects.exists()
    editor = make_user("edna")
    membership_set(workspace=workspace, actor=owner, username="edna", role=Role.EDITOR)
    client.force_login(editor)
    assert _post(client, finding.pk, "false_positive", "x")[0] == 200
    assert Triage.objects.get().changed_by.username == "edna"


def test_a_suppression_made_before_triage_reads_as_accepted_risk_and_is_migrated(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    finding = run.findings.filter(analyzer="security", suppressed__isnull=True).first()
    suppression_create(finding=finding, user=owner, reason="behind the gateway")
    assert triage_map(design_id=design.pk)[finding.fingerprint].state == "accepted_risk"
    client.force_login(owner)
    page = client.get(
        reverse("analysis:run", args=[run.pk]), {"suppressed": "1", "rule": finding.rule_id}
    ).content.decode()
    item = page.split(f'id="finding-{finding.pk}"')[1].split("</li>")[0]
    assert "triage-accepted_risk" in item and "behind the gateway" in item
    # The data migration makes it a triage row with its history entry.
    migration = importlib.import_module("apps.reports.migrations.0002_triage_from_suppressions")
    migration.forward(django_apps, None)
    triage = Triage.objects.get()
    assert (triage.state, triage.reason, triage.changed_by) == ("accepted_risk", "behind the gateway", owner)
    assert TriageChange.objects.filter(fingerprint=finding.fingerprint).count() == 1
