"""The review reads the stories, the personal data and the whole API as a senior reviewer does:
each behaviour on a design small enough to read, once where it must fire and once where not."""

import json
from typing import Any

from tests.security.helpers import op, review, rules, spec

UUID = {"type": "string", "format": "uuid", "maxLength": 36}


def design(stories: str, openapi: str) -> str:
    return stories + "\n```openapi\n" + openapi + "\n```\n"


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


# --- 1. Reading the stories ------------------------------------------------------------------

LOANS = spec(
    {"/loans": {"get": op(operationId="listLoans")}, "/loans/{loanId}": {"get": op(parameters=[path_id("loanId")])}}
)


def test_an_ownership_sentence_makes_object_access_a_requirement_citing_its_line() -> None:
    stories = (
        "### LIB-1: Member sees loans\nAs a member, I want to see my loans, so that I return them on time.\n\n"
        "Acceptance criteria:\n- Members see only their loans.\n\nEndpoints: GET /v1/loans, GET /v1/loans/{loanId}\n"
    )
    found = rules(document=design(stories, LOANS))
    # One requirement for the design: each operation a story asks it of, and the sentence, are its places.
    [required] = found["sec.api1.object-access-required"]
    assert [loc.pointer for loc in required.locations] == ["/paths/~1loans/get", None, "/paths/~1loans~1{loanId}/get"]
    assert required.locations[1].line == 5
    assert required.message.startswith(
        "2 operations must return only the caller's objects, as the stories citing them say: GET /v1/loans (listLoans), GET /v1/loans/{loanId}."
    )
    assert "sec.api1.object-access-unstated" not in found


def test_a_story_without_an_ownership_sentence_leaves_object_access_unstated() -> None:
    stories = (
        "### LIB-1: Member sees loans\nAs a member, I want to see loans, so that I return them on time.\n\n"
        "Acceptance criteria:\n- Loans are listed newest first.\n\nEndpoints: GET /v1/loans, GET /v1/loans/{loanId}\n"
    )
    found = rules(document=design(stories, LOANS))
    assert "sec.api1.object-access-required" not in found
    assert "sec.api1.object-access-unstated" in found


FINES = {"/fines/{fineId}/waive": {"post": op(parameters=[path_id("fineId")])}, "/books": {"get": op()}}


def test_a_role_restriction_without_a_scope_of_its_own_is_an_unmet_requirement() -> None:
    stories = (
        "### LIB-2: Waive a fine\nAs a librarian, I want to waive a fine, so that x.\n\n"
        "Acceptance criteria:\n- Only librarians can waive fines.\n\nEndpoints: POST /v1/fines/{fineId}/waive\n"
    )
    found = rules(document=design(stories, spec(FINES)))
    (finding,) = found["sec.api5.role-required"]
    assert finding.severity == "medium"
    assert "sec.api1.object-access-unstated" not in found  # the role is who may access it
    assert "Only librarians can waive fines." in finding.message
    scoped = dict(FINES)
    scoped["/fines/{fineId}/waive"] = {
        "post": op(parameters=[path_id("fineId")], security=[{"bearer": ["fines:waive"]}])
    }
    # A scope of its own sets the role apart: the design meets the story, nothing to say.
    assert "sec.api5.role-required" not in rules(document=design(stories, spec(scoped)))


def test_a_story_naming_no_role_asks_nothing_of_function_level_access() -> None:
    stories = (
        "### LIB-2: Waive a fine\nAs a member, I want my fine waived, so that x.\n\n"
        "Acceptance criteria:\n- The fine is waived when the book is returned undamaged.\n\nEndpoints: POST /v1/fines/{fineId}/waive\n"
    )
    found = rules(document=design(stories, spec(FINES)))
    assert "sec.api5.role-required" not in found
    assert "sec.api1.object-access-unstated" in found


