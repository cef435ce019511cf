"""One behaviour per rule family, on specs small enough to read in the test."""

from tests.security.helpers import op, review, rules, spec


def test_api1_integer_ids_are_guidance_and_uuids_pass() -> None:
    integer = rules(
        spec(
            {
                "/orders/{orderId}": {
                    "get": op(
                        parameters=[{"name": "orderId", "in": "path", "required": True, "schema": {"type": "integer"}}]
                    )
                }
            }
        )
    )
    assert integer["sec.api1.numeric-id"][0].severity == "low"
    assert (
        integer["sec.api1.numeric-id"][0].locations[0].pointer == "/paths/~1orders~1{orderId}/get/parameters/0/schema"
    )
    uuid = rules(
        spec(
            {
                "/orders/{orderId}": {
                    "get": op(
                        parameters=[
                            {
                                "name": "orderId",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string", "format": "uuid", "maxLength": 36},
                            }
                        ]
                    )
                }
            }
        )
    )
    assert "sec.api1.numeric-id" not in uuid


def test_api1_a_story_turns_needs_review_into_a_requirement() -> None:
    api = (
        "```openapi\n"
        + spec(
            {
                "/orders/{orderId}": {
                    "get": op(
                        parameters=[
                            {
                                "name": "orderId",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string", "maxLength": 36, "format": "uuid"},
                            }
                        ]
                    )
                }
            }
        )
        + "\n```\n"
    )
    silent = rules(
        document="### O-1: see an order\nAs a customer, I want my order, so that x.\n\nEndpoints: GET /v1/orders/{orderId}\n\n"
        + api
    )
    assert silent["sec.api1.object-access-unstated"][0].severity == "medium"
    stated = rules(
        document="### O-1: see an order\nAs a customer, I want my order, so that x.\n\nAcceptance criteria:\n- Given another customer's order id, then I get 404.\n\nEndpoints: GET /v1/orders/{orderId}\n\n"
        + api
    )
    assert "sec.api1.object-access-unstated" not in stated
    (required,) = stated["sec.api1.object-access-required"]
    assert "another customer's order id" in required.message
    assert [loc.line for loc in required.locations][1] == 5  # the story's line is evidence


def test_api2_authentication_rules() -> None:
    found = rules(
        spec(
            {
                "/a": {"post": op(security=[]), "get": op(security=[])},
                "/b": {
                    "get": op(
                        parameters=[
                            {
                                "name": "access_token",
                                "in": "query",
                                "schema": {"type": "string", "maxLength": 10, "format": "x"},
                            }
                        ]
                    )
                },
            },
            components={
                "securitySchemes": {
                    "basic": {"type": "http", "scheme": "basic"},
                    "key": {"type": "apiKey", "in": "query", "name": "k"},
                    "ntlm": {"type": "http", "scheme": "negotiate"},
                    "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "oauth": {
                        "type": "oauth2",
                        "description": "RFC8725 tokens",
                        "flows": {"implicit": {"authorizationUrl": "https://x", "scopes": {}}},
                    },
                }
            },
        )
    )
    # `security: []` says it is public on purpose: a read is a "verify", a write still a concern.
    assert found["sec.api2.unauthenticated-write"][0].severity == "medium"
    assert found["sec.api2.unauthenticated-read"][0].severity == "low"
    for rule in (
        "sec.api2.http-basic",
        "sec.api2.api-key-in-url",
        "sec.api2.insecure-scheme",
        "sec.api2.jwt-best-practices",
        "sec.api2.long-lived-tokens",
        "sec.api2.weak-oauth-flow",
        "sec.api2.credentials-in-url",
    ):
        assert rule in found, rule
    assert "sec.api2.no-security-scheme" in rules(spec({"/a": {"get": op()}}, components={"securitySchemes": {}}))


def test_api3_mass_assignment_and_secrets() -> None:
    user = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "is_staff": {"type": "boolean"},
            "role": {"type": "string", "readOnly": True},
            "password": {"type": "string"},
        },
    }
    found = rules(
        spec(
            {
                "/users": {
                    "post": {
                        "requestBody": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}
                        },
                        "responses": {
                            "201": {
                                "description": "ok",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
                            }
                        },
                    }
                }
            },
            components={"schemas": {"User": user}},
        )
    )
    assert [f.locations[0].pointer for f in found["sec.api3.privileged-field-writable"]] == [
        "/components/schemas/User/properties/is_staff"
    ]
    assert [f.locations[0].pointer for f in found["sec.api3.secret-in-response"]] == [
        "/components/schemas/User/properties/password"
    ]
    open_map = rules(
        spec({}, components={"schemas": {"Bag": {"type": "object", "additionalProperties": {"type": "string"}}}})
    )
    assert "sec.api3.additional-properties" in open_map
    assert "sec.api3.unbounded-additional-properties" in open_map


