"""The proof's runner: a Django project run in a confined child, on its own sandbox database.

Hand-written projects under tests/fixtures/endpoints/ stand in for generated ones: `good` (a
model, a serializer, a viewset, urls, drf-spectacular), `broken` (check fails) and `hostile`
(settings modules that spin, sleep, hog memory, flood the disk, or look for the workbench).
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import input_from_file, parse_design
from apps.endpoints.engine.calls import n_plus_one_findings, operation_calls
from apps.endpoints.engine.generate import GeneratedFile, generate_app
from apps.endpoints.engine.project import project_files
from apps.endpoints.proof import (
    STEPS,
    ProofLimits,
    ProofRun,
    ProofUnavailable,
    endpoints_prove,
    proof_limits,
    proof_run,
    proof_run_files,
)
from apps.sandbox.services import sandbox_config
from tests.conftest import CORPUS, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "endpoints"
SHOP = CORPUS / "shop" / "v1-design.md"


@pytest.fixture
def limits() -> ProofLimits:
    """Small limits, so that each hostile project fails within seconds."""
    return dataclasses.replace(
        proof_limits(), step_seconds=20, cpu_seconds=3, memory_bytes=512 * 1024 * 1024, file_size_bytes=8 * 1024 * 1024
    )


def _sandbox_left(name: str) -> tuple[bool, bool]:
    with psycopg.connect(sandbox_config().url(database="postgres"), autocommit=True) as admin:
        database = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        role = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    return database is not None, role is not None


def _assert_cleaned_up(run: ProofRun, temp_root: Path) -> None:
    assert list(temp_root.iterdir()) == []
    assert _sandbox_left(run.sandbox) == (False, False)


def _files(project: Path) -> list[tuple[str, bytes]]:
    """The fixture's own files (not the caches a local run of ruff or Python left)."""
    return [
        (p.relative_to(project).as_posix(), p.read_bytes())
        for p in sorted(project.rglob("*"))
        if p.is_file() and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(project).parts)
    ]


def test_a_sound_project_passes_every_step_and_yields_its_schema(limits: ProofLimits, tmp_path: Path) -> None:
    run = proof_run(project=FIXTURES / "good", limits=limits, temp_root=tmp_path)
    assert list(run.steps) == list(STEPS)
    assert {name: step["status"] for name, step in run.steps.items()} == dict.fromkeys(STEPS, "passed"), run.steps
    assert "Applying shop.0001_initial... OK" in run.steps["migrate"]["output"]
    assert "No changes detected" in run.steps["makemigrations"]["output"]
    assert run.schema is not None
    assert set(run.schema["paths"]) == {"/orders", "/orders/{id}"}
    assert set(run.schema["paths"]["/orders/{id}"]) >= {"get", "put", "patch", "delete"}
    _assert_cleaned_up(run, tmp_path)


