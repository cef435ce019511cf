"""A design-level gap is one finding with every place as a location; a rule does not ask what a
place already answers (a bounded format, a public operation), and keeps that place suppressed
with the reason, so Spectral's pairs stay among the locations."""

from typing import Any

from apps.designs.engine.findings import Finding
from tests.security.helpers import op, rules, spec


def _open(found: dict[str, list[Finding]], rule_id: str) -> list[Finding]:
    return [f for f in found.get(rule_id, []) if not f.suppressed]


def _suppressed(found: dict[str, list[Finding]], rule_id: str) -> list[Finding]:
    return [f for f in found.get(rule_id, []) if f.suppressed]


def _pointers(findings: list[Finding]) -> set[str]:
    return {loc.pointer or "" for f in findings for loc in f.locations}


def test_a_gap_on_every_operation_is_one_finding_with_every_operation() -> None:
    found = rules(spec({f"/things{i}": {"get": op(), "post": op()} for i in range(6)}))
    no_429 = _open(found, "sec.api4.no-429")
    assert len(no_429) == 1
    assert len(no_429[0].locations) == 12
    assert no_429[0].message.startswith("12 operations document no 429 response")
    assert no_429[0].title == "Operation does not document 429 Too Many Requests"
    assert len(_open(found, "sec.api8.error-401")) == 1


def test_a_gap_on_one_node_keeps_that_nodes_own_message() -> None:
    found = rules(spec({"/a": {"get": op()}}))
    [finding] = _open(found, "sec.api4.no-429")
    assert finding.message.startswith("The operation documents no 429 response with a body.")


def test_a_429_documented_without_a_body_is_not_asked_again() -> None:
    found = rules(
        spec(
            {
                "/a": {"get": op(responses={"200": {"description": "ok"}, "429": {"description": "x"}})},
                "/b": {"get": op()},
            }
        )
    )
    assert _pointers(_open(found, "sec.api4.no-429")) == {"/paths/~1b/get/responses"}
    [kept] = _suppressed(found, "sec.api4.no-429")
    assert _pointers([kept]) == {"/paths/~1a/get/responses"}  # Spectral asks a body of it: kept, suppressed


def test_a_decision_per_node_stays_a_finding_per_node() -> None:
    body: dict[str, Any] = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "is_staff": {"type": "boolean"},
                        "role": {"type": "string", "enum": ["a", "b"]},
                    },
                }
            }
        }
    }
    found = rules(spec({"/users": {"post": op(requestBody=body)}, "/admins": {"post": op(requestBody=body)}}))
    # Each body is written apart: each field is its own decision, placed at the field, then
    # at the operation that accepts it.
    writable = found["sec.api3.privileged-field-writable"]
    assert len(writable) >= 2
    assert {f.locations[0].pointer for f in writable} >= {
        "/paths/~1users/post/requestBody/content/application~1json/schema/properties/is_staff",
        "/paths/~1admins/post/requestBody/content/application~1json/schema/properties/is_staff",
    }
    assert all(len(f.locations) == 2 for f in writable)


def test_a_field_of_a_shared_schema_is_one_finding_with_every_operation_that_accepts_it() -> None:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}
    user = {"type": "object", "properties": {"is_admin": {"type": "boolean"}, "name": {"type": "string"}}}
    found = rules(
        spec(
            {
                "/users": {"post": op(requestBody=body)},
                "/users/{id}": {"put": op(requestBody=body), "patch": op(requestBody=body)},
            },
            components={"schemas": {"User": user}},
        )
    )
    [writable] = found["sec.api3.privileged-field-writable"]
    assert [loc.pointer for loc in writable.locations] == [
        "/components/schemas/User/properties/is_admin",
        "/paths/~1users/post",
        "/paths/~1users~1{id}/put",
        "/paths/~1users~1{id}/patch",
    ]
    assert writable.message.startswith(
        "3 operations let the caller set `is_admin`: POST /users, PUT /users/{id}, PATCH /users/{id}."
    )


