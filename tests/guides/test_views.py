"""The guide page: a viewer works through steps, a senior signs off or sends back, state is kept
per revision, concurrent changes are refused with 409, and a workspace adds its own steps."""

import json
import re

import jsonschema
import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role, Workspace
from apps.accounts.services import membership_set
from apps.analysis import services as analysis_services
from apps.analysis.models import AnalysisRun
from apps.guides.models import StepState, StepStatus, TeamStep
from apps.guides.selectors import guide_export
from apps.security.models import ChecklistReview
from tests.conftest import make_user
from tests.factories import make_design, make_finished_run
from tests.reports.test_report import SCHEMA


@pytest.fixture
def run(owner: AbstractBaseUser, workspace: Workspace, shop_v1: str) -> AnalysisRun:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    return make_finished_run(revision=revision, user=owner)


@pytest.fixture
def editor(workspace: Workspace, owner: AbstractBaseUser) -> AbstractBaseUser:
    user = make_user("edith")
    membership_set(workspace=workspace, actor=owner, username="edith", role=Role.EDITOR)
    return user


def _answer(client: Client, run: AnalysisRun, key: str, answer: str, version: int = 0, **extra: str) -> object:
    return client.post(
        reverse("guides:answer", args=[run.pk, key]), {"answer": answer, "version": str(version)}, **extra
    )


def _state(run: AnalysisRun, key: str, person: AbstractBaseUser) -> StepState:
    return StepState.objects.get(revision=run.revision, key=key, person=person)


