import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import ApiToken, Membership, Role, Workspace
from tests.conftest import PASSWORD


def test_sign_up_logs_in_and_a_workspace_makes_the_user_owner(client: Client, db: None) -> None:
    response = client.post(
        reverse("accounts:signup"), {"username": "nina", "email": "", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    response = client.post(reverse("accounts:home"), {"name": "Payments team"})
    workspace = Workspace.objects.get()
    assert response.headers["Location"] == reverse("accounts:workspace", args=[workspace.slug])
    assert Membership.objects.get().role == Role.OWNER


def test_pages_need_a_login(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("accounts:login"))


def test_another_workspace_is_a_404(client: Client, workspace: Workspace, outsider: object) -> None:
    client.force_login(outsider)
    assert client.get(reverse("accounts:workspace", args=[workspace.slug])).status_code == 404


def test_only_owners_manage_members(
    client: Client, workspace: Workspace, owner: object, viewer: object, outsider: object
) -> None:
    client.force_login(viewer)
    assert (
        client.post(
            reverse("accounts:members", args=[workspace.slug]), {"username": "mallory", "role": "editor"}
        ).status_code
        == 403
    )
    client.force_login(owner)
    client.post(reverse("accounts:members", args=[workspace.slug]), {"username": "mallory", "role": "editor"})
    assert Membership.objects.get(user=outsider).role == Role.EDITOR


def test_the_last_owner_cannot_leave(client: Client, workspace: Workspace, owner: object) -> None:
    client.force_login(owner)
    membership = Membership.objects.get(user=owner)
    response = client.post(reverse("accounts:members", args=[workspace.slug]), {"remove": membership.pk}, follow=True)
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_token_is_shown_once_and_stored_hashed(client: Client, owner: object) -> None:
    client.force_login(owner)
    response = client.post(reverse("accounts:tokens"), {"name": "CI"})
    raw = response.context["created"]
    assert raw.startswith("wbt_")
    token = ApiToken.objects.get()
    assert raw not in (token.key_hash, token.prefix)
    assert raw not in client.get(reverse("accounts:tokens")).content.decode()


@pytest.mark.parametrize("path", ["/healthz"])
def test_healthz_answers_without_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response.headers["X-Request-ID"]) == 32
