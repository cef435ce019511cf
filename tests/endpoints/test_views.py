"""The endpoints tab: the generated files served from the stored report, to members only."""

import io
import re
import zipfile
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun, RunStatus
from apps.endpoints.engine.analyzer import analyze_endpoints
from apps.endpoints.selectors import safe_path
from apps.endpoints.services import endpoints_section_pack
from tests.endpoints.helpers import SHOP, design_file
from tests.factories import make_design

SKIPPED = "2,500 operations: an API of more than 2,000 (ENDPOINTS_MAX_OPERATIONS) is generated with `manage.py generate FILE -o DIR`, not in every analysis"


@pytest.fixture(scope="module")
def section() -> dict[str, Any]:
    _, section = analyze_endpoints(design_file(SHOP))
    return section


def _run(workspace: Workspace, owner: AbstractBaseUser, document: str, report: dict[str, Any]) -> AnalysisRun:
    _, revision = make_design(workspace=workspace, user=owner, document=document)
    return AnalysisRun.objects.create(
        revision=revision, status=RunStatus.SUCCEEDED, finished_at=timezone.now(), report=report
    )


@pytest.fixture
def run(workspace: Workspace, owner: AbstractBaseUser, shop_v1: str, section: dict[str, Any]) -> AnalysisRun:
    report = {
        "analyzers": [{"name": "endpoints", "status": "succeeded", "reason": "", "findings": 0, "duration_ms": 1.0}],
        "endpoints": endpoints_section_pack(dict(section)),
    }
    return _run(workspace, owner, shop_v1, report)


def _files(section: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["content"] for f in section["files"]}


@pytest.mark.django_db
def test_members_see_the_tab_and_others_get_404(
    client: Client, run: AnalysisRun, owner: AbstractBaseUser, outsider: AbstractBaseUser, viewer: AbstractBaseUser
) -> None:
    urls = [
        f"/runs/{run.pk}/endpoints/",
        f"/runs/{run.pk}/endpoints/files/design/views.py",
        f"/runs/{run.pk}/endpoints/download/design/views.py",
        f"/runs/{run.pk}/endpoints/project.zip",
    ]
    for user in (owner, viewer):
        client.force_login(user)
        assert [client.get(url).status_code for url in urls] == [200, 200, 200, 200]
    client.force_login(outsider)
    assert [client.get(url).status_code for url in urls] == [404, 404, 404, 404]


@pytest.mark.django_db
def test_logged_out_visitors_are_sent_to_log_in(client: Client, run: AnalysisRun) -> None:
    for url in (f"/runs/{run.pk}/endpoints/", f"/runs/{run.pk}/endpoints/project.zip"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response["Location"]


@pytest.mark.django_db
def test_the_tree_lists_every_file(
    client: Client, run: AnalysisRun, owner: AbstractBaseUser, section: dict[str, Any]
) -> None:
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/endpoints/").content.decode()
    tree = page.split('id="file-tree"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(rf'href="/runs/{run.pk}/endpoints/files/([^"]+)"', tree)
    assert sorted(links) == sorted(_files(section))
    assert len(section["files"]) > 5


@pytest.mark.django_db
def test_the_page_and_the_overview_summarise_the_operations(
    client: Client, run: AnalysisRun, owner: AbstractBaseUser, section: dict[str, Any]
) -> None:
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/endpoints/").content.decode()
    total = len(section["operations"])
    generated = sum(1 for o in section["operations"] if o["generated"])
    assert (total, generated) == (11, 11)
    assert f"<strong>{generated}</strong> of {total} operations generated" in page
    overview = client.get(f"/runs/{run.pk}/").content.decode()
    assert f"{generated} of {total} operations generated" in overview
    assert f'href="/runs/{run.pk}/endpoints/" id="open-endpoints"' in overview


def _proof_block(client: Client, run: AnalysisRun) -> str:
    page = client.get(f"/runs/{run.pk}/endpoints/").content.decode()
    return page.split('id="endpoints-proof"', 1)[1].split("</div>", 1)[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proof", "said"),
    [
        ({"status": "not built yet", "reason": "nothing here has been run"}, "not built yet"),
        ({"status": "not run", "reason": "not run: runs in the worker with the sandbox"}, "not run"),
    ],
)
def test_a_proof_not_built_or_not_run_is_said_plainly(
    client: Client,
    workspace: Workspace,
    owner: AbstractBaseUser,
    shop_v1: str,
    section: dict[str, Any],
    proof: dict[str, str],
    said: str,
) -> None:
    run = _run(workspace, owner, shop_v1, {"endpoints": endpoints_section_pack({**section, "proof": proof})})
    client.force_login(owner)
    block = _proof_block(client, run)
    assert f'<strong class="status failed">{said}</strong>' in block
    assert proof["reason"] in block
    assert "passed" not in block