def test_the_child_migrates_its_own_sandbox_database_as_its_own_role(limits: ProofLimits, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def sandbox():  # type: ignore[no-untyped-def]
        from apps.sandbox import engine

        class Watching:
            def __enter__(self):  # type: ignore[no-untyped-def]
                self._inner = engine.session(sandbox_config())
                box = self._inner.__enter__()
                self.box = box
                return box

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                # Before the session ends: what the child left in the database.
                seen["tables"] = self.box.execute(
                    "SELECT table_schema, tableowner FROM information_schema.tables t"
                    " JOIN pg_tables p ON p.schemaname = t.table_schema AND p.tablename = t.table_name"
                    " WHERE t.table_name = 'shop_order'"
                )
                return self._inner.__exit__(*exc)

        return Watching()

    run = proof_run(project=FIXTURES / "good", limits=limits, temp_root=tmp_path, sandbox=sandbox)
    assert run.steps["migrate"]["status"] == "passed"
    assert seen["tables"] == [(run.sandbox, run.sandbox)]
    _assert_cleaned_up(run, tmp_path)


def test_a_project_check_refuses_fails_with_the_reason_and_the_rest_is_not_run(
    limits: ProofLimits, tmp_path: Path
) -> None:
    run = proof_run(project=FIXTURES / "broken", limits=limits, temp_root=tmp_path)
    check = run.steps["check"]
    assert check["status"] == "failed"
    assert check["reason"] == "exit code 1"
    assert "fields.E300" in check["output"]
    for name in ("makemigrations", "migrate", "schema"):
        assert run.steps[name]["status"] == "failed"
        assert run.steps[name]["reason"] == "not run: manage.py check failed"
    assert run.steps["ruff"]["status"] == "passed"
    assert run.schema is None
    _assert_cleaned_up(run, tmp_path)


@pytest.mark.parametrize(
    ("module", "reason"),
    [
        ("project.spin", "CPU limit"),
        ("project.hog", "memory limit"),
        ("project.flood", "file-size limit"),
        ("project.swarm", "process limit"),
    ],
)
def test_a_hostile_project_ends_in_a_failed_step_naming_the_limit(
    module: str, reason: str, limits: ProofLimits, tmp_path: Path
) -> None:
    if module == "project.swarm":
        # Forking a Django process hundreds of times takes CPU of its own: on a busy machine the
        # CPU limit would come first, and this case is about the process limit.
        limits = dataclasses.replace(limits, cpu_seconds=15)
    run = proof_run(project=FIXTURES / "hostile", settings_module=module, limits=limits, temp_root=tmp_path)
    check = run.steps["check"]
    assert check["status"] == "failed"
    assert check["reason"].startswith(reason), check
    assert check["seconds"] < limits.step_seconds
    _assert_cleaned_up(run, tmp_path)


def test_a_project_that_sleeps_forever_is_killed_at_the_time_limit(limits: ProofLimits, tmp_path: Path) -> None:
    limits = dataclasses.replace(limits, step_seconds=2)
    run = proof_run(project=FIXTURES / "hostile", settings_module="project.sleep", limits=limits, temp_root=tmp_path)
    check = run.steps["check"]
    assert check["status"] == "failed"
    assert check["reason"].startswith("time limit: still running after 2 s")
    assert check["seconds"] < 10
    _assert_cleaned_up(run, tmp_path)


def test_a_project_reaches_neither_the_network_nor_the_workbench_database_nor_its_secrets(
    limits: ProofLimits, tmp_path: Path
) -> None:
    secrets_dir = tmp_path / "workbench-var"
    secrets_dir.mkdir()
    (secrets_dir / "secret_key").write_text("the-workbench-secret")
    temp_root = tmp_path / "runs"
    temp_root.mkdir()
    workbench = settings.DATABASES["default"]
    target = {
        "host": workbench["HOST"] or "127.0.0.1",
        "port": int(workbench["PORT"] or 5432),
        "name": workbench["NAME"],
        "user": workbench["USER"],
        "secret_file": str(secrets_dir / "secret_key"),
        "pid": os.getpid(),
        "outside": str(tmp_path),
        "source": str(ROOT),
    }
    # The workbench's database is reachable from here, as the child would try it.
    psycopg.connect(
        host=target["host"], port=target["port"], dbname=target["name"], user=target["user"], connect_timeout=3
    ).close()
    limits = dataclasses.replace(limits, hidden_paths=(*limits.hidden_paths, str(secrets_dir)))
    files = [*_files(FIXTURES / "hostile"), ("target.json", json.dumps(target).encode())]

    run = proof_run_files(files=files, settings_module="project.reach", limits=limits, temp_root=temp_root)

    said = run.steps["check"]["output"]
    assert "REACHED" not in said, said
    for label in (
        "tcp to the workbench database server",
        "the internet",
        "the workbench database over tcp",
        "the workbench database over a unix socket",
        "the workbench database through the gate",
        "the secret key file",
        "the environment of other processes",
        "a signal to the workbench's process",
        "a file outside the project",
        "the workbench's source",
        "remounting the file system writable",
        "the machine's disk",
    ):
        assert f"blocked {label}:" in said
    assert "blocked a file outside the project: OSError: [Errno 30] Read-only file system" in said
    assert "blocked a signal to the workbench's process: ProcessLookupError" in said
    assert not (tmp_path / "planted.txt").exists()
    assert not (tmp_path / "after-remount.txt").exists()
    assert not (ROOT / "planted.py").exists()
    assert "this sandbox admits only role" in said  # the gate's answer to another user
    assert "the-workbench-secret" not in said
    migrate = run.steps["migrate"]
    assert migrate["status"] == "failed"
    assert "Network is unreachable" in migrate["output"] or "connection" in migrate["output"].lower()
    _assert_cleaned_up(run, temp_root)


def test_the_child_environment_holds_only_what_the_project_needs(limits: ProofLimits, tmp_path: Path) -> None:
    files = [*_files(FIXTURES / "hostile"), ("target.json", json.dumps(_unreachable_target(tmp_path)).encode())]
    run = proof_run_files(files=files, settings_module="project.reach", limits=limits, temp_root=tmp_path)
    line = next(
        line for line in run.steps["check"]["output"].splitlines() if line.startswith("environment:")
    ).removeprefix("environment: ")
    assert line.split(",") == [
        "DATABASE_URL",
        "DJANGO_SETTINGS_MODULE",
        "HOME",
        "LANG",
        "PATH",
        "PGCONNECT_TIMEOUT",
        "PGHOST",
        "PGPORT",
        "PYTHONHASHSEED",
        "RAYON_NUM_THREADS",
        "SECRET_KEY",
        "TMPDIR",
    ]
    _assert_cleaned_up(run, tmp_path)


def _unreachable_target(tmp_path: Path) -> dict[str, object]:
    return {
        "host": "127.0.0.1",
        "port": 5432,
        "name": "none",
        "user": "none",
        "secret_file": str(tmp_path / "none"),
        "pid": os.getpid(),
        "outside": str(tmp_path),
        "source": str(tmp_path),
    }


def _processes_named(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue  # ended meanwhile
    return found


def test_nothing_the_project_started_outlives_its_step(limits: ProofLimits, tmp_path: Path) -> None:
    marker = f"proof-escape-{uuid.uuid4().hex}"
    files = [*_files(FIXTURES / "hostile"), ("target.json", json.dumps({"marker": marker}).encode())]
    run = proof_run_files(files=files, settings_module="project.escape", limits=limits, temp_root=tmp_path)
    assert run.steps["check"]["status"] == "passed", run.steps["check"]
    assert _processes_named(marker) == []
    _assert_cleaned_up(run, tmp_path)


def test_a_file_path_leaving_the_project_is_refused(limits: ProofLimits, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the project"):
        proof_run_files(files=[("../escape.py", "x = 1\n")], limits=limits, temp_root=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path.parent / "escape.py").exists()


def test_a_child_that_cannot_be_confined_is_not_run(limits: ProofLimits, tmp_path: Path) -> None:
    # More open files than the kernel lets a process in a user namespace raise its limit to.
    limits = dataclasses.replace(limits, open_files=2**40)
    with pytest.raises(ProofUnavailable, match="could not be isolated"):
        proof_run(project=FIXTURES / "good", limits=limits, temp_root=tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- The proof as the worker calls it: files in, the report's `proof` dict out --------------------

ORDER_SCHEMA = {
    "type": "object",
    "required": ["reference", "total_cents", "currency"],
    "properties": {
        "id": {"type": "integer", "format": "int64", "readOnly": True},
        "reference": {"type": "string", "maxLength": 32},
        "total_cents": {"type": "integer", "format": "int32"},
        "currency": {"type": "string"},
        "placed_at": {"type": "string", "format": "date-time", "readOnly": True},
    },
}


def _order(code: str) -> dict[str, object]:
    return {
        "description": code,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}},
    }


# What the good fixture's team pasted: under a /v1 server, {orderId} for DRF's {id}, trailing
# slashes; it also promises a currency, a 422, a customers list, and no PUT or PATCH.
PASTED = {
    "openapi": "3.1.0",
    "info": {"title": "Shop", "version": "1"},
    "servers": [{"url": "https://shop.example.com/v1"}],
    "paths": {
        "/orders/": {
            "get": {
                "parameters": [{"name": "reference", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}
                            }
                        },
                    },
                    "400": {"description": "bad filter"},
                },
            },
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}},
                },
                "responses": {"201": _order("created"), "422": {"description": "invalid"}},
            },
        },
        "/orders/{orderId}/": {
            "parameters": [
                {"name": "orderId", "in": "path", "required": True, "schema": {"type": "integer", "format": "int64"}}
            ],
            "get": {"responses": {"200": _order("ok"), "404": {"description": "missing"}}},
            "delete": {"responses": {"204": {"description": "deleted"}}},
        },
        "/customers/": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"Order": ORDER_SCHEMA}},
}