def test_api4_bounds_pagination_and_rate_limits() -> None:
    found = rules(
        spec(
            {
                "/items": {
                    "get": op(
                        parameters=[
                            {
                                "name": "page_size",
                                "in": "query",
                                "schema": {"type": "integer", "format": "int32", "minimum": 1},
                            }
                        ]
                    )
                },
                "/things": {
                    "get": {
                        "responses": {
                            "200": {
                                "description": "ok",
                                "content": {
                                    "application/json": {"schema": {"type": "array", "items": {"type": "string"}}}
                                },
                            },
                            "429": {"description": "slow down"},
                        }
                    }
                },
            }
        )
    )
    assert found["sec.api4.unbounded-page-size"][0].severity == "medium"
    assert "sec.api4.unpaginated-list" in found
    for rule in (
        "sec.api4.array-limit",
        "sec.api4.string-limit",
        "sec.api4.integer-limit",
        "sec.api4.retry-after",
        "sec.api4.rate-limit-headers",
        "sec.api4.no-429",
    ):
        assert rule in found, rule
    assert found["sec.api4.rate-limit-headers"][0].severity == "info"  # depends on the deployment


def test_api5_admin_with_everyone_s_security() -> None:
    found = rules(
        spec({"/admin/users": {"get": op(security=[{"bearer": []}])}, "/users": {"get": op(security=[{"bearer": []}])}})
    )
    assert found["sec.api5.admin-same-security"][0].locations[0].pointer == "/paths/~1admin~1users/get/security/0"
    scoped = rules(
        spec(
            {
                "/admin/users": {"get": op(security=[{"bearer": ["admin"]}])},
                "/users": {"get": op(security=[{"bearer": []}])},
            }
        )
    )
    assert "sec.api5.admin-same-security" not in scoped


def test_api6_sensitive_flows_need_anti_automation() -> None:
    api = "```openapi\n" + spec({"/orders": {"post": op()}}) + "\n```\n"
    bare = rules(
        document="### C-1: checkout\nAs a shopper, I want to check out my basket, so that x.\n\nEndpoints: POST /v1/orders\n\n"
        + api
    )
    assert bare["sec.api6.sensitive-flow"][0].severity == "medium"
    guarded = rules(
        document="### C-1: checkout\nAs a shopper, I want to check out my basket, so that x.\n\nAcceptance criteria:\n- At most 5 orders per account per minute (rate limit).\n\nEndpoints: POST /v1/orders\n\n"
        + api
    )
    assert "sec.api6.sensitive-flow" not in guarded


def test_api7_urls_the_server_may_fetch() -> None:
    found = rules(
        spec(
            {
                "/hooks": {
                    "post": {
                        "parameters": [{"name": "redirect", "in": "query", "schema": {"type": "string"}}],
                        "requestBody": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"target": {"type": "string", "format": "uri"}},
                                    }
                                }
                            }
                        },
                        "responses": {"201": {"description": "ok"}},
                    }
                }
            }
        )
    )
    assert "sec.api7.url-parameter" in found
    assert found["sec.api7.url-input"][0].severity == "medium"


def test_api8_transport_errors_and_leaks() -> None:
    found = rules(
        spec(
            {
                "/a": {
                    "get": {
                        "responses": {
                            "200": {"description": "ok", "headers": {"X-Id": {"schema": {"type": "string"}}}},
                            "500": {
                                "description": "boom",
                                "content": {
                                    "application/json": {
                                        "schema": {"type": "object", "properties": {"stack": {"type": "string"}}}
                                    }
                                },
                            },
                        }
                    }
                }
            },
            servers=[{"url": "http://api.example.com/v1"}],
        )
    )
    for rule in (
        "sec.api8.http-server",
        "sec.api8.error-leaks-internals",
        "sec.api8.error-validation",
        "sec.api8.error-401",
        "sec.api8.cors-origin",
    ):
        assert rule in found, rule
    assert "sec.api8.error-500" not in found


def test_api9_inventory() -> None:
    found = rules(
        spec(
            {"/a": {"get": op(deprecated=True)}},
            servers=[{"url": "https://staging.example.com", "description": "the box under the desk"}],
        )
    )
    for rule in (
        "sec.api9.non-production-server",
        "sec.api9.inventory-access",
        "sec.api9.inventory-environment",
        "sec.api9.unversioned",
        "sec.api9.deprecated-operation",
    ):
        assert rule in found, rule
    assert "sec.api9.unversioned" not in rules(spec({"/a": {"get": op()}}))


