"""A share link's token is a password to the report: it never reaches the logs."""

import logging
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from gunicorn.config import Config

from workbench.access_log import AccessLogger
from workbench.logging import JsonFormatter

TOKEN = "Zk3vQ9xLr2Tq8WmN4bHc7JdP0sFa6YeU1oGi5nKtR2w"


def test_the_applications_log_of_a_refused_share_link_omits_its_token(
    client: Client, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(f"/s/{TOKEN}/").status_code == 404
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any("/s/" in line for line in lines)
    assert all(TOKEN not in line for line in lines)


def test_the_access_log_omits_share_link_tokens() -> None:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/s/{TOKEN}/?page=2",
        "PATH_INFO": f"/s/{TOKEN}/",
        "QUERY_STRING": "page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://workbench.example/s/{TOKEN}/",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = AccessLogger(Config()).atoms(response, [("REFERER", environ["HTTP_REFERER"])], environ, timedelta(0))
    assert atoms["r"] == "GET /s/[token]/?page=2 HTTP/1.1" and atoms["U"] == "/s/[token]/"
    assert all(TOKEN not in str(value) for value in atoms.values())
    other = dict(environ, RAW_URI="/designs/4/", PATH_INFO="/designs/4/", HTTP_REFERER="-")
    assert AccessLogger(Config()).atoms(response, [], other, timedelta(0))["r"] == "GET /designs/4/ HTTP/1.1"