def test_the_run_page_links_to_the_guide_which_lists_steps_sections_and_people(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    assert f'href="{reverse("guides:guide", args=[run.pk])}" id="open-guide"' in page
    guide = client.get(reverse("guides:guide", args=[run.pk])).content.decode()
    assert re.search(r'id="step-authz-objects".*Check object-level authorization on these \d+ endpoints', guide, re.S)
    for heading in ("Guided review", "Security checklist"):
        assert f"<h2>{heading}</h2>" in guide
    assert 'id="step-owasp-api1"' in guide and 'id="step-owasp-dp"' in guide
    # The endpoints the step's title counts are listed under their own heading, not under "What good looks like".
    step = guide.split('id="step-authz-objects"')[1].split('id="step-')[0]
    count = re.search(r"on these (\d+) endpoints", step).group(1)  # type: ignore[union-attr]
    listed = step.split(f'<dt>What to check <span class="muted">({count})</span></dt><dd><ul class="step-details">')[1]
    assert listed.split("</ul>")[0].count("<li>") == int(count)
    assert step.index("What to check") < step.index("What good looks like")
    assert 'id="progress-olivia"' in guide and 'id="progress-victor"' in guide
    assert f"{reverse('analysis:run', args=[run.pk])}?rule=" in guide  # evidence: a finding on the run page
    assert "#L" in guide  # evidence: the source line
    assert 'class="step-answer"' in guide and 'name="version" value="0"' in guide
    assert "step-signoff" not in guide  # nothing answered yet, and a viewer never reviews


def test_a_viewer_completes_two_steps_and_an_editor_signs_off_one_and_sends_one_back(
    client: Client, viewer: AbstractBaseUser, editor: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    fragment = _answer(client, run, "authz-objects", "ORD-1 filters by customer_id", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<li class="step done" id="step-authz-objects"')
    assert 'id="guide-people" hx-swap-oob="true"' in html  # the progress follows out of band
    assert "1 of " in html.split('id="progress-victor"')[1].split("</li>")[0]
    assert _answer(client, run, "sensitive-data", "card_number must go").status_code == 302
    assert _state(run, "authz-objects", viewer).version == 1

    client.force_login(editor)
    guide = client.get(reverse("guides:guide", args=[run.pk])).content.decode()
    assert guide.count('class="step-signoff"') == 2
    sign = reverse("guides:sign-off", args=[run.pk, "authz-objects", viewer.pk])
    assert client.post(sign, {"version": "1"}, HTTP_HX_REQUEST="true").status_code == 200
    back = reverse("guides:send-back", args=[run.pk, "sensitive-data", viewer.pk])
    assert client.post(back, {"version": "1", "comment": ""}).status_code == 400  # a comment is required
    assert client.post(back, {"version": "1", "comment": "Which columns? Name them."}).status_code == 302

    signed, returned = _state(run, "authz-objects", viewer), _state(run, "sensitive-data", viewer)
    assert (signed.status, signed.reviewed_by, signed.version) == (StepStatus.SIGNED_OFF, editor, 2)
    assert (returned.status, returned.comment) == (StepStatus.TODO, "Which columns? Name them.")
    client.force_login(viewer)
    guide = client.get(reverse("guides:guide", args=[run.pk])).content.decode()
    assert 'id="sent-back-sensitive-data">Sent back by edith' in guide
    assert "Which columns? Name them." in guide
    progress = guide.split('id="progress-victor"')[1].split("</li>")[0]
    assert "1 of " in progress and "1 signed off" in progress


def test_outsiders_get_404_viewers_cannot_sign_off_and_nobody_signs_off_their_own(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, outsider: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    _answer(client, run, "authz-objects", "checked")
    sign = reverse("guides:sign-off", args=[run.pk, "authz-objects", viewer.pk])
    assert client.post(sign, {"version": "1"}).status_code == 403
    client.force_login(owner)
    _answer(client, run, "trace-gaps", "mine")
    own = reverse("guides:sign-off", args=[run.pk, "trace-gaps", owner.pk])
    refused = client.post(own, {"version": "1"})
    assert refused.status_code == 400 and "another editor or owner" in refused.content.decode()
    client.force_login(outsider)
    assert client.get(reverse("guides:guide", args=[run.pk])).status_code == 404
    assert _answer(client, run, "trace-gaps", "x").status_code == 404
    assert client.post(sign, {"version": "1"}).status_code == 404
    assert _state(run, "authz-objects", viewer).status == StepStatus.DONE
    assert _state(run, "trace-gaps", owner).status == StepStatus.DONE
    assert StepState.objects.count() == 2


def test_a_rerun_of_the_same_revision_keeps_answers_sign_offs_and_checklist_verdicts(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    _answer(client, run, "authz-objects", "ORD-1 filters by customer_id")
    client.force_login(owner)
    client.post(reverse("guides:sign-off", args=[run.pk, "authz-objects", viewer.pk]), {"version": "1"})
    verdict = client.post(
        reverse("security:review", args=[run.pk, "API1"]), {"status": "pass", "note": "checked"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    # The saved verdict is the selected option of the item swapped in (it no longer snaps back
    # to the grade the findings give, which is "fail" here).
    assert '<option value="pass" selected>' in verdict

    again = make_finished_run(revision=run.revision, user=owner)
    assert again.pk != run.pk
    page = client.get(reverse("analysis:run", args=[again.pk])).content.decode()
    assert "1 of 11 items reviewed" in page
    assert '<option value="pass" selected>' in page.split('id="check-API1"')[1].split("</li>")[0]
    guide = client.get(reverse("guides:guide", args=[again.pk])).content.decode()
    step = guide.split('id="step-authz-objects"')[1].split('id="step-')[0]
    assert "ORD-1 filters by customer_id" in step and "Signed off by olivia" in step
    assert "Reviewed <strong>Pass</strong> by olivia" in guide.split('id="step-owasp-api1"')[1]
    assert ChecklistReview.objects.get().revision == run.revision


def test_a_change_from_a_stale_version_is_refused_with_409_and_nothing_saved(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    _answer(client, run, "authz-objects", "first answer")  # version 0 -> 1
    client.force_login(owner)
    client.post(reverse("guides:sign-off", args=[run.pk, "authz-objects", viewer.pk]), {"version": "1"})  # -> 2
    client.force_login(viewer)
    stale = _answer(client, run, "authz-objects", "edited from the old form", version=1, HTTP_HX_REQUEST="true")
    assert stale.status_code == 409
    body = stale.content.decode()
    assert 'role="alert"' in body and 'class="conflict"' in body
    assert re.search(r"olivia changed this step at \d\d:\d\d; reload to see their change\.", body)
    state = _state(run, "authz-objects", viewer)
    assert (state.answer, state.status, state.version) == ("first answer", StepStatus.SIGNED_OFF, 2)
    # The senior's stale sign-off against the junior's newer edit is refused the same way.
    assert _answer(client, run, "authz-objects", "second answer", version=2).status_code == 302  # -> 3, done
    client.force_login(owner)
    late = client.post(reverse("guides:sign-off", args=[run.pk, "authz-objects", viewer.pk]), {"version": "2"})
    assert late.status_code == 409 and "victor changed this step" in late.content.decode()
    assert _state(run, "authz-objects", viewer).status == StepStatus.DONE
    # A first answer from a form drawn before another one was saved conflicts too.
    client.force_login(viewer)
    assert _answer(client, run, "trace-gaps", "one").status_code == 302
    assert _answer(client, run, "trace-gaps", "two", version=0).status_code == 409
    assert _state(run, "trace-gaps", viewer).answer == "one"


def test_two_people_answering_the_same_step_do_not_conflict(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    assert _answer(client, run, "trace-gaps", "victor's").status_code == 302
    client.force_login(owner)
    assert _answer(client, run, "trace-gaps", "olivia's").status_code == 302
    assert {s.answer for s in StepState.objects.filter(key="trace-gaps")} == {"victor's", "olivia's"}


def test_hostile_answers_are_escaped_and_over_long_ones_refused_naming_the_limit(
    client: Client, settings: object, viewer: AbstractBaseUser, owner: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    _answer(client, run, "authz-objects", '<script>alert("x")</script><img src=x onerror=alert(1)>')
    client.force_login(owner)
    guide = client.get(reverse("guides:guide", args=[run.pk])).content.decode()
    assert "<script>alert" not in guide and "<img src=x" not in guide
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in guide
    settings.GUIDE_ANSWER_MAX_CHARS = 100  # type: ignore[attr-defined]
    client.force_login(viewer)
    refused = _answer(client, run, "trace-gaps", "x" * 101)
    assert refused.status_code == 400
    assert "the limit is 100 (GUIDE_ANSWER_MAX_CHARS)" in refused.content.decode()
    assert _answer(client, run, "trace-gaps", "   ").status_code == 400
    assert _answer(client, run, "no-such-step", "x").status_code == 400
    assert (
        client.post(reverse("guides:answer", args=[run.pk, "trace-gaps"]), {"answer": "x", "version": "a"}).status_code
        == 400
    )
    assert not StepState.objects.filter(key__in=("trace-gaps", "no-such-step")).exists()


def test_a_team_step_appears_in_the_guide_by_its_condition(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, workspace: Workspace, run: AnalysisRun
) -> None:
    url = reverse("guides:team-steps", args=[workspace.slug])
    client.force_login(viewer)
    assert (
        f'href="{url}" id="open-team-steps"'
        in client.get(reverse("accounts:workspace", args=[workspace.slug])).content.decode()
    )
    assert client.get(url).status_code == 200
    assert client.post(url, {"title": "Runbook", "condition": "always"}).status_code == 403
    client.force_login(owner)
    fields = {"why": "On-call needs it", "how": "Open docs/runbook.md", "good": "A page per alert"}
    assert client.post(url, {"title": "Check the runbook", "condition": "always", **fields}).status_code == 302
    assert client.post(url, {"title": "Needs a migration", "condition": "migration"}).status_code == 302
    assert client.post(url, {"title": "", "condition": "always"}).status_code == 400
    assert client.post(url, {"title": "x", "condition": "sometimes"}).status_code == 400
    runbook = TeamStep.objects.get(title="Check the runbook")
    client.force_login(viewer)
    guide = client.get(reverse("guides:guide", args=[run.pk])).content.decode()
    assert "<h2>Team steps</h2>" in guide
    assert f'id="step-team-{runbook.pk}"' in guide and "Open docs/runbook.md" in guide
    assert "Needs a migration" not in guide  # no migration preview in this run
    assert _answer(client, run, f"team-{runbook.pk}", "linked").status_code == 302
    delete = reverse("guides:team-step-delete", args=[workspace.slug, runbook.pk])
    assert client.post(delete).status_code == 403
    client.force_login(owner)
    assert client.post(delete).status_code == 302
    assert f'id="step-team-{runbook.pk}"' not in client.get(reverse("guides:guide", args=[run.pk])).content.decode()


def test_a_running_run_has_no_steps_yet(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1, name="Queued")
    queued = analysis_services.run_start(revision=revision, user=owner)
    client.force_login(owner)
    page = client.get(reverse("guides:guide", args=[queued.pk])).content.decode()
    assert "appears when the run finishes" in page


def test_the_guide_export_carries_each_persons_answers_sign_offs_and_progress(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    _answer(client, run, "authz-objects", "ORD-1 filters by customer_id")
    client.force_login(owner)
    client.post(reverse("guides:sign-off", args=[run.pk, "authz-objects", viewer.pk]), {"version": "1"})
    exported = guide_export(run=run)
    step = next(s for s in exported["steps"] if s["key"] == "authz-objects")
    assert step["section"] == "Guided review"
    [state] = step["states"]
    assert (state["person"], state["status"], state["answer"], state["reviewed_by"]) == (
        "victor",
        "signed_off",
        "ORD-1 filters by customer_id",
        "olivia",
    )
    victor = next(p for p in exported["progress"] if p["username"] == "victor")
    assert (victor["done"], victor["signed_off"], victor["total"]) == (1, 1, len(exported["steps"]))
    assert {s["section"] for s in exported["steps"]} == {"Guided review", "Security checklist"}


def test_an_editor_gives_a_checklist_verdict_from_the_guide_and_the_run_page_counts_it(
    client: Client, editor: AbstractBaseUser, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    url = reverse("guides:verdict", args=[run.pk, "owasp-api10"])
    client.force_login(viewer)
    assert client.post(url, {"status": "pass"}).status_code == 403
    assert 'class="row step-verdict"' not in client.get(reverse("guides:guide", args=[run.pk])).content.decode()
    client.force_login(editor)
    assert client.post(url, {"status": "bogus"}).status_code == 400
    assert client.post(reverse("guides:verdict", args=[run.pk, "trace-gaps"]), {"status": "pass"}).status_code == 404
    fragment = client.post(
        url, {"status": "not_applicable", "note": "no webhooks yet"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.lstrip().startswith('<li class="step" id="step-owasp-api10"')
    assert '<option value="not_applicable" selected>' in fragment
    assert "Reviewed <strong>Not applicable</strong> by edith" in fragment and "no webhooks yet" in fragment
    assert ">Save review</button>" in fragment  # worded as on the run page's checklist
    review = ChecklistReview.objects.get()
    assert (review.key, review.status, review.revision, review.run) == ("API10", "not_applicable", run.revision, run)
    assert "1 of 11 items reviewed" in client.get(reverse("analysis:run", args=[run.pk])).content.decode()


def test_the_json_and_markdown_exports_carry_the_guide(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    _answer(client, run, "authz-objects", "ORD-1 filters by customer_id")
    client.force_login(owner)
    client.post(reverse("guides:sign-off", args=[run.pk, "authz-objects", viewer.pk]), {"version": "1"})
    response = client.get(reverse("reports:export", args=[run.pk, "json"]))
    exported = json.loads(response.content)
    jsonschema.validate(exported, SCHEMA)
    step = next(s for s in exported["review"]["guide"]["steps"] if s["key"] == "authz-objects")
    assert [(s["person"], s["status"], s["reviewed_by"]) for s in step["states"]] == [
        ("victor", "signed_off", "olivia")
    ]
    markdown = client.get(reverse("reports:export", args=[run.pk, "md"])).content.decode()
    guide = markdown.split("### Guided review")[1]
    assert "| victor | 1 of " in guide
    assert "| victor | signed off | ORD-1 filters by customer_id | olivia |" in guide


def test_the_steps_are_numbered_through_the_whole_guide(
    client: Client, viewer: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(viewer)
    guide = client.get(reverse("guides:guide", args=[run.pk])).content.decode()
    sections = re.findall(r'<section id="section-([a-z]+)">.*?<ol class="steps" start="(\d+)">(.*?)</ol>', guide, re.S)
    assert len(sections) == 2  # the guided review and the security checklist (no team steps here)
    expected = 1
    for _, start, steps in sections:
        assert int(start) == expected
        expected += len(re.findall(r'<li class="step[^"]*" id="step-', steps))
    assert expected > 12  # the shop's own steps and the 11 checklist items, counted once each
