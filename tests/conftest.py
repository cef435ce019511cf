from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from apps.accounts.models import Role, Workspace
from apps.accounts.services import membership_set, token_create, workspace_create
from apps.designs.engine.limits import ParseLimits

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
DEMO = ROOT / "apps" / "designs" / "demo" / "clinic-design.md"
PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def _no_sandbox_in_process(settings: Any) -> None:
    """Django's test cases allow only the app's database; the sandbox is exercised by the
    migration engine tests, the analyze command and the real worker (which run outside them)."""
    settings.ANALYSIS_SANDBOX_ENABLED = False


@pytest.fixture
def limits() -> ParseLimits:
    return ParseLimits()


@pytest.fixture
def shop_v1() -> str:
    return (CORPUS / "shop" / "v1-design.md").read_text(encoding="utf-8")


@pytest.fixture
def shop_v2() -> str:
    return (CORPUS / "shop" / "v2-design.md").read_text(encoding="utf-8")


def make_user(username: str) -> AbstractBaseUser:
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


@pytest.fixture
def owner(db: None) -> AbstractBaseUser:
    return make_user("olivia")


@pytest.fixture
def outsider(db: None) -> AbstractBaseUser:
    return make_user("mallory")


@pytest.fixture
def workspace(owner: AbstractBaseUser) -> Workspace:
    return workspace_create(user=owner, name="Commerce")


@pytest.fixture
def viewer(workspace: Workspace, owner: AbstractBaseUser) -> AbstractBaseUser:
    user = make_user("victor")
    membership_set(workspace=workspace, actor=owner, username="victor", role=Role.VIEWER)
    return user


@pytest.fixture
def shop_run(owner: AbstractBaseUser, workspace: Workspace, shop_v1: str) -> Any:
    """The owner's finished run of the shop design's first revision."""
    from tests.factories import make_design, make_finished_run

    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    return make_finished_run(revision=revision, user=owner)


@pytest.fixture
def api(owner: AbstractBaseUser) -> APIClient:
    """The owner's API client, authenticated with a token as scripts are."""
    _, raw = token_create(user=owner, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