RESET = "### AUTH-3: Reset a password\nAs a user, I want to reset my password, so that I can sign in again.\n\nAcceptance criteria:\n- {}\n\nEndpoints: POST /v1/password-resets\n"


def test_a_stated_rate_satisfies_anti_automation_and_needs_a_429() -> None:
    limited = rules(
        document=design(
            RESET.format("No more than 3 password resets a day."), spec({"/password-resets": {"post": op()}})
        )
    )
    assert "sec.api6.sensitive-flow" not in limited
    (undocumented,) = limited["sec.api4.story-limit-undocumented"]
    assert "No more than 3 password resets a day." in undocumented.message
    with_429 = spec(
        {"/password-resets": {"post": {"responses": {"202": {"description": "ok"}, "429": {"description": "slow"}}}}}
    )
    assert "sec.api4.story-limit-undocumented" not in rules(
        document=design(RESET.format("5 attempts per hour."), with_429)
    )


def test_a_sensitive_flow_without_a_stated_limit_needs_anti_automation() -> None:
    found = rules(document=design(RESET.format("A link is sent by email."), spec({"/password-resets": {"post": op()}})))
    assert "sec.api6.sensitive-flow" in found
    assert "sec.api4.story-limit-undocumented" not in found


PAYMENTS = "### PAY-2: Provider confirms payments\nAs a shop, I want the provider to confirm payments, so that orders are paid.\n\nAcceptance criteria:\n- {}\n\nEndpoints: POST /v1/orders\n"
RECEIVER = {
    "post": op(
        operationId="receivePaymentNotification",
        summary="Receives the provider's payment notifications",
        security=[],
        requestBody=body({"type": "object", "properties": {"event_id": {"type": "string"}}}),
    )
}


def test_a_signature_story_is_checked_on_every_operation_receiving_calls_whatever_its_path() -> None:
    api = spec({"/orders": {"post": op()}, "/provider/payment-events": RECEIVER})
    found = rules(document=design(PAYMENTS.format("Provider notifications are verified by their HMAC signature."), api))
    (unsigned,) = found["sec.api10.unsigned-webhook"]
    assert unsigned.locations[0].pointer == "/paths/~1provider~1payment-events/post"
    assert "verified by their HMAC signature" in unsigned.message
    signed = dict(
        RECEIVER["post"],
        parameters=[{"name": "X-Provider-Signature", "in": "header", "required": True, "schema": {"type": "string"}}],
    )
    api = spec({"/orders": {"post": op()}, "/provider/payment-events": {"post": signed}})
    assert "sec.api10.unsigned-webhook" not in rules(
        document=design(PAYMENTS.format("Provider notifications are verified by their HMAC signature."), api)
    )


