"""A share link seen by someone hostile: what an anonymised page must not give away."""

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis import services as analysis_services
from apps.designs.engine.loader import DesignInput
from apps.designs.engine.model import ApiSettings, DesignModel, SourceRef
from apps.designs.services import revision_create
from apps.reports.anonymise import design_names
from apps.reports.models import ShareLink, ShareView
from tests.factories import make_design, make_finished_run


def _share(client: Client, run_id: int) -> str:
    response = client.post(reverse("reports:shares", args=[run_id]), {"days": "7", "anonymise": "1"}, follow=True)
    found = re.search(r'id="share-url">[^<]*/s/([^/<]+)/<', response.content.decode())
    assert found is not None
    return found.group(1)


def test_an_anonymised_share_hides_the_base_revisions_names_and_the_document_names(
    client: Client, owner: Any, workspace: Workspace, shop_v1: str
) -> None:
    design, v1 = make_design(workspace=workspace, user=owner, document=shop_v1, name="Globex shop")
    v1.document_name = "globex-orders.md"
    v1.save(update_fields=["document_name"])
    make_finished_run(revision=v1, user=owner)
    # The later revision renames a table: its run's "fixed" list names the base revision's table.
    v2 = revision_create(
        design=design,
        user=owner,
        texts=DesignInput(document=shop_v1.replace("audit_log", "journal"), document_name="globex-orders-v2.md"),
    )
    run = analysis_services.run_start(revision=v2, user=owner, base_revision=v1)
    analysis_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert any("audit_log" in f["title"] for f in run.report["changes"]["fixed"])
    client.force_login(owner)
    token = _share(client, run.pk)
    client.logout()
    response = client.get(f"/s/{token}/")
    html = response.content.decode()
    assert response.status_code == 200 and "fixed: " in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "audit_log" not in html
    assert "globex" not in html.lower()
    assert "document_1" in html


def test_a_run_has_at_most_share_links_max_per_run_links(
    client: Client, owner: Any, shop_run: Any, settings: Any
) -> None:
    settings.SHARE_LINKS_MAX_PER_RUN = 2
    client.force_login(owner)
    _share(client, shop_run.pk)
    _share(client, shop_run.pk)
    refused = client.post(reverse("reports:shares", args=[shop_run.pk]), {"days": "7"})
    assert refused.status_code == 400 and "SHARE_LINKS_MAX_PER_RUN" in refused.content.decode()
    assert ShareLink.objects.filter(run=shop_run).count() == 2
    # Deleting one makes room again.
    link = ShareLink.objects.filter(run=shop_run).first()
    assert link is not None
    client.post(reverse("reports:share-delete", args=[link.pk]))
    _share(client, shop_run.pk)


def test_an_anonymised_share_hides_the_apis_server_hosts_and_operation_ids(
    client: Client, owner: Any, shop_run: Any
) -> None:
    assert shop_run.findings.filter(message__contains="staging-api.shop.example").exists()
    client.force_login(owner)
    token = _share(client, shop_run.pk)
    client.logout()
    pages = [client.get(f"/s/{token}/", {"page": n}).content.decode() for n in range(1, 4)]
    html = "".join(pages)
    assert "shop.example" not in html and "host_1" in html
    # The operations' ids name the design too: (getOrder), (exportCustomer).
    assert "getOrder" not in html and "exportCustomer" not in html and "(operation_" in html


def test_server_hosts_are_named_however_the_servers_are_written() -> None:
    servers = ("https://u:p@api.globex.example:8443/v1", "/relative", "http://[::1", "{scheme}://x.io")
    api = ApiSettings("t", "1", "3.1.0", servers, "/v1", (), (), (), SourceRef("openapi.yaml", 1))
    hosts = set(design_names(DesignModel(api=api)).hosts)
    assert {"api.globex.example:8443", "api.globex.example", "x.io"} <= hosts
    assert not any("u:p" in host for host in hosts)


def test_the_page_showing_a_new_links_address_is_not_kept_by_the_browser(
    client: Client, owner: Any, shop_run: Any
) -> None:
    client.force_login(owner)
    response = client.post(reverse("reports:shares", args=[shop_run.pk]), {"days": "7"}, follow=True)
    assert 'id="share-url"' in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_links_view_log_stops_growing_at_share_link_max_logged_views(
    client: Client, owner: Any, shop_run: Any, settings: Any
) -> None:
    settings.SHARE_LINK_MAX_LOGGED_VIEWS = 2
    client.force_login(owner)
    token = _share(client, shop_run.pk)
    client.logout()
    for _ in range(4):  # anyone holding the link: each opening was a row, without end
        assert client.get(f"/s/{token}/").status_code == 200
    assert ShareView.objects.count() == 2
    client.force_login(owner)
    page = client.get(reverse("reports:shares", args=[shop_run.pk])).content.decode()
    assert 'class="share-views">2 or more<' in page
