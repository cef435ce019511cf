"""The demo the README promises: a login, a workspace and a design with two revisions to compare."""

import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from apps.designs.models import Design
from tests.analysis.test_command import analyze
from tests.conftest import DEMO


@pytest.mark.django_db
def test_the_demo_is_seeded_once_with_two_revisions() -> None:
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # again: nothing doubles
    design = Design.objects.get(workspace__slug="demo")
    assert list(design.revisions.values_list("number", flat=True).order_by("number")) == [1, 2]
    # django-axes (login throttling) needs the request that carries the credentials.
    assert authenticate(RequestFactory().post("/login/"), username="demo", password="demo-workbench") is not None


def test_the_demo_revision_pair_has_a_migration_worth_reviewing() -> None:
    result = analyze(str(DEMO.with_name("clinic-design-v2.md")), "--base", str(DEMO), "--only", "migrations")
    assert result.returncode == 0, result.stderr
    section = json.loads(result.stdout)["migrations"]
    assert section["renames"]["detected"] == ["appointments.reason -> visit_reason"]
    statements = {s["sql"]: s for s in section["statements"]}
    widened = statements['ALTER TABLE "clinicians" ALTER COLUMN "specialty" TYPE varchar(200);']
    assert (widened["rewrites_table"], widened["risk"]) == (False, "low")  # widening a varchar is metadata only
    channel = next(s for s in section["statements"] if '"channel"' in s["sql"] and "ADD COLUMN" in s["sql"])
    assert not channel["rewrites_table"]  # a constant default has not rewritten the table since PostgreSQL 11
    ends_at = next(s for s in section["statements"] if '"ends_at"' in s["sql"])
    assert ends_at["risk"] == "high"
    assert "AddIndexConcurrently(" in section["safe_migration"]["source"]
