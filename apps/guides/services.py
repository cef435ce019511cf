"""Writes of the guided review: a person's answer to a step, a senior's sign-off or send-back,
and a workspace's own steps.

Every change to a step's state names the version it was made from; a change made from an older
version than the row's is refused with `StaleStep` and nothing is written, so that a sign-off
never lands on an answer its senior has not seen, and an edit never undoes a sign-off unseen.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun
from apps.guides.engine.steps import CONDITIONS
from apps.guides.models import StepState, StepStatus, TeamStep
from workbench.validators import require_storable


class StaleStep(Exception):
    """The step changed since the form was drawn: who changed it, and when."""

    def __init__(self, state: StepState) -> None:
        self.state = state
        who = state.changed_by.get_username() if state.changed_by else "Someone"
        when = timezone.localtime(state.changed_at).strftime("%H:%M")
        super().__init__(f"{who} changed this step at {when}; reload to see their change.")


def _text(value: str, *, field: str, label: str, limit: int, setting: str, required: str = "") -> str:
    value = require_storable(value, field=field, label=label).strip()
    if required and not value:
        raise ValidationError({field: required})
    if len(value) > limit:
        raise ValidationError(
            {
                field: f"The {label} is {len(value):,} characters long; the limit is {limit:,} "
                f"({setting}). Shorten it and send it again."
            }
        )
    return value


def _locked_state(*, run: AnalysisRun, key: str, person_id: int, version: int, create: bool) -> StepState | None:
    """The person's row for the step, locked for this transaction, after checking `version`
    (0: the form was drawn before the row existed). With `create`, a missing row is made."""
    lookup = {"revision_id": run.revision_id, "key": key, "person_id": person_id}
    state = StepState.objects.select_for_update(of=("self",)).filter(**lookup).select_related("changed_by").first()
    if state is None and create and version == 0:
        try:
            # Two first answers at once: the second insert fails the unique constraint, and that
            # request then finds the first one's row (version 1) and reports the conflict.
            with transaction.atomic():
                return StepState.objects.create(**lookup, version=0)
        except IntegrityError:
            state = (
                StepState.objects.select_for_update(of=("self",)).filter(**lookup).select_related("changed_by").first()
            )
    if state is not None and state.version != version:
        raise StaleStep(state)
    return state


def _not_own(*, reviewer: AbstractBaseUser, person_id: int) -> None:
    if reviewer.pk == person_id:
        raise ValidationError({"key": "Your own answers are signed off or sent back by another editor or owner."})


@transaction.atomic
def step_answer(
    *, run: AnalysisRun, person: AbstractBaseUser, key: str, keys: list[str], answer: str, version: int
) -> StepState:
    """The person marks the step done with their answer. An answer changed after a sign-off goes
    back to awaiting one."""
    if key not in keys:
        raise ValidationError({"key": f"This run's guide has no step {key[:64]!r}; reload the guide."})
    answer = _text(
        answer,
        field="answer",
        label="answer",
        limit=settings.GUIDE_ANSWER_MAX_CHARS,
        setting="GUIDE_ANSWER_MAX_CHARS",
        required="Write what you checked and what you found before marking the step done.",
    )
    state = _locked_state(run=run, key=key, person_id=person.pk, version=version, create=True)
    assert state is not None  # noqa: S101 - created above when missing
    now = timezone.now()
    state.answer = answer
    state.answered_at = now
    state.status = StepStatus.DONE
    state.version += 1
    state.changed_by = person
    state.save()
    return state


@transaction.atomic
def step_sign_off(*, run: AnalysisRun, reviewer: AbstractBaseUser, person_id: int, key: str, version: int) -> StepState:
    """A senior accepts the person's answer to the step (someone else's: a second pair of eyes)."""
    _not_own(reviewer=reviewer, person_id=person_id)
    state = _locked_state(run=run, key=key, person_id=person_id, version=version, create=False)
    if state is None or state.status != StepStatus.DONE:
        raise ValidationError({"key": "Only a step marked done and awaiting sign-off can be signed off."})
    state.status = StepStatus.SIGNED_OFF
    state.reviewed_by = reviewer
    state.reviewed_at = timezone.now()
    state.comment = ""
    state.version += 1
    state.changed_by = reviewer
    state.save()
    return state


@transaction.atomic
def step_send_back(
    *, run: AnalysisRun, reviewer: AbstractBaseUser, person_id: int, key: str, version: int, comment: str
) -> StepState:
    """A senior returns the step to the person's "to do" with a comment they will see on it."""
    _not_own(reviewer=reviewer, person_id=person_id)
    comment = _text(
        comment,
        field="comment",
        label="comment",
        limit=settings.GUIDE_COMMENT_MAX_CHARS,
        setting="GUIDE_COMMENT_MAX_CHARS",
        required="Say what is missing: the comment is what the person sees on the step.",
    )
    state = _locked_state(run=run, key=key, person_id=person_id, version=version, create=False)
    if state is None or state.status == StepStatus.TODO:
        raise ValidationError({"key": "Only an answered step can be sent back."})
    state.status = StepStatus.TODO
    state.reviewed_by = reviewer
    state.reviewed_at = timezone.now()
    state.comment = comment
    state.version += 1
    state.changed_by = reviewer
    state.save()
    return state


@transaction.atomic
def team_step_create(
    *, workspace: Workspace, user: AbstractBaseUser, title: str, why: str, how: str, good: str, condition: str
) -> TeamStep:
    """A step the workspace adds to every run's guide (in its "Team steps" section)."""
    text_max = settings.GUIDE_TEAM_STEP_TEXT_MAX_CHARS
    title = _text(
        title,
        field="title",
        label="title",
        limit=min(settings.GUIDE_TEAM_STEP_TITLE_MAX_CHARS, TeamStep._meta.get_field("title").max_length or 200),
        setting="GUIDE_TEAM_STEP_TITLE_MAX_CHARS",
        required="Give the step a title: it is what people see in the list.",
    )
    texts = {
        name: _text(value, field=name, label=label, limit=text_max, setting="GUIDE_TEAM_STEP_TEXT_MAX_CHARS")
        for name, label, value in (
            ("why", "why it matters", why),
            ("how", "how to check it", how),
            ("good", "what good looks like", good),
        )
    }
    if condition not in CONDITIONS:
        raise ValidationError({"condition": f"The condition must be one of {', '.join(CONDITIONS)}."})
    # Locking the workspace row makes the count and the insert one step for concurrent adds.
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    if TeamStep.objects.filter(workspace=workspace).count() >= settings.GUIDE_TEAM_STEPS_MAX:
        raise ValidationError(
            {
                "title": f"A workspace has at most {settings.GUIDE_TEAM_STEPS_MAX} team steps "
                "(GUIDE_TEAM_STEPS_MAX); delete one first."
            }
        )
    return TeamStep.objects.create(workspace=workspace, created_by=user, title=title, condition=condition, **texts)


def team_step_delete(*, workspace: Workspace, step_id: int) -> None:
    """Removes the step from the workspace's guides; the answers given to it stay stored (and
    show again if a step of the same key ever returns, which ids make unlikely)."""
    TeamStep.objects.filter(workspace=workspace, pk=step_id).delete()
