"""Hostile member forms and racing workspace creations: a 4xx or a clear message, never a 500."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Membership, Workspace
from apps.accounts.services import workspace_create
from tests.conftest import make_user


@pytest.mark.parametrize("remove", ["abc", "", "1.5", "99999999999999999999999", "424242"])
def test_removing_a_member_that_is_not_there_is_a_404_or_a_message(
    client: Client, owner: object, viewer: object, workspace: Workspace, remove: str
) -> None:
    client.force_login(owner)
    response = client.post(reverse("accounts:members", args=[workspace.slug]), {"remove": remove})
    assert response.status_code in {400, 404}
    assert Membership.objects.filter(workspace=workspace).count() == 2


def test_a_member_of_another_workspace_cannot_be_removed_by_id(
    client: Client, owner: object, workspace: Workspace, outsider: object
) -> None:
    elsewhere = workspace_create(user=outsider, name="Elsewhere")
    other = Membership.objects.get(workspace=elsewhere)
    client.force_login(owner)
    response = client.post(reverse("accounts:members", args=[workspace.slug]), {"remove": str(other.pk)})
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_a_workspace_name_the_creator_already_uses_is_refused(client: Client, owner: object) -> None:
    workspace_create(user=owner, name="Commerce")
    with pytest.raises(ValidationError, match="already have a workspace called"):
        workspace_create(user=owner, name=" commerce ")
    client.force_login(owner)
    response = client.post(reverse("accounts:home"), {"name": "COMMERCE"})
    assert response.status_code == 200
    assert "already have a workspace called" in response.content.decode()
    assert Workspace.objects.count() == 1


def test_two_people_may_each_have_a_workspace_of_one_name(db: None) -> None:
    first = workspace_create(user=make_user("ann"), name="Payments")
    second = workspace_create(user=make_user("bob"), name="Payments")
    assert (first.slug, second.slug) == ("payments", "payments-2")


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_creations_of_one_name_give_one_workspace_and_seven_messages() -> None:
    user = make_user("racer")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def create() -> None:
        try:
            barrier.wait()
            workspace_create(user=user, name="Race")
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        except Exception as exc:  # the test reports whatever escaped
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("created") == 1, outcomes
    assert [o for o in outcomes if o != "created"] == ["You already have a workspace called 'Race'."] * 7
    assert Workspace.objects.count() == 1
    assert Membership.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_by_different_people_all_get_a_workspace() -> None:
    users = [make_user(f"user{i}") for i in range(4)]
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def create(user: object) -> None:
        try:
            barrier.wait()
            workspace_create(user=user, name="Shared name")
        except Exception as exc:  # the test reports whatever escaped
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(Workspace.objects.values_list("slug", flat=True)) == [
        "shared-name",
        "shared-name-2",
        "shared-name-3",
        "shared-name-4",
    ]
