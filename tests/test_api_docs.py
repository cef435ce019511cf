"""The API's documentation pages: Swagger UI only. Redoc was removed: its page needs inline
script and styles the Content-Security-Policy blocks, and Swagger UI documents the same schema."""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse


def test_redoc_is_gone(client: Client, db: None) -> None:
    assert client.get("/api/redoc/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("redoc")


def test_no_page_links_to_redoc(client: Client, owner: object) -> None:
    client.force_login(owner)
    for path in (reverse("accounts:home"), reverse("swagger-ui")):
        response = client.get(path)
        assert response.status_code == 200
        assert "redoc" not in response.content.decode().lower(), path
