"""The landing page visitors get at `/`, and the demo it offers only when the demo account works."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse


def test_a_visitor_gets_the_landing_page_with_what_it_does_and_the_ways_in(client: Client, db: None) -> None:
    cache.clear()
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Review a backend design before it is built",
        "Generated endpoints",
        "Migration previews",
        "rollback",
        "zero-downtime review",
        "EXPLAIN ANALYZE",
        "proven by the plan",
        "Security checklist",
        "One review",
    ):
        assert text in page, text
    assert f'href="{reverse("accounts:signup")}" id="landing-signup"' in page
    assert f'href="{reverse("accounts:login")}" id="landing-login"' in page
    # No demo account here: no demo is offered, the page says so and shows the design instead.
    assert 'id="try-demo"' not in page
    assert 'id="no-demo"' in page
    assert "APT-1: Patient books an appointment" in page
    assert "Table appointments" in page
    assert "-- name: clinic_day_schedule" in page


def test_the_demo_is_offered_once_seeded_and_withdrawn_when_its_password_changes(
    client: Client, db: None, settings: Any
) -> None:
    cache.clear()
    call_command("seed_demo", stdout=None)
    page = client.get("/").content.decode()
    assert 'id="try-demo"' in page
    assert f"?next={reverse('accounts:workspace', args=['demo'])}" in page
    assert '<code id="demo-password">demo-workbench</code>' in page
    # The offered login works, and leads to the demo workspace.
    response = client.post(
        reverse("accounts:login"),
        {"username": "demo", "password": "demo-workbench", "next": reverse("accounts:workspace", args=["demo"])},
    )
    assert response.headers["Location"] == reverse("accounts:workspace", args=["demo"])
    client.logout()

    user = get_user_model().objects.get(username="demo")
    user.set_password("something-else-entirely")
    user.save()
    page = client.get("/").content.decode()
    assert 'id="try-demo"' not in page
    assert "demo-workbench" not in page

    settings.DEMO_USERNAME = ""
    assert 'id="try-demo"' not in client.get("/").content.decode()


def test_a_logged_in_user_at_the_root_gets_their_workspaces(client: Client, owner: object, workspace: object) -> None:
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your workspaces" in page
    assert "Commerce" in page
    assert 'id="landing-signup"' not in page


def test_a_visitors_post_to_the_root_is_sent_to_log_in(client: Client, db: None) -> None:
    from apps.accounts.models import Workspace

    response = client.post("/", {"name": "Sneaky"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("accounts:login"))
    assert not Workspace.objects.exists()


def test_every_page_starts_with_a_skip_link_to_the_main_content(client: Client, db: None) -> None:
    page = client.get("/").content.decode()
    body = page[page.index("<body") :]
    first_link = body.index("<a ")
    assert body[first_link:].startswith('<a class="skip-link" href="#main" id="skip-link">Skip to content</a>')
    assert '<main id="main"' in body
    assert "style=" not in body  # the CSP allows no inline style