def test_an_idempotency_story_needs_a_key_on_the_write_and_an_event_id_on_receivers() -> None:
    receiver_without_id = {
        "post": dict(
            RECEIVER["post"], requestBody=body({"type": "object", "properties": {"status": {"type": "string"}}})
        )
    }
    api = spec({"/orders": {"post": op()}, "/provider/payment-events": receiver_without_id})
    found = rules(document=design(PAYMENTS.format("Provider retries must not charge the customer twice."), api))
    assert {f.locations[0].pointer for f in found["sec.api6.idempotency-missing"]} == {
        "/paths/~1orders/post",
        "/paths/~1provider~1payment-events/post",
    }
    keyed = op(parameters=[{"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}])
    api = spec({"/orders": {"post": keyed}, "/provider/payment-events": RECEIVER})
    assert "sec.api6.idempotency-missing" not in rules(
        document=design(PAYMENTS.format("Provider retries must not charge the customer twice."), api)
    )


LOAN_BODY = {
    "allOf": [
        {"type": "object", "properties": {"book_id": UUID}},
        {"type": "object", "properties": {"loan": {"type": "object", "properties": {"member_id": UUID}}}},
    ]
}


def test_a_field_the_story_says_the_server_derives_is_privileged_in_any_body() -> None:
    stories = "### LIB-3: Borrow\nAs a member, I want to borrow a book, so that x.\n\nAcceptance criteria:\n- The member_id is taken from the token.\n\nEndpoints: POST /v1/loans\n"
    api = spec({"/loans": {"post": op(requestBody=body(LOAN_BODY))}})
    (found,) = rules(document=design(stories, api))["sec.api3.server-derived-field-writable"]
    assert (
        found.locations[0].pointer
        == "/paths/~1loans/post/requestBody/content/application~1json/schema/allOf/1/properties/loan/properties/member_id"
    )
    assert found.locations[1].line == 5
    silent = "### LIB-3: Borrow\nAs a member, I want to borrow a book, so that x.\n\nEndpoints: POST /v1/loans\n"
    assert "sec.api3.server-derived-field-writable" not in rules(document=design(silent, api))


# --- 2. Personal data in three tiers --------------------------------------------------------


def test_a_card_number_is_critical_only_with_payment_context() -> None:
    found = rules(document="```dbml\nTable payments {\n  id bigint [pk]\n  card_number varchar(19)\n}\n```\n")
    (card,) = found["sec.dp.card-number-stored"]
    assert (card.severity, card.title) == ("critical", "Full card numbers stored")
    assert "payment card numbers" in card.message
    library = rules(document="```dbml\nTable library_members {\n  id bigint [pk]\n  card_number varchar(19)\n}\n```\n")
    assert "sec.dp.card-number-stored" not in library
    (verify,) = library["sec.dp.card-number-unverified"]
    assert verify.severity == "low"
    assert "verify what it holds" in verify.message and "without payment context" in verify.title
    in_api = rules(
        spec(
            {},
            components={"schemas": {"Payment": {"type": "object", "properties": {"card_number": {"type": "string"}}}}},
        )
    )
    assert in_api["sec.dp.card-number-stored"][0].title == "Full card numbers carried by the API"
    beside_cvv = rules(document="```dbml\nTable wallets_x {\n  id bigint [pk]\n  pan text\n  cvv text\n}\n```\n")
    assert "sec.dp.card-number-stored" in beside_cvv


def test_special_categories_are_their_own_tier_in_tables_and_api_schemas() -> None:
    found = rules(
        document="```dbml\nTable patients {\n  id bigint [pk]\n  diagnosis text\n  blood_type text\n  email text\n  national_id text\n}\n```\n"
    )
    (special,) = found["sec.dp.special-category"]
    assert "health" in special.message and "diagnosis, blood_type" in special.message
    assert "field-level encryption" in special.message
    assert "email" in found["sec.dp.personal-data"][0].message
    assert "diagnosis" not in found["sec.dp.personal-data"][0].message
    assert found["sec.dp.sensitive-data"][0].title == "National or government identifier"
    api = rules(
        spec(
            {},
            components={
                "schemas": {
                    "Patient": {
                        "type": "object",
                        "properties": {"icd_code": {"type": "string"}, "allergies": {"type": "array"}},
                    }
                }
            },
        )
    )
    assert api["sec.dp.special-category"][0].locations[0].pointer == "/components/schemas/Patient/properties/icd_code"
    station = rules(
        spec({}, components={"schemas": {"Station": {"type": "object", "properties": {"address": {"type": "string"}}}}})
    )
    assert "sec.dp.personal-data" not in station  # a place's address is not a person's
    plain = rules(
        spec({}, components={"schemas": {"Book": {"type": "object", "properties": {"title": {"type": "string"}}}}})
    )
    assert not {"sec.dp.special-category", "sec.dp.personal-data"} & set(plain)


# --- 3. Webhooks and callbacks --------------------------------------------------------------

EVENT = {
    "requestBody": body({"type": "object", "properties": {"id": {"type": "string"}}}),
    "responses": {"200": {"description": "ok"}},
}


def spec31(**extra: Any) -> str:
    document = json.loads(spec({"/subscriptions": {"post": op()}}))
    document["openapi"] = "3.1.0"
    document.update(extra)
    return json.dumps(document)


def test_a_webhook_without_signature_or_security_is_unsafe_consumption() -> None:
    (finding,) = rules(spec31(webhooks={"orderPaid": {"post": dict(EVENT, security=[])}}))["sec.api10.unsigned-webhook"]
    assert finding.locations[0].pointer == "/webhooks/orderPaid/post"
    signed = dict(
        EVENT, security=[], parameters=[{"name": "Webhook-Signature", "in": "header", "schema": {"type": "string"}}]
    )
    assert "sec.api10.unsigned-webhook" not in rules(spec31(webhooks={"orderPaid": {"post": signed}}))


def test_a_callback_is_reviewed_and_a_security_scheme_satisfies_it() -> None:
    def with_callback(callback: dict[str, Any]) -> str:
        subscribe = op(callbacks={"onPaid": {"{$request.body#/url}": {"post": callback}}})
        return spec({"/subscriptions": {"post": subscribe}})

    assert "sec.api10.unsigned-webhook" in rules(with_callback(dict(EVENT, security=[])))
    assert "sec.api10.unsigned-webhook" not in rules(with_callback(dict(EVENT, security=[{"bearer": []}])))


# --- 4. Bodies through compositions and nesting ----------------------------------------------


def test_privileged_fields_hidden_in_an_allof_part_and_a_nested_object_are_found() -> None:
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/Base"},
            {
                "type": "object",
                "properties": {"profile": {"type": "object", "properties": {"is_admin": {"type": "boolean"}}}},
            },
        ]
    }
    found = rules(
        spec(
            {"/users": {"post": op(requestBody=body(schema))}},
            components={"schemas": {"Base": {"type": "object", "properties": {"role": {"type": "string"}}}}},
        )
    )
    assert sorted(f.locations[0].pointer for f in found["sec.api3.privileged-field-writable"]) == [
        "/components/schemas/Base/properties/role",
        "/paths/~1users/post/requestBody/content/application~1json/schema/allOf/1/properties/profile/properties/is_admin",
    ]
    camel = {
        "type": "object",
        "properties": {"account": {"type": "object", "properties": {"isAdmin": {"type": "boolean"}}}},
    }
    assert "sec.api3.privileged-field-writable" in rules(spec({"/users": {"post": op(requestBody=body(camel))}}))
    read_only = {
        "type": "object",
        "properties": {
            "profile": {"type": "object", "properties": {"is_admin": {"type": "boolean", "readOnly": True}}}
        },
    }
    assert "sec.api3.privileged-field-writable" not in rules(
        spec({"/users": {"post": op(requestBody=body(read_only))}})
    )


# --- 5. Admin and internal operations --------------------------------------------------------


def test_an_admin_operation_behind_only_an_api_key_fails_api5() -> None:
    schemes = {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        }
    }
    findings, section = review(
        spec(
            {
                "/users": {"get": op()},
                "/admin/users/{userId}": {"delete": op(parameters=[path_id("userId")], security=[{"key": []}])},
            },
            components=schemes,
        )
    )
    assert [f.locations[0].pointer for f in findings if f.rule_id == "sec.api5.admin-weak-auth"] == [
        "/paths/~1admin~1users~1{userId}/delete"
    ]
    assert {i["key"]: i["status"] for i in section["checklist"]}["API5"] == "fail"
    scoped = rules(
        spec(
            {
                "/users": {"get": op()},
                "/admin/users/{userId}": {
                    "delete": op(parameters=[path_id("userId")], security=[{"bearer": ["admin"]}])
                },
            },
            components=schemes,
        )
    )
    assert "sec.api5.admin-weak-auth" not in scoped