def _generated_files(project: Path) -> list[GeneratedFile]:
    return [GeneratedFile(path=path, content=content.decode()) for path, content in _files(project)]


def test_the_proof_lists_exactly_the_real_differences_from_the_pasted_document(limits: ProofLimits) -> None:
    proof = endpoints_prove(files=_generated_files(FIXTURES / "good"), openapi=PASTED, limits=limits)
    assert [proof[name]["status"] for name in STEPS] == ["passed"] * len(STEPS)
    drift = proof["drift"]
    assert drift["status"] == "failed"
    found = sorted((item["kind"], item["operation"], item["description"]) for item in drift["items"])
    assert found == [
        # Order is shared: its missing currency is told once for responses, under the first
        # operation reaching it (the list), and once for requests.
        ("field-missing", "GET /orders/", "response field [].currency is not sent"),
        ("field-missing", "POST /orders/", "request field currency is not read"),
        ("operation-extra", "PATCH /orders/{id}", "PATCH /orders/{id} is served but not in the pasted document"),
        ("operation-extra", "PUT /orders/{id}", "PUT /orders/{id} is served but not in the pasted document"),
        ("operation-missing", "GET /customers/", "GET /customers/ is not served"),
        ("status-missing", "POST /orders/", "never answers 422"),
    ]
    currency = next(item for item in drift["items"] if item["description"] == "request field currency is not read")
    assert currency["pasted"] == "/components/schemas/Order/properties/currency"
    assert currency["generated"] == "/components/schemas/Order/properties"
    assert drift["reason"] == "6 differences"