def test_api10_webhooks_need_signatures() -> None:
    unsigned = rules(spec({"/webhooks/payments": {"post": op(security=[])}}))
    assert unsigned["sec.api10.unsigned-webhook"][0].severity == "high"
    signed = rules(
        spec(
            {
                "/webhooks/payments": {
                    "post": op(
                        security=[],
                        parameters=[
                            {
                                "name": "X-Signature",
                                "in": "header",
                                "required": True,
                                "schema": {"type": "string", "maxLength": 200},
                            }
                        ],
                    )
                }
            }
        )
    )
    assert "sec.api10.unsigned-webhook" not in signed


def test_data_protection_rules() -> None:
    document = (
        "### P-1: pay\nAs a customer, I want to pay, so that x.\n\nAcceptance criteria:\n- The card number is never stored.\n\n"
        "```dbml\nTable payments {\n  id bigint [pk]\n  card_number varchar(19)\n  email text\n  national_id text\n  password text\n}\n```\n"
    )
    found = rules(document=document)
    assert found["sec.dp.card-number-stored"][0].severity == "critical"
    contradiction = found["sec.dp.story-contradiction"][0]
    assert "payments.card_number" in contradiction.message
    assert [loc.line for loc in contradiction.locations] == [10, 1]
    for rule in ("sec.dp.personal-data", "sec.dp.sensitive-data", "sec.dp.plaintext-secret"):
        assert rule in found, rule


def test_an_x_workbench_ignore_waives_a_rule_and_keeps_it_visible() -> None:
    findings, section = review(
        spec(
            {},
            components={
                "schemas": {
                    "Name": {
                        "type": "string",
                        "maxLength": 20,
                        "x-workbench-ignore": ["api4.string-restricted"],
                        "x-workbench-ignore-reason": "free text by design",
                    }
                }
            },
        )
    )
    (waived,) = [f for f in findings if f.rule_id == "sec.api4.string-restricted"]
    assert waived.suppressed == {
        "source": "spec",
        "pointer": "/components/schemas/Name",
        "reason": "free text by design",
        "by": None,
        "at": None,
    }
    assert section["suppressed"] == 1


def test_findings_carry_category_cwe_references_and_a_fix() -> None:
    finding = rules(spec({"/a": {"post": op(security=[])}}))["sec.api2.unauthenticated-write"][0]
    assert (finding.category, finding.cwe) == ("API2:2023", "CWE-306")
    assert finding.references[0].startswith("https://owasp.org/API-Security/editions/2023/en/0xa2")
    assert finding.fix


def test_the_checklist_has_a_status_for_every_category() -> None:
    _, section = review(spec({"/a": {"post": op(security=[])}}))
    statuses = {item["key"]: item["status"] for item in section["checklist"]}
    assert list(statuses) == ["API1", "API2", "API3", "API4", "API5", "API6", "API7", "API8", "API9", "API10", "DP"]
    assert statuses["API2"] == "fail"
    assert statuses["API5"] == "pass"
    assert statuses["DP"] == "pass"
    _, without_api = review(document="```dbml\nTable a {\n id int [pk]\n}\n```\n")
    assert {i["key"]: i["status"] for i in without_api["checklist"]}["API1"] == "not_applicable"


def test_api2_entry_points_and_signed_webhooks_are_public_on_purpose() -> None:
    signature = {"name": "X-Bank-Signature", "in": "header", "required": True, "schema": {"type": "string"}}
    found = rules(
        spec(
            {
                "/auth/login": {"post": op(security=[])},
                "/members": {"post": op(security=[], operationId="registerMember")},
                "/orders": {"post": op(security=[])},
                "/webhooks/bank": {"post": op(security=[], parameters=[signature])},
                "/webhooks/shop": {"post": op(security=[])},
            }
        )
    )
    by_severity = {
        (f.severity, bool(f.suppressed)): {loc.pointer for loc in f.locations}
        for f in found["sec.api2.unauthenticated-write"]
    }
    assert by_severity[("low", False)] == {
        "/paths/~1auth~1login/post/security",
        "/paths/~1members/post/security",
    }
    # Any other write declared public stays a concern, a webhook without a signature too.
    assert by_severity[("medium", False)] == {"/paths/~1orders/post/security", "/paths/~1webhooks~1shop/post/security"}
    assert by_severity[("low", True)] == {"/paths/~1webhooks~1bank/post/security"}
    assert "sec.api10.unsigned-webhook" in found
    assert {loc.pointer for f in found["sec.api10.unsigned-webhook"] for loc in f.locations} == {
        "/paths/~1webhooks~1shop/post"
    }