def test_an_operation_tagged_internal_without_authentication_fails_api5() -> None:
    found = rules(spec({"/reindex": {"post": op(tags=["Internal"], security=[])}, "/books": {"get": op()}}))
    assert "sec.api5.admin-weak-auth" in found
    assert "sec.api5.admin-weak-auth" not in rules(spec({"/reindex": {"post": op(tags=["Catalogue"], security=[])}}))
    compound = op(tags=["deviceManagement"], operationId="domains.internalDomainFederation.list", security=[])
    assert "sec.api5.admin-weak-auth" not in rules(spec({"/devices": {"post": compound}}))


def test_internal_paths_in_the_description_are_an_inventory_finding() -> None:
    found = rules(spec({"/internal/cache": {"delete": op()}, "/actuator/env": {"get": op()}, "/books": {"get": op()}}))
    assert sorted(f.locations[0].pointer for f in found["sec.api9.internal-path-exposed"]) == [
        "/paths/~1actuator~1env/get",
        "/paths/~1internal~1cache/delete",
    ]
    assert "sec.api9.internal-path-exposed" not in rules(
        spec({"/reports/{reportId}/metrics": {"get": op(parameters=[path_id("reportId")])}})
    )
    internal_only = [{"url": "https://ops.example.com/v1", "x-internal": True, "description": "Production"}]
    assert "sec.api9.internal-path-exposed" not in rules(
        spec({"/internal/cache": {"delete": op()}}, servers=internal_only)
    )


