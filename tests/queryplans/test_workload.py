"""The queries a design will run, before any sandbox: its named queries, the queries each generated
endpoint sends (from its access pattern), and the SQL the endpoints' proof captured; each with its
verdict from the allow-list and its story's budget."""

from apps.queryplans.engine.workload import endpoint_sql, planned_queries
from tests.endpoints.helpers import SHOP, design_file

MODEL = design_file(SHOP)


def _operations(captured: list[str]) -> dict:
    endpoint = next(e for e in MODEL.endpoints if e.method == "GET" and e.full_path == "/v1/products/{productId}")
    return {
        "operations": [
            {
                "key": endpoint.key,
                "operation_id": "getProduct",
                "test": "test_get_product",
                "access": {"table": "products", "action": "retrieve", "key": "id", "lookup": True, "filters": []},
            }
        ],
        "proof": {"calls": {"one": {"tests": {"test_get_product": {"calls": [{"queries": captured}]}}}}},
    }


def test_captured_sql_over_the_designs_tables_is_planned_once_per_shape() -> None:
    captured = [
        'SELECT "products"."id", "products"."name" FROM "products" WHERE "products"."id" = 1 LIMIT 21',
        'SELECT "products"."id", "products"."name" FROM "products" WHERE "products"."id" = 2 LIMIT 21',
        'SELECT "django_session"."session_data" FROM "django_session" WHERE "django_session"."session_key" = \'x\'',
        "SELECT pg_sleep(10)",
        'UPDATE "products" SET "stock" = 0',
    ]
    queries, _ = planned_queries(MODEL, earlier={"endpoints": _operations(captured)})
    got = [q for q in queries if q.source == "captured"]
    assert [q.sql for q in got] == [captured[0]]  # one per shape; Django's own tables, refused SQL and writes left out
    assert got[0].name == "getProduct (captured #1)" and got[0].endpoint == "GET /v1/products/{productId}"
    assert got[0].budget_ms == 100  # CAT-1: p95 < 100 ms
    # The endpoint's own access pattern is planned too, written as the ORM sends it.
    [written] = [q for q in queries if q.source == "endpoint"]
    assert written.sql == "SELECT t.* FROM products AS t WHERE t.id = $1" and written.verdict.kind == "read"


def test_an_endpoints_list_is_its_page_and_its_count() -> None:
    access = {
        "table": "orders",
        "action": "list",
        "key": "id",
        "filters": [
            {
                "column": "email",
                "lookup": "iexact",
                "via": {"column": "customer_id", "table": "customers", "key": "id"},
            },
            {"column": "status", "lookup": "exact"},
        ],
        "paging": "page",
        "ordering": "id",
        "page_size": 50,
    }
    [(_, page, names), (suffix, count, _)] = endpoint_sql(access, ["id", "customer_id", "status"])
    assert page == (
        "SELECT t.* FROM orders AS t JOIN customers AS j1 ON j1.id = t.customer_id "
        "WHERE upper(j1.email::text) = upper($1) AND t.status = $2 ORDER BY t.id LIMIT 50 OFFSET $3"
    )
    assert names == ("email", "status", "offset")
    assert suffix == " (page count)" and count.startswith("SELECT count(*) FROM orders AS t JOIN customers")


def test_a_create_is_left_out_saying_why() -> None:
    assert endpoint_sql({"table": "orders", "action": "create", "key": "id", "filters": []}, ["id"]) == []