def test_a_waived_place_leaves_the_finding_and_is_kept_suppressed() -> None:
    paths = {
        "/a": {"get": op()},
        "/b": {"get": op()},
        "/c": {"get": {"responses": {"200": {"description": "ok"}, "x-workbench-ignore": ["sec.api4.no-429"]}}},
    }
    found = rules(spec(paths))
    [open_] = _open(found, "sec.api4.no-429")
    [waived] = _suppressed(found, "sec.api4.no-429")
    assert _pointers([open_]) == {"/paths/~1a/get/responses", "/paths/~1b/get/responses"}
    assert _pointers([waived]) == {"/paths/~1c/get/responses"}
    assert waived.suppressed is not None and waived.suppressed["source"] == "spec"
    assert open_.fingerprint != waived.fingerprint


def _strings(**properties: dict[str, Any]) -> str:
    """A request body and a response each with `properties`, the response through its own schema."""
    return spec(
        {
            "/notes": {
                "post": op(
                    requestBody={"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
                    responses={
                        "201": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}},
                        }
                    },
                )
            }
        },
        components={
            "schemas": {
                "In": {"type": "object", "properties": properties},
                "Out": {"type": "object", "properties": {"echo": {"type": "string"}}},
            }
        },
    )


def test_length_limits_are_asked_of_strings_a_client_sends_unbounded() -> None:
    found = rules(
        _strings(
            text={"type": "string"},
            slug={"type": "string", "pattern": "[a-z]+"},  # not anchored: any length
            code={"type": "string", "pattern": "^[A-Z]+$"},  # anchored, but unbounded repetition
            email={"type": "string", "format": "email"},
        )
    )
    asked = _pointers(_open(found, "sec.api4.string-limit"))
    assert asked == {f"/components/schemas/In/properties/{name}" for name in ("text", "slug", "code", "email")}


