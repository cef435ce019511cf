"""Log-ins are throttled per account and per address (django-axes); the API per token and per user."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from apps.accounts.services import token_create
from tests.conftest import PASSWORD, make_user


@pytest.fixture(autouse=True)
def _three_failures(settings: SettingsWrapper) -> None:
    """A smaller limit than production's keeps these tests quick (each attempt hashes a password)."""
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 3


def _log_in(client: Client, username: str, password: str, address: str = "10.0.0.1") -> object:
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail_until_locked(client: Client, settings: SettingsWrapper, username: str) -> None:
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _log_in(client, username, "not-the-password")


def test_after_the_failure_limit_the_right_password_is_refused_with_the_lockout_page(
    client: Client, owner: object, settings: SettingsWrapper
) -> None:
    _fail_until_locked(client, settings, "olivia")
    response = _log_in(client, "olivia", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert f"Logging in is paused after {settings.LOGIN_FAILURE_LIMIT} failed attempts" in page
    assert f"Try again in {settings.LOGIN_LOCKOUT_MINUTES} minutes." in page
    assert "<html" in page  # the lockout page, not a bare 403 text
    assert "_auth_user_id" not in client.session


def test_the_locked_account_is_refused_from_another_address_too(
    client: Client, owner: object, settings: SettingsWrapper
) -> None:
    _fail_until_locked(client, settings, "olivia")
    assert _log_in(Client(), "olivia", PASSWORD, address="10.9.9.9").status_code == 429


def test_the_locked_address_is_refused_for_another_account_too(
    client: Client, owner: object, outsider: object, settings: SettingsWrapper
) -> None:
    _fail_until_locked(client, settings, "olivia")
    assert _log_in(Client(), "mallory", PASSWORD).status_code == 429


def test_another_account_from_another_address_still_logs_in(
    client: Client, owner: object, outsider: object, settings: SettingsWrapper
) -> None:
    _fail_until_locked(client, settings, "olivia")
    other = Client()
    response = _log_in(other, "mallory", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(outsider.pk)  # type: ignore[attr-defined]


def test_fewer_failures_than_the_limit_leave_the_right_password_working(
    client: Client, owner: object, settings: SettingsWrapper
) -> None:
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert _log_in(client, "olivia", "not-the-password").status_code == 200
    assert _log_in(client, "olivia", PASSWORD).status_code == 302


@pytest.fixture
def fresh_counts() -> Iterator[None]:
    """DRF counts requests in Django's cache, which outlives each test's database."""
    cache.clear()
    yield
    cache.clear()


def test_api_requests_beyond_the_token_rate_get_429(
    owner: object, settings: SettingsWrapper, fresh_counts: None
) -> None:
    settings.API_THROTTLE_TOKEN_RATE = "3/min"
    _, raw = token_create(user=owner, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [api.get("/api/v1/workspaces/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "Retry-After" in api.get("/api/v1/workspaces/").headers
    _, other = token_create(user=owner, name="another script")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert api.get("/api/v1/workspaces/").status_code == 200  # each token has its own budget


def test_api_requests_beyond_the_user_rate_get_429_whatever_the_token(
    owner: object, settings: SettingsWrapper, fresh_counts: None
) -> None:
    settings.API_THROTTLE_USER_RATE = "4/min"
    api = APIClient()
    statuses = []
    for name in ("a", "b", "c", "d", "e"):
        _, raw = token_create(user=owner, name=name)
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        statuses.append(api.get("/api/v1/workspaces/").status_code)
    assert statuses == [200, 200, 200, 200, 429]
    other = APIClient()
    other.force_authenticate(make_user("nina"))
    assert other.get("/api/v1/workspaces/").status_code == 200