def test_webhook_payloads_are_reviewed_for_secrets_and_personal_data() -> None:
    payload = {"type": "object", "properties": {"email": {"type": "string"}, "api_key": {"type": "string"}}}
    found = rules(spec31(webhooks={"customerCreated": {"post": dict(EVENT, requestBody=body(payload))}}))
    (secret,) = found["sec.api3.secret-in-response"]
    assert (
        secret.locations[0].pointer
        == "/webhooks/customerCreated/post/requestBody/content/application~1json/schema/properties/api_key"
    )
    assert "sends `api_key` in its payload" in secret.message
    assert secret.title == "Webhook or callback payload carries a secret or card data"
    (personal,) = found["sec.dp.personal-data"]
    assert personal.message.startswith("webhook customerCreated holds identifiers and contact data: email.")
    quiet = rules(spec31(webhooks={"customerCreated": EVENT}))
    assert not {"sec.api3.secret-in-response", "sec.dp.personal-data"} & set(quiet)


def test_an_operation_receiving_events_is_known_by_its_event_header_and_reads_are_not_receivers() -> None:
    event_header = {"name": "X-Carrier-Event", "in": "header", "required": True, "schema": {"type": "string"}}
    api = spec(
        {
            "/orders": {"post": op()},
            "/carrier/updates": {"post": op(parameters=[event_header])},
            "/notifications": {"get": op(summary="Lists the caller's notifications")},
        }
    )
    found = rules(document=design(PAYMENTS.format("Carrier calls must be signed with HMAC."), api))
    assert [f.locations[0].pointer for f in found["sec.api10.unsigned-webhook"]] == ["/paths/~1carrier~1updates/post"]


def test_a_signature_story_covers_the_webhooks_the_api_documents() -> None:
    document = design(
        PAYMENTS.format("Every webhook we send is signed with HMAC."),
        spec31(webhooks={"orderPaid": {"post": dict(EVENT, security=[{"bearer": []}])}}),
    )
    (finding,) = rules(document=document)["sec.api10.unsigned-webhook"]
    assert finding.locations[0].pointer == "/webhooks/orderPaid/post"
    assert "Every webhook we send is signed with HMAC." in finding.message


def test_a_card_number_returned_is_a_secret_only_where_payments_are() -> None:
    def returning(path: str, properties: dict[str, Any]) -> dict[str, list]:
        schema = {"type": "object", "properties": properties}
        response = {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}
        return rules(spec({path: {"get": {"responses": response}}}))

    member = returning("/library-members/{memberId}", {"card_number": {"type": "string"}, "name": {"type": "string"}})
    assert "sec.api3.secret-in-response" not in member
    payment = returning("/payments/{paymentId}", {"card_number": {"type": "string"}})
    assert "sec.api3.secret-in-response" in payment
    beside_expiry = returning("/members/{memberId}", {"card_number": {"type": "string"}, "expiry": {"type": "string"}})
    assert "sec.api3.secret-in-response" in beside_expiry