def test_without_a_schema_the_drift_is_not_run_and_says_why(limits: ProofLimits) -> None:
    proof = endpoints_prove(files=_generated_files(FIXTURES / "broken"), openapi=PASTED, limits=limits)
    assert proof["check"]["status"] == "failed"
    assert proof["drift"] == {"status": "failed", "reason": "not run: drf-spectacular produced no schema", "items": []}


def test_a_machine_that_cannot_confine_the_child_gets_every_step_failed_with_the_reason(limits: ProofLimits) -> None:
    limits = dataclasses.replace(limits, open_files=2**40)
    proof = endpoints_prove(files=_generated_files(FIXTURES / "good"), openapi=PASTED, limits=limits)
    for name in STEPS:
        assert proof[name]["status"] == "failed"
        assert proof[name]["reason"].startswith("not run: the child could not be isolated")
    assert proof["drift"]["items"] == []


# The shop design's drift, every item a real difference (docs/endpoints.md, "The shop design's
# drift, item by item"): the spec against its own data model, the generator's security choices, or
# what Django REST Framework does by itself.
SHOP_DRIFT = [
    (
        "field-enum",
        "GET /customers/{customerId}/orders",
        "response field results[].status takes any value when generated; the pasted document allows only cancelled, paid, pending, shipped",
    ),
    ("field-extra", "GET /customers/{customerId}/orders", "response field previous is not in the pasted document"),
    ("field-missing", "GET /customers/{customerId}/orders", "response field results[].lines is not sent"),
    ("field-missing", "PATCH /customers/{customerId}", "request field is_staff is not read"),
    ("field-missing", "POST /orders/{orderId}/payments", "request field amount.currency is not read"),
    ("field-missing", "POST /orders/{orderId}/payments", "request field order_id is not read"),
    ("field-missing", "POST /orders/{orderId}/payments", "response field amount.currency is not sent"),
    ("field-missing", "POST /orders/{orderId}/payments", "response field card_number is not sent"),
    ("field-missing", "POST /orders", "request field lines is not read"),
    ("field-missing", "POST /orders", "request field status is not read"),
    (
        "field-nullable",
        "GET /customers/{customerId}/orders",
        "response field next is never null in the pasted document, may be null when generated",
    ),
    (
        "field-nullable",
        "GET /products",
        "response field [].description is never null in the pasted document, may be null when generated",
    ),
    (
        "field-nullable",
        "PATCH /customers/{customerId}",
        "request field date_of_birth is never null in the pasted document, may be null when generated",
    ),
    (
        "field-nullable",
        "PATCH /customers/{customerId}",
        "request field phone is never null in the pasted document, may be null when generated",
    ),
    (
        "field-nullable",
        "PATCH /customers/{customerId}",
        "response field date_of_birth is never null in the pasted document, may be null when generated",
    ),
    (
        "field-nullable",
        "PATCH /customers/{customerId}",
        "response field phone is never null in the pasted document, may be null when generated",
    ),
    (
        "field-nullable",
        "POST /orders/{orderId}/payments",
        "request field card_number is never null in the pasted document, may be null when generated",
    ),
    (
        "field-nullable",
        "POST /orders",
        "request field shipping_address is never null in the pasted document, may be null when generated",
    ),
    (
        "field-required",
        "POST /orders/{orderId}/payments",
        "request field amount is optional in the pasted document, required when generated",
    ),
    (
        "field-required",
        "POST /orders/{orderId}/payments",
        "request field card_last4 is optional in the pasted document, required when generated",
    ),
    (
        "field-required",
        "POST /orders/{orderId}/payments",
        "request field provider_token is optional in the pasted document, required when generated",
    ),
    (
        "security-schemes",
        "",
        "API key in a query authentication is not offered (the generated project offers API key in a cookie, HTTP basic)",
    ),
    (
        "security-schemes",
        "",
        "HTTP bearer authentication is not offered (the generated project offers API key in a cookie, HTTP basic)",
    ),
    ("status-missing", "POST /orders", "never answers 409"),
]