def test_length_limits_are_not_asked_where_the_schema_already_bounds_or_only_the_server_writes() -> None:
    found = rules(
        _strings(
            when={"type": "string", "format": "date-time"},
            ref={"type": "string", "format": "uuid"},
            sku={"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
            state={"type": "string", "enum": ["open", "closed"]},
            kind={"type": "string", "const": "note"},
            id={"type": "string", "readOnly": True},
            short={"type": "string", "maxLength": 20},
        )
    )
    assert _open(found, "sec.api4.string-limit") == []
    exempt = {
        f.suppressed["reason"]: _pointers([f]) for f in _suppressed(found, "sec.api4.string-limit") if f.suppressed
    }
    reasons = " ".join(exempt)
    assert "format" in reasons and "pattern" in reasons and "readOnly" in reasons and "only the server" in reasons
    # Kept, suppressed, where Spectral's string-limit asks (not for enum, const or maxLength).
    assert set().union(*exempt.values()) == {
        "/components/schemas/In/properties/when",
        "/components/schemas/In/properties/ref",
        "/components/schemas/In/properties/sku",
        "/components/schemas/In/properties/id",
        "/components/schemas/Out/properties/echo",  # response only
    }
    assert all(f.message.startswith("Not asked here:") for f in _suppressed(found, "sec.api4.string-limit"))


def test_401_is_not_asked_of_a_public_operation() -> None:
    found = rules(spec({"/login": {"post": op(security=[])}, "/me": {"get": op()}}))
    assert _pointers(_open(found, "sec.api8.error-401")) == {"/paths/~1me/get/responses"}
    [public] = _suppressed(found, "sec.api8.error-401")
    assert _pointers([public]) == {"/paths/~1login/post/responses"}
    assert public.suppressed is not None and "security: []" in public.suppressed["reason"]


def _listing(schema: dict[str, Any]) -> dict[str, Any]:
    return op(responses={"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}})


def test_a_list_bounded_by_max_items_or_by_a_story_is_not_called_unpaginated() -> None:
    item = {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}}
    document = (
        """# Branches

## Stories

### LIB-9: Recent loans
As a member, I want to see my loans, so that I know what is due.

Acceptance criteria:
- The list shows the 20 most recent loans.

Endpoints: GET /loans

```openapi
"""
        + spec(
            {
                "/branches": {"get": _listing({"type": "array", "maxItems": 200, "items": item})},
                "/capped": {"get": _listing({"$ref": "#/components/schemas/Capped"})},
                "/loans": {"get": _listing({"type": "array", "items": item})},
                "/fines": {"get": _listing({"type": "array", "items": item})},
            },
            components={"schemas": {"Capped": {"type": "array", "maxItems": 10, "items": item}}},
        )
        + "\n```\n"
    )
    found = rules(document=document)
    assert _pointers(_open(found, "sec.api4.unpaginated-list")) == {"/paths/~1fines/get"}


def _sign_in_design(criteria: str, responses: dict[str, Any]) -> str:
    return (
        """# Sign in

## Stories

### ACC-1: Member signs in
As a member, I want to sign in with my card number and PIN, so that I can borrow books.

Acceptance criteria:
"""
        + criteria
        + """
Endpoints: POST /auth/login, POST /members

```openapi
"""
        + spec(
            {
                "/auth/login": {"post": op(security=[], responses=responses)},
                "/members": {"post": op(security=[], operationId="registerMember")},
                "/auth/otp/verify": {"post": op(security=[], responses=responses)},
            }
        )
        + "\n```\n"
    )


def test_a_credential_check_without_any_attempt_limit_is_reported() -> None:
    found = rules(document=_sign_in_design("- A valid PIN gives a token.", {"200": {"description": "ok"}}))
    assert {f.locations[0].pointer for f in found["sec.api2.unlimited-credential-attempts"]} == {
        "/paths/~1auth~1login/post",
        "/paths/~1auth~1otp~1verify/post",
    }
    assert all(f.severity == "high" for f in found["sec.api2.unlimited-credential-attempts"])


def test_a_limit_in_a_story_or_a_documented_429_answers_it() -> None:
    locked = rules(
        document=_sign_in_design(
            "- After 5 failed attempts the card is locked for 15 minutes.", {"200": {"description": "ok"}}
        )
    )
    # The story's lockout covers the operations it cites; the one-time code it does not cite stays.
    assert {f.locations[0].pointer for f in locked.get("sec.api2.unlimited-credential-attempts", [])} == {
        "/paths/~1auth~1otp~1verify/post"
    }
    refused = rules(
        document=_sign_in_design(
            "- A valid PIN gives a token.",
            {"200": {"description": "ok"}, "429": {"description": "slow down"}},
        )
    )
    assert "sec.api2.unlimited-credential-attempts" not in refused


def _flow(role: str, want: str, endpoint: str, paths: dict[str, Any]) -> dict[str, list[Finding]]:
    return rules(
        document=f"""# Flows

## Stories

### FL-1: A flow
As {role}, I want to {want}, so that it is done.

Acceptance criteria:
- It works.

Endpoints: {endpoint}

```openapi
"""
        + spec(paths)
        + "\n```\n"
    )


def test_a_public_flow_worth_automating_is_reported_and_staff_reading_or_receiving_flows_are_not() -> None:
    paths = {"/bookings": {"post": op(), "get": op()}, "/webhooks/bank": {"post": op()}, "/pay-runs": {"post": op()}}
    assert "sec.api6.sensitive-flow" in _flow("a patient", "book a consultation", "POST /bookings", paths)
    assert "sec.api6.sensitive-flow" not in _flow("an HR user", "prepare the pay run", "POST /pay-runs", paths)
    assert "sec.api6.sensitive-flow" not in _flow("a member", "see what I still have to pay", "GET /bookings", paths)
    assert "sec.api6.sensitive-flow" not in _flow("a bank", "report each transfer", "POST /webhooks/bank", paths)


def _cards(criterion: str) -> dict[str, list[Finding]]:
    return rules(
        document=f"""# Cards

## Stories

### FAC-1: Facilities manage access cards
As a facilities manager, I want to see which access card each employee holds, so that I can block a lost badge.

Acceptance criteria:
- {criterion}

### PAY-1: Employees are paid
As an employee, I want my salary paid to my bank account, so that I can pay my rent.

Acceptance criteria:
- Payments go out on the last day of the month.

```sql
CREATE TABLE access_cards (id bigint PRIMARY KEY, employee_id bigint NOT NULL, card_number varchar(20) NOT NULL);
```
"""
    )


def test_a_card_number_is_a_payment_card_only_where_a_story_about_its_table_says_so() -> None:
    badge = _cards("A card number here is the badge's printed number, not a payment card.")
    assert "sec.dp.card-number-stored" not in badge  # another story speaking of payments does not count
    assert "sec.dp.card-number-unverified" in badge
    paying = _cards("Employees pay in the canteen with their access card.")
    assert [f.severity for f in paying["sec.dp.card-number-stored"]] == ["critical"]


def test_bank_account_numbers_are_payment_data_and_a_customer_account_number_is_not() -> None:
    found = rules(
        document="""# Payouts

```sql
CREATE TABLE bank_accounts (id bigint PRIMARY KEY, holder_name text NOT NULL, iban varchar(34) NOT NULL, bic varchar(11));
CREATE TABLE payees (id bigint PRIMARY KEY, account_number varchar(20) NOT NULL, sort_code varchar(8));
CREATE TABLE loyalty_members (id bigint PRIMARY KEY, account_number varchar(20) NOT NULL);
```
"""
    )
    stored = {f.message.split(" holds")[0]: f for f in found["sec.dp.bank-account-stored"]}
    assert set(stored) == {"bank_accounts", "payees"}
    assert all(f.severity == "high" for f in stored.values())
    assert "iban" in stored["bank_accounts"].message and "bic" not in stored["bank_accounts"].message


def test_ownership_stated_for_writing_says_nothing_of_who_may_read() -> None:
    found = rules(
        document="""# Notes

## Stories

### TH-6: Clinician writes notes
As a clinician, I want to record notes for a consultation, so that the history is kept.

Acceptance criteria:
- Given a consultation I hold, when I save notes, then they are attached to it.

Endpoints: GET /consultations/{consultationId}/notes, POST /consultations/{consultationId}/notes

```openapi
"""
        + spec(
            {
                "/consultations/{consultationId}/notes": {
                    "parameters": [
                        {"name": "consultationId", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "get": op(),
                    "post": op(),
                }
            }
        )
        + "\n```\n"
    )
    assert [f.locations[0].pointer for f in found["sec.api1.object-access-required"]] == [
        "/paths/~1consultations~1{consultationId}~1notes/post"
    ]
    assert [f.locations[0].pointer for f in found["sec.api1.object-access-unstated"]] == [
        "/paths/~1consultations~1{consultationId}~1notes/get"
    ]


def test_max_items_is_asked_of_arrays_a_client_sends_not_of_those_only_the_server_writes() -> None:
    found = rules(
        _strings(ids={"type": "array", "items": {"type": "string", "format": "uuid"}}).replace(
            '"echo": {', '"all": {"type": "array", "items": {"type": "integer"}}, "echo": {', 1
        )
    )
    [asked] = _open(found, "sec.api4.array-limit")
    assert asked.severity == "medium"
    assert _pointers([asked]) == {"/components/schemas/In/properties/ids"}
    assert "/components/schemas/Out/properties/all" in _pointers(_suppressed(found, "sec.api4.array-limit"))


def test_a_page_size_a_story_fixes_counts_for_the_list_it_names() -> None:
    item = {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}}
    listing = _listing({"type": "array", "items": item})
    document = (
        """# Catalogue

## Stories

### LIB-3: Search the catalogue
As a visitor, I want to search titles, so that I find books.

Acceptance criteria:
- Results show 20 titles per page, best match first.

Endpoints: GET /titles, GET /titles/{titleId}/copies

```openapi
"""
        + spec({"/titles": {"get": listing}, "/titles/{titleId}/copies": {"get": listing}})
        + "\n```\n"
    )
    found = rules(document=document)
    assert _pointers(_open(found, "sec.api4.unpaginated-list")) == {"/paths/~1titles~1{titleId}~1copies/get"}


def test_a_schema_carrying_a_tables_rows_adds_its_places_to_the_tables_data_finding() -> None:
    note = {"type": "object", "properties": {"diagnosis": {"type": "string", "maxLength": 2000}}}
    other = {"type": "object", "properties": {"diagnosis": {"type": "string"}, "blood_type": {"type": "string"}}}
    found = rules(
        document="""# Notes

```sql
CREATE TABLE consultation_notes (id bigint PRIMARY KEY, diagnosis text NOT NULL);
```

```openapi
"""
        + spec({}, components={"schemas": {"ConsultationNote": note, "Summary": note, "Other": other}})
        + "\n```\n"
    )
    table, elsewhere = found["sec.dp.special-category"]
    # By its name, and by holding only the table's sensitive columns: the same data, told once.
    assert [loc.pointer for loc in table.locations] == [
        None,
        "/components/schemas/ConsultationNote/properties/diagnosis",
        "/components/schemas/Summary/properties/diagnosis",
    ]
    # Data the table does not hold is another finding.
    assert [loc.pointer for loc in elsewhere.locations] == [
        "/components/schemas/Other/properties/diagnosis",
        "/components/schemas/Other/properties/blood_type",
    ]


def test_a_credential_parameter_repeated_inline_is_one_finding_with_every_place() -> None:
    key = {"name": "apiKey", "in": "query", "schema": {"type": "string", "maxLength": 40, "format": "x"}}
    found = rules(spec({f"/things{i}": {"get": op(parameters=[key])} for i in range(4)}))
    [finding] = found["sec.api2.credentials-in-url"]
    assert sorted(loc.pointer or "" for loc in finding.locations) == [
        f"/paths/~1things{i}/get/parameters/0/name" for i in range(4)
    ]
    assert finding.message.startswith("`apiKey` is passed in the query by 4 operations: GET /things")


def test_object_ids_in_a_design_without_stories_are_one_gap() -> None:
    param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    paths = {f"/things{i}/{{id}}": {"get": op(parameters=[param])} for i in range(3)}
    [finding] = rules(spec(paths))["sec.api1.object-access-unstated"]
    assert len(finding.locations) == 3
    assert "3 operations take an object id and the design has no stories" in finding.message


def test_where_a_person_is_is_personal_data_and_a_place_s_address_is_not() -> None:
    found = rules(
        document="""# Fleet

```sql
CREATE TABLE driver_locations (id bigint PRIMARY KEY, driver_id bigint NOT NULL, latitude numeric NOT NULL, longitude numeric NOT NULL);
CREATE TABLE store_locations (id bigint PRIMARY KEY, latitude numeric NOT NULL, longitude numeric NOT NULL, phone text);
CREATE TABLE drivers (id bigint PRIMARY KEY, driver_license_number varchar(20) NOT NULL);
```
"""
    )
    # Where a driver was, over time: a location history (and not also contact data), not a store's position.
    assert "sec.dp.personal-data" not in found
    assert [f.message.split(" holds")[0] for f in found["sec.dp.location-tracking"]] == ["driver_locations"]
    assert found["sec.dp.location-tracking"][0].severity == "medium"
    assert [f.message.split(" is a national")[0] for f in found["sec.dp.sensitive-data"]] == [
        "drivers.driver_license_number"
    ]


def test_integer_bounds_are_asked_of_integers_a_client_sends() -> None:
    found = rules(
        _strings(quantity={"type": "integer", "format": "int32"}).replace(
            '"echo": {', '"total": {"type": "integer", "format": "int64"}, "echo": {', 1
        )
    )
    assert _pointers(_open(found, "sec.api4.integer-limit")) == {"/components/schemas/In/properties/quantity"}
    assert "/components/schemas/Out/properties/total" in _pointers(_suppressed(found, "sec.api4.integer-limit"))