# What each data-protection title says, and the words its message must then use (and must not).
TIER_WORDS = {
    "sec.dp.card-number-stored": ("payment card numbers", "named like a card number"),
    "sec.dp.card-number-unverified": ("named like a card number", "holds payment card numbers"),
    "sec.dp.special-category": ("special category data", "identifiers and contact data"),
    "sec.dp.personal-data": ("identifiers and contact data", "special category"),
    "sec.dp.sensitive-data": ("national or government identifier", "special category"),
}


def test_data_protection_titles_and_messages_name_the_same_tier() -> None:
    document = (
        "```dbml\nTable payments {\n  id bigint [pk]\n  card_number text\n}\n"
        "Table library_members {\n  id bigint [pk]\n  card_number text\n  email text\n  passport_number text\n  religion text\n}\n```\n"
    )
    api = spec(
        {},
        components={
            "schemas": {
                "Checkout": {"type": "object", "properties": {"pan": {"type": "string"}, "cvv": {"type": "string"}}},
                "Patient": {
                    "type": "object",
                    "properties": {"diagnosis": {"type": "string"}, "phone": {"type": "string"}},
                },
            }
        },
    )
    findings = [f for f in review(document=document + "\n```openapi\n" + api + "\n```\n")[0] if f.rule_id in TIER_WORDS]
    assert {f.rule_id for f in findings} == set(TIER_WORDS)
    for finding in findings:
        wanted, contradicting = TIER_WORDS[finding.rule_id]
        assert wanted in finding.message, (finding.title, finding.message)
        assert contradicting not in finding.message, (finding.title, finding.message)
        assert (finding.severity == "critical") == (finding.rule_id == "sec.dp.card-number-stored")


def test_an_operation_that_says_it_receives_notifications_needs_a_signature_or_authentication() -> None:
    found = rules(spec({"/provider/payment-events": RECEIVER}))
    (finding,) = found["sec.api10.unsigned-webhook"]
    assert "operationId `receivePaymentNotification`" in finding.message
    authenticated = {"post": dict(RECEIVER["post"], security=[{"bearer": []}])}
    assert "sec.api10.unsigned-webhook" not in rules(spec({"/provider/payment-events": authenticated}))


def test_every_body_rule_walks_compositions_and_nested_objects() -> None:
    request = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"hook": {"type": "object", "properties": {"target_url": {"type": "string"}}}},
            }
        ]
    }
    error = {
        "anyOf": [
            {
                "type": "object",
                "properties": {"detail": {"type": "object", "properties": {"stacktrace": {"type": "string"}}}},
            }
        ]
    }
    account = {
        "allOf": [
            {
                "type": "object",
                "properties": {"owner": {"type": "object", "properties": {"password": {"type": "string"}}}},
            }
        ]
    }
    found = rules(
        spec(
            {
                "/subscriptions": {
                    "post": {
                        "requestBody": body(request),
                        "responses": {
                            "201": {"description": "ok", "content": {"application/json": {"schema": account}}},
                            "500": {"description": "boom", "content": {"application/json": {"schema": error}}},
                        },
                    }
                }
            }
        )
    )
    assert (
        found["sec.api7.url-input"][0].locations[0].pointer.endswith("/oneOf/0/properties/hook/properties/target_url")
    )
    assert (
        found["sec.api3.secret-in-response"][0]
        .locations[0]
        .pointer.endswith("/allOf/0/properties/owner/properties/password")
    )
    assert (
        found["sec.api8.error-leaks-internals"][0]
        .locations[0]
        .pointer.endswith("/anyOf/0/properties/detail/properties/stacktrace")
    )