@pytest.mark.django_db
def test_a_proof_made_before_operations_were_called_says_the_calls_are_not_in_the_report(
    client: Client, workspace: Workspace, owner: AbstractBaseUser, shop_v1: str, section: dict[str, Any]
) -> None:
    step = {"status": "passed", "reason": "", "exit_code": 0, "seconds": 1.0, "output": ""}
    proof = {
        "status": "failed",
        "reason": "ruff: exit 1",
        "check": step,
        "makemigrations": step,
        "migrate": step,
        "ruff": {**step, "status": "failed", "reason": "exit 1", "output": "F401 unused"},
        "schema": step,
        "drift": {"status": "failed", "reason": "", "count": 2, "kinds": {"missing-path": 2}},
    }
    run = _run(workspace, owner, shop_v1, {"endpoints": endpoints_section_pack({**section, "proof": proof})})
    client.force_login(owner)
    block = _proof_block(client, run)
    names = re.findall(r"<li>([a-z_]+): <span", block)
    assert names == ["check", "makemigrations", "migrate", "ruff", "schema"]
    assert "F401 unused" in block
    assert "2 differences" in block
    assert "calling each operation against synthetic rows: <strong>not in this report</strong>" in block


@pytest.mark.django_db
def test_a_proof_that_called_the_operations_shows_each_call_its_queries_and_an_n_plus_one(
    client: Client, workspace: Workspace, owner: AbstractBaseUser, shop_v1: str, section: dict[str, Any]
) -> None:
    step = {"status": "passed", "reason": "", "exit_code": 0, "seconds": 1.0, "output": ""}
    names = ("check", "makemigrations", "migrate", "ruff", "schema", "contract_tests", "queries")
    proof = {"status": "passed", "reason": "", **dict.fromkeys(names, step)}
    operations = [dict(o) for o in section["operations"]]
    listed = next(o for o in operations if o["operation_id"] == "searchOrders")
    listed.update(
        called={"test": "test_search_orders", "outcome": "passed", "status": 200},
        queries_per_request=3,
        queries_per_item=1.0,
        queries=['SELECT "orders"."id" FROM "orders" WHERE "orders"."status" = \'<paid>\''],
    )
    failing = next(o for o in operations if o["operation_id"] == "createOrder")
    failing.update(
        called={"test": "test_create_order", "outcome": "failed", "status": None, "requested": True},
        queries_per_request=None,
    )
    unmeasured = next(o for o in operations if o["operation_id"] == "listProducts")
    unmeasured.update(
        called={"test": "test_list_products", "outcome": "passed", "status": 200, "requested": True},
        queries_per_request=2,
        queries_per_item_unmeasured="the list showed 1 row(s) both times: no copies of its rows could be made",
    )
    never = next(o for o in operations if o["operation_id"] == "getProduct")
    never.update(called={"test": "test_get_product", "outcome": "failed", "status": None, "requested": False})
    packed = endpoints_section_pack({**section, "operations": operations, "proof": proof})
    run = _run(workspace, owner, shop_v1, {"endpoints": packed})
    client.force_login(owner)
    block = _proof_block(client, run)
    assert re.findall(r"<li>([a-z_]+): <span", block) == list(names)
    assert "not in this report" not in block
    page = client.get(f"/runs/{run.pk}/endpoints/").content.decode()
    row = next(r for r in page.split("<tr>") if "searchOrders" in r)
    assert '>passed</span> <span class="muted">200</span>' in row
    assert "+1.0 per row (N+1)" in row
    assert "&#x27;&lt;paid&gt;&#x27;" in row  # the captured SQL, escaped
    failed = next(r for r in page.split("<tr>") if "createOrder" in r)
    assert '>failed</span> <span class="muted">server error</span>' in failed
    products = next(r for r in page.split("<tr>") if "listProducts" in r)
    assert "per row: not measured (the list showed 1 row(s) both times" in products and "N+1" not in products
    product = next(r for r in page.split("<tr>") if "getProduct" in r)
    assert '>failed</span> <span class="muted">no request made</span>' in product


@pytest.mark.django_db
def test_the_run_page_and_tab_give_each_reason_operations_were_not_generated(
    client: Client, workspace: Workspace, owner: AbstractBaseUser, shop_v1: str
) -> None:
    section = {
        "operations": [
            {"operation_id": "a", "method": "GET", "path": "/a", "generated": True, "reason": ""},
            {"operation_id": "b", "method": "GET", "path": "/b", "generated": False, "reason": "no table backs it"},
            {"operation_id": "c", "method": "PUT", "path": "/c", "generated": False, "reason": "no table backs it"},
        ],
        "files": [{"path": "design/views.py", "content": "x = 1\n"}],
        "renamed": [],
        "notes": [],
        "proof": {"status": "not built yet", "reason": "nothing here has been run"},
    }
    run = _run(workspace, owner, shop_v1, {"endpoints": endpoints_section_pack(section)})
    client.force_login(owner)
    overview = client.get(f"/runs/{run.pk}/").content.decode()
    assert "1 of 3 operations generated, 2 not." in overview
    assert "<li>2 not generated: no table backs it</li>" in overview
    tab = client.get(f"/runs/{run.pk}/endpoints/").content.decode()
    assert "<li>2 operations: no table backs it</li>" in tab