def _roomy(limits: ProofLimits) -> ProofLimits:
    """The small limits with CPU enough for pytest to run the shop's contract tests on a busy machine."""
    return dataclasses.replace(limits, cpu_seconds=60)


def _shop() -> tuple[Any, list[GeneratedFile]]:
    parsed = parse_design(input_from_file(SHOP.name, SHOP.read_text(encoding="utf-8")), limits=ParseLimits())
    return parsed.model, list(project_files(generate_app(parsed.model)))


def test_the_shop_designs_project_passes_every_step_and_each_operation_is_called_with_its_sql(
    limits: ProofLimits,
) -> None:
    model, files = _shop()
    limits = _roomy(limits)
    proof = endpoints_prove(files=files, openapi=model.api_document.data, limits=limits)
    assert {name: proof[name]["status"] for name in STEPS} == dict.fromkeys(STEPS, "passed"), {
        name: proof[name]["reason"] + proof[name]["output"][-2000:] for name in STEPS
    }
    assert "Applying design.0001_initial... OK" in proof["migrate"]["output"]
    assert "16 passed, 1 xfailed" in proof["contract_tests"]["output"]
    one, many = proof["calls"]["one"], proof["calls"]["many"]
    assert (one["items"], many["items"]) == (1, limits.list_items)
    outcomes = {name: entry["outcome"] for name, entry in one["tests"].items()}
    assert outcomes == {
        **dict.fromkeys(
            (
                "test_list_customer_orders",
                "test_search_orders",
                "test_get_order",
                "test_cancel_order",
                "test_pay_order",
                "test_list_products",
                "test_get_product",
                "test_update_customer",
                "test_export_customer",
                # Another caller's rows are not found (the paying one: its order is checked).
                "test_list_customer_orders_of_another_caller",
                "test_get_order_of_another_caller",
                "test_cancel_order_of_another_caller",
                "test_pay_order_of_another_caller",
                "test_update_customer_of_another_caller",
                # The webhook: a signed call kept in the inbox once; unsigned, refused.
                "test_payment_webhook",
                "test_payment_webhook_unsigned",
            ),
            "passed",
        ),
        "test_create_order": "xfailed",
    }
    webhook = one["tests"]["test_payment_webhook"]["calls"][-1]
    assert (webhook["method"], webhook["path"], webhook["status"]) == ("POST", "/v1/webhooks/payments", 200)
    assert any('INSERT INTO "inbox_receivedevent"' in q for q in webhook["queries"])
    search = one["tests"]["test_search_orders"]["calls"][-1]
    assert (search["method"], search["path"], search["status"]) == ("GET", "/v1/orders", 200)
    assert search["count"] == len(search["queries"]) and any('FROM "orders"' in q for q in search["queries"])
    listed = many["tests"]["test_list_products"]["calls"][-1]
    assert listed["status"] == 200 and listed["count"] == one["tests"]["test_list_products"]["calls"][-1]["count"]
    # The second run's lists showed their copies: the per-row rate is measured, not assumed.
    assert (one["tests"]["test_list_products"]["calls"][-1]["listed"], listed["listed"]) == (1, limits.list_items)
    assert one["tests"]["test_search_orders"]["calls"][-1]["listed"] == 1
    assert many["tests"]["test_search_orders"]["calls"][-1]["listed"] == limits.list_items
    found = sorted((i["kind"], i["operation"], i["description"]) for i in proof["drift"]["items"])
    assert found == sorted(SHOP_DRIFT), found


