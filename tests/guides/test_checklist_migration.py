"""The data step that moves the security checklist's verdicts from runs to revisions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.security.models import ChecklistReview
from tests.conftest import make_user
from tests.factories import make_design, make_finished_run

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("security", "0001_initial")]


def _migrate(targets: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    # Without targets, every app's latest: going back unapplied the migrations that depend on security.
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_verdicts_move_to_their_revision_keeping_each_reviewers_newest(
    owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    other = make_user("rita")
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    first, second = make_finished_run(revision=revision, user=owner), make_finished_run(revision=revision, user=owner)
    now = timezone.now()
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for run, reviewer, status, age in (
                (first, owner, "fail", 2),
                (second, owner, "pass", 1),  # the newer verdict of the same reviewer on the same item
                (first, other, "needs_review", 3),
            ):
                cursor.execute(
                    "INSERT INTO security_checklistreview (run_id, key, reviewer_id, status, note, updated_at)"
                    " VALUES (%s, 'API1', %s, %s, '', %s)",
                    [run.pk, reviewer.pk, status, now - timedelta(minutes=age)],
                )
    finally:
        _migrate()
    kept = {(r.reviewer_id, r.status, r.revision_id, r.run_id) for r in ChecklistReview.objects.all()}
    assert kept == {(owner.pk, "pass", revision.pk, second.pk), (other.pk, "needs_review", revision.pk, first.pk)}