@pytest.mark.django_db
def test_a_file_page_highlights_python(client: Client, run: AnalysisRun, owner: AbstractBaseUser) -> None:
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/endpoints/files/design/views.py").content.decode()
    code = page.split('id="code-file"', 1)[1]
    assert '<div class="highlight"><pre>' in code
    assert '<span class="kn">from</span>' in code or '<span class="kn">import</span>' in code
    assert f'href="/runs/{run.pk}/endpoints/download/design/views.py" download' in page
    assert 'data-copy="code-file"' in page


@pytest.mark.django_db
def test_a_download_is_the_files_exact_content(
    client: Client, run: AnalysisRun, owner: AbstractBaseUser, section: dict[str, Any]
) -> None:
    client.force_login(owner)
    for path, content in _files(section).items():
        response = client.get(f"/runs/{run.pk}/endpoints/download/{path}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="{path.rsplit("/", 1)[-1]}"'
        assert response.content == content.encode("utf-8")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "design/secrets.py",
        "../../etc/passwd",
        "design/../manage.py",
        "design/./views.py",
        "%2e%2e/%2e%2e/etc/passwd",
        "..%2fmanage.py",
        "/etc/passwd",
        "design//views.py",
        "design/views.py/",
    ],
)
def test_a_path_not_in_the_report_is_404(client: Client, run: AnalysisRun, owner: AbstractBaseUser, path: str) -> None:
    client.force_login(owner)
    assert client.get(f"/runs/{run.pk}/endpoints/download/{path}").status_code == 404
    assert client.get(f"/runs/{run.pk}/endpoints/files/{path}").status_code == 404


def test_only_relative_normal_paths_are_safe() -> None:
    assert safe_path("design/views.py") and safe_path("manage.py")
    for path in ("", "/abs.py", "../x", "a/../b", "a/./b", "a//b", "a\\b", "a/", ".", "a\nb", None):
        assert not safe_path(path), path


@pytest.mark.django_db
def test_the_zip_holds_exactly_the_files_with_the_same_bytes(
    client: Client, run: AnalysisRun, owner: AbstractBaseUser, section: dict[str, Any]
) -> None:
    client.force_login(owner)
    response = client.get(f"/runs/{run.pk}/endpoints/project.zip")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="run-{run.pk}-endpoints.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert sorted(names) == sorted(_files(section))
        for name in names:
            assert archive.read(name) == _files(section)[name].encode("utf-8")
            assert not name.startswith("/") and ".." not in name.split("/")
            assert archive.getinfo(name).date_time == (1980, 1, 1, 0, 0, 0)
    assert client.get(f"/runs/{run.pk}/endpoints/project.zip").content == response.content


@pytest.mark.django_db
def test_the_pages_carry_no_inline_style_or_script(client: Client, run: AnalysisRun, owner: AbstractBaseUser) -> None:
    client.force_login(owner)
    for url in (f"/runs/{run.pk}/endpoints/", f"/runs/{run.pk}/endpoints/files/design/views.py"):
        page = client.get(url).content.decode()
        assert not re.search(r"\sstyle=", page)
        assert "<style" not in page
        assert not re.search(r"\son[a-z]+=", page)
        assert not re.search(r"\shx-on", page)
        for script in re.findall(r"<script\b[^>]*>", page):
            assert "src=" in script, script


@pytest.mark.django_db
def test_a_run_whose_endpoints_analyzer_was_skipped_says_why(
    client: Client, workspace: Workspace, owner: AbstractBaseUser, shop_v1: str
) -> None:
    report = {
        "analyzers": [{"name": "endpoints", "status": "skipped", "reason": SKIPPED, "findings": 0, "duration_ms": 0.0}]
    }
    run = _run(workspace, owner, shop_v1, report)
    client.force_login(owner)
    response = client.get(f"/runs/{run.pk}/endpoints/")
    assert response.status_code == 200
    assert (
        "the endpoints analyzer was skipped (2,500 operations: an API of more than 2,000" in response.content.decode()
    )
    assert client.get(f"/runs/{run.pk}/endpoints/project.zip").status_code == 404
    assert client.get(f"/runs/{run.pk}/endpoints/download/manage.py").status_code == 404


@pytest.mark.django_db
def test_get_never_writes(client: Client, run: AnalysisRun, owner: AbstractBaseUser) -> None:
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        for url in (
            f"/runs/{run.pk}/endpoints/",
            f"/runs/{run.pk}/endpoints/files/design/views.py",
            f"/runs/{run.pk}/endpoints/download/design/views.py",
            f"/runs/{run.pk}/endpoints/project.zip",
        ):
            assert client.get(url).status_code == 200
    writes = [q["sql"] for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.IGNORECASE)]
    assert not [sql for sql in writes if "django_session" not in sql and "last_login" not in sql]
    assert client.post(f"/runs/{run.pk}/endpoints/").status_code == 405
