"""`manage.py generate`, run as a process, and the generated projects run in their own processes
with an empty environment (the generated code is never imported into the test process). The
generated projects use SQLite for `check`, `makemigrations --check` and `migrate` here (no
DATABASE_URL in their environment); the proof against PostgreSQL is separate work."""

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import input_from_file, parse_design
from apps.endpoints.engine.generate import generate_app
from apps.endpoints.engine.project import DEV_PINS, PINS
from tests.endpoints.helpers import RUFF, SHOP, design_file, run_in_project, write_project
from tests.public_specs import PARITY, spec_path
from tests.synthetic import design as synthetic_design

ROOT = Path(__file__).resolve().parents[2]


def _generate(*args: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "generate", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_shop_project_passes_check_makemigrations_and_migrate_in_its_own_process(tmp_path: Path) -> None:
    result = _generate(str(SHOP), "-o", str(tmp_path / "shop"))
    assert result.returncode == 0, result.stderr
    project = tmp_path / "shop"
    assert (project / "design" / "models.py").is_file() and (project / "manage.py").is_file()
    for args in (
        ("manage.py", "check", "--fail-level", "WARNING"),
        ("manage.py", "makemigrations", "--check", "--dry-run"),
        ("manage.py", "migrate", "--verbosity", "0"),
    ):
        done = run_in_project(project, *args)
        assert done.returncode == 0, (args, done.stdout + done.stderr)


def test_the_shop_projects_contract_tests_pass_and_mark_what_the_team_must_write_as_an_expected_failure(
    tmp_path: Path,
) -> None:
    project = write_project(generate_app(design_file(SHOP)), tmp_path / "shop")
    done = run_in_project(project, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    outcomes = {
        line.split("::")[-1].split()[0]: line.split()[0]
        for line in done.stdout.splitlines()
        if line.startswith(("PASSED", "FAILED", "ERROR", "XFAIL", "XPASS")) and "::" in line
    }
    # One per operation; for the five whose code keeps callers to their own rows, the same call on
    # another caller's rows (404); for the webhook, the same call unsigned (403, nothing kept).
    assert len(outcomes) == 17, done.stdout[-3000:]
    assert sorted(n for n in outcomes if n.endswith("_of_another_caller")) == [
        "test_cancel_order_of_another_caller",
        "test_get_order_of_another_caller",
        "test_list_customer_orders_of_another_caller",
        "test_pay_order_of_another_caller",
        "test_update_customer_of_another_caller",
    ]
    assert outcomes["test_payment_webhook"] == outcomes["test_payment_webhook_unsigned"] == "PASSED"
    # What the spec and the tables cannot answer alone: the order's total is the server's to work
    # out (orders.total_amount and total_currency are required, the request has neither). It
    # answers 501 until written, and its strict expected failure says what to write.
    assert {name for name, outcome in outcomes.items() if outcome != "PASSED"} == {"test_create_order"}
    assert set(outcomes.values()) == {"PASSED", "XFAIL"}
    assert "server_values() must set total_amount, total_currency" in done.stdout


def test_drf_spectacular_describes_the_shops_paths_methods_parameters_headers_and_success_statuses(
    tmp_path: Path,
) -> None:
    model = design_file(SHOP)
    project = write_project(generate_app(model), tmp_path / "shop")
    done = run_in_project(project, "manage.py", "spectacular", "--validate", "--file", "schema.yaml")
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    schema = yaml.safe_load((project / "schema.yaml").read_text(encoding="utf-8"))
    described = {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        if path != "/schema/"
        for method, operation in item.items()
    }
    assert set(described) == {(e.method, e.full_path) for e in model.endpoints}
    for endpoint in model.endpoints:
        operation = described[(endpoint.method, endpoint.full_path)]
        success = {r.status for r in endpoint.responses if r.status.startswith("2")}
        assert set(operation["responses"]) == success, endpoint.key
        spec_params = {(p.name, p.location) for p in endpoint.parameters if p.location in {"path", "query", "header"}}
        assert {(p["name"], p["in"]) for p in operation.get("parameters", [])} == spec_params, endpoint.key


def test_the_same_design_gives_byte_identical_files_whatever_the_hash_seed(tmp_path: Path) -> None:
    first = _generate(str(SHOP), "-o", str(tmp_path / "a.zip"), "--zip", seed="1")
    second = _generate(str(SHOP), "-o", str(tmp_path / "b.zip"), "--zip", seed="2")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            "# Stories only\n\n### S-1: Read\nAs a user, I want to read, so that I know.\n",
            "no API operation and no table",
        ),
        ("# Only prose\n\nNo API, no tables.\n", "design.md:1: "),
        ("openapi: 3.1.0\ninfo: {title: x}\npaths: [\n", "api.yaml:"),
    ],
)
def test_a_design_that_cannot_be_generated_exits_2_with_a_one_line_reason(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / ("design.md" if content.startswith("#") else "api.yaml")
    path.write_text(content, encoding="utf-8")
    result = _generate(str(path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("cannot generate: ")
    assert reason in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = _generate(str(tmp_path / "nope.md"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.parametrize("spec", PARITY, ids=lambda s: s.key)
def test_a_public_openapi_document_generates_a_project_that_passes_check_and_ruff(spec, tmp_path: Path) -> None:
    generation = generate_app(design_file(spec_path(spec)))
    assert generation.operations, spec.key
    assert all(o.generated or o.reason for o in generation.operations)  # never dropped silently
    project = write_project(generation, tmp_path / spec.key)
    done = run_in_project(project, "manage.py", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    for args in (["format", "--check", "."], ["check", "--no-cache", "."]):
        result = subprocess.run(  # noqa: S603 - the venv's ruff on our own output
            [str(RUFF), *args], cwd=project, capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_data_model_without_an_api_generates_models_and_a_migration_that_pass_check_and_ruff(tmp_path: Path) -> None:
    generation = generate_app(design_file(SHOP.parent / "v1-schema.sql"))
    assert generation.operations == ()
    project = write_project(generation, tmp_path / "tables")
    for args in (("manage.py", "check"), ("manage.py", "makemigrations", "--check", "--dry-run")):
        done = run_in_project(project, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    result = subprocess.run(  # noqa: S603 - the venv's ruff on our own output
        [str(RUFF), "check", "--no-cache", "."], cwd=project, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_check_constraints_of_one_name_on_several_tables_keep_djangos_checks_passing(tmp_path: Path) -> None:
    # PostgreSQL scopes a CHECK's name to its table; Django wants names unique across models.
    text = synthetic_design(30, 8, changed=True)
    parsed = parse_design(input_from_file("synthetic.sql", text), limits=ParseLimits())
    generation = generate_app(parsed.model)
    assert generation.file("design/models.py").count('name="positive_id"') == 1
    assert any("positive_id is named" in note for note in generation.notes)
    project = write_project(generation, tmp_path / "synthetic")
    for args in (("manage.py", "check"), ("manage.py", "makemigrations", "--check", "--dry-run")):
        done = run_in_project(project, *args)
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]


def test_arrays_enums_partial_and_expression_indexes_long_names_and_composite_keys_pass_django_and_ruff(
    tmp_path: Path,
) -> None:
    generation = generate_app(design_file(ROOT / "tests" / "fixtures" / "endpoints-edge-data-model.sql"))
    models = generation.file("design/models.py")
    assert "this_is_a_very_long_index_name_beyond_thirty_characters" not in models  # Django allows 30
    # A column that is a Python identifier keeps its name (the preview's field); `pk` cannot.
    assert "    Email = models.CharField(" in models and "pk_value = " in models
    assert 'db_column="pk"' in models and "models.CompositePrimaryKey(" in models
    project = write_project(generation, tmp_path / "edge")
    for args in (("manage.py", "check"), ("manage.py", "makemigrations", "--check", "--dry-run")):
        done = run_in_project(project, *args)
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    for args in (["format", "--check", "."], ["check", "--no-cache", "."]):
        result = subprocess.run(  # noqa: S603 - the venv's ruff on our own output
            [str(RUFF), *args], cwd=project, capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_project_pins_the_versions_the_workbench_runs() -> None:
    for name, version in {**PINS, **DEV_PINS}.items():
        assert importlib.metadata.version(name.split("[")[0]) == version, name


# Run inside the generated shop project, beside its contract tests: what the signature check refuses.
_RECEIVER_CASES = """
import hashlib
import hmac
import json

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from django.core.cache import cache

BODY = json.dumps({"event": "payment.succeeded", "callback_url": "https://example.com/"}).encode()
URL = "/v1/webhooks/payments"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def _post(signature):
    headers = {"X-Signature": signature} if signature is not None else {}
    return APIClient().post(URL, data=BODY, content_type="application/json", headers=headers)


def _kept():
    return apps.get_model("inbox", "ReceivedEvent").objects.count()


def _sign(secret, body=BODY):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_signature_of_another_secret_or_body_is_refused(settings):
    settings.WEBHOOK_SECRET = "right"
    assert _post(_sign("wrong")).status_code == 403
    assert _post(_sign("right", BODY + b" ")).status_code == 403
    assert _post("").status_code == 403
    assert _kept() == 0


def test_without_a_secret_every_call_is_refused(settings):
    settings.WEBHOOK_SECRET = ""
    assert _post(_sign("")).status_code == 403
    assert _kept() == 0


def test_a_prefixed_signature_is_taken_and_the_validated_body_kept(settings):
    settings.WEBHOOK_SECRET = "right"
    assert _post("sha256=" + _sign("right")).status_code == 200
    event = apps.get_model("inbox", "ReceivedEvent").objects.get()
    assert (event.operation, event.payload["event"], event.handled_at) == ("paymentWebhook", "payment.succeeded", None)


def test_the_body_is_kept_whole_fields_beyond_the_schema_included(settings):
    settings.WEBHOOK_SECRET = "right"
    body = json.dumps({"event": "refund", "callback_url": "https://example.com/", "data": {"id": "re_1"}}).encode()
    response = APIClient().post(URL, data=body, content_type="application/json", headers={"X-Signature": _sign("right", body)})
    assert response.status_code == 200
    assert apps.get_model("inbox", "ReceivedEvent").objects.get().payload["data"] == {"id": "re_1"}


def test_the_default_anonymous_rate_throttles_every_operation(settings):
    settings.WEBHOOK_SECRET = "right"
    statuses = {_post(_sign("wrong")).status_code for _ in range(70)}
    assert statuses == {403, 429}


def test_a_signed_body_the_schema_refuses_is_a_400_and_not_kept(settings):
    settings.WEBHOOK_SECRET = "right"
    body = json.dumps({"callback_url": "not a url"}).encode()
    response = APIClient().post(URL, data=body, content_type="application/json", headers={"X-Signature": _sign("right", body)})
    assert response.status_code == 400 and "callback_url" in response.json()
    assert _kept() == 0
"""


def test_the_shop_webhooks_receiver_refuses_forged_calls_and_keeps_signed_ones(tmp_path: Path) -> None:
    project = write_project(generate_app(design_file(SHOP)), tmp_path / "shop")
    (project / "design" / "tests" / "test_receiver_cases.py").write_text(_RECEIVER_CASES, encoding="utf-8")
    done = run_in_project(
        project, "-m", "pytest", "-p", "no:cacheprovider", "-q", "design/tests/test_receiver_cases.py", timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "6 passed" in done.stdout, done.stdout[-3000:]