def test_a_list_that_queries_once_per_row_is_an_n_plus_one_finding_naming_the_relation(
    limits: ProofLimits,
) -> None:
    model, files = _shop()
    limits = _roomy(limits)
    # A serializer that follows a foreign key for each row, its view without select_related.
    tampered = []
    for file in files:
        content = file.content
        if file.path == "design/serializers.py":
            content = content.replace(
                "class ProductModelSerializer(serializers.ModelSerializer):\n",
                "class ProductModelSerializer(serializers.ModelSerializer):\n"
                '    category_name = serializers.CharField(source="category.name", read_only=True)\n',
            ).replace('"active",\n        ]', '"active",\n            "category_name",\n        ]', 1)
            assert "category_name" in content
        tampered.append(GeneratedFile(file.path, content))
    proof = endpoints_prove(files=tampered, openapi=model.api_document.data, limits=limits)
    assert proof["queries"]["status"] == "passed", proof["queries"]["output"][-2000:]
    generation = generate_app(model)
    findings = n_plus_one_findings(generation.operations, proof["calls"])
    assert [f.endpoints for f in findings] == [("GET /v1/products",)]
    finding = findings[0]
    assert finding.rule_id == "endpoints.n-plus-one" and finding.analyzer == "endpoints"
    assert "1 more queries for each listed row" in finding.title
    assert "Product.category, a foreign key to categories" in finding.message
    assert 'FROM "categories"' in finding.message
    listed = operation_calls("test_list_products", proof["calls"])
    assert listed is not None and listed.queries_per_item == 1.0
    # The untampered project's lists do not grow.
    clean = endpoints_prove(files=files, openapi=model.api_document.data, limits=limits)
    assert n_plus_one_findings(generation.operations, clean["calls"]) == []


def test_a_pids_cgroup_that_cannot_be_made_refuses_the_proof(limits: ProofLimits, tmp_path: Path) -> None:
    limits = dataclasses.replace(limits, pids_cgroup=str(tmp_path / "no" / "such" / "hierarchy"))
    runs = tmp_path / "runs"
    runs.mkdir()
    with pytest.raises(ProofUnavailable, match="no pids cgroup under"):
        proof_run(project=FIXTURES / "good", limits=limits, temp_root=runs)
    assert list(runs.iterdir()) == []
