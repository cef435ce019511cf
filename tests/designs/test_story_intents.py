"""The security intents a reviewer reads in story sentences, across domains: what each phrasing
must yield, and what similar phrasings must not."""

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.story_intents import field_matches, sentence_intents, story_intents


def kinds(sentence: str) -> set[str]:
    return {kind for kind, _, _ in sentence_intents(sentence)}


def details(sentence: str, kind: str) -> list[str]:
    return [detail for k, detail, _ in sentence_intents(sentence) if k == kind]


OWNERSHIP = [
    "Patients see only their own appointments.",  # clinic
    "A patient can download lab results for themselves.",
    "Only the assigned doctor may read the clinical notes.",
    "Members see only their loans.",  # library
    "A member can renew loans that they created.",
    "Given another member's loan id, the API answers 404.",
    "Customers can view their own statements and nothing else.",  # banking
    "Account holders may only export transactions of their accounts.",
    "Requesting someone else's transfer returns 404.",
    "Drivers only see deliveries assigned to them.",  # logistics
    "Shipments are scoped to the caller's organisation.",
    "Employees can update their own bank details.",  # HR
    "An employee cannot see other employees' payslips.",
    "Students view only their grades.",  # education
    "A student may submit homework for themselves only.",
    "Reviews can be edited by the author alone.",  # shop
    "Only the owner can delete a listing.",
    "Tenants are limited to their own workspace.",
    "Lists are filtered by the logged-in user.",
    "Documents belonging to me are the only ones listed.",
    "Given an order id that is not theirs, the response is 404.",
    "Invoices of other customers are never returned.",
    "Only HR users of that company can list its employees; anyone else gets 404.",  # payroll
    "Only dispatchers of the same depot can reassign a route.",  # logistics
    "Teachers see the grades of students in their school.",  # education
    "A clinician reads notes of patients at their clinic; everyone else is refused.",  # clinic
]
NOT_OWNERSHIP = [
    "The clinic opens at 8 am.",
    "Librarians add new books to the catalogue.",
    "The API returns 404 when the loan does not exist.",
    "A member borrows a book and gets a due date.",
    "Other formats may be added later.",
    "Staff notify other users about the outage.",
    "They own a car and a bicycle.",
    "The shipment weight is stored in grams.",
    "Students enrol in courses each term.",
    "The transfer is shown in the account history.",
    "Anyone else may read the public timetable.",
    "The head office of the company is in Lyon.",
]
ROLE = [
    ("Admins may deactivate any account.", "admins"),
    ("Refunds are restricted to staff.", "staff"),
    ("Only librarians can waive fines.", "librarians"),
    ("Only HR managers may change salaries.", "hr managers"),
    ("Changing a grade requires the teacher role.", "teacher"),
    ("Only the assigned doctor may read the clinical notes.", "assigned doctor"),
    ("The audit export is available only to auditors.", "auditors"),
    ("Route overrides are dispatcher-only.", "dispatcher"),
    ("As an administrator, I want to merge duplicate patients, so that records stay clean.", "administrator"),
    ("Supervisors can approve overtime.", "supervisors"),
    ("The manager permission is required to close a branch.", "manager"),
    ("No one but the registrar may issue transcripts.", "registrar"),
    ("Only tellers and supervisors can reverse a deposit.", "tellers"),
    ("Closing the account is reserved for back-office staff.", "back-office staff"),
    ("Only users with the support role can search across customers.", "support"),
    ("Clerks who hold the refund permission may reverse a sale.", "refund"),
    ("Only finance approvers of that company can approve a pay run.", "finance approvers"),
    ("Only operators holding the admin scope can list companies.", "operators"),
    ("Only HR users can see salaries.", "hr users"),
]
NOT_ROLE = [
    "As a member, I want to borrow a book, so that I can read it.",
    "Doctors write prescriptions for their patients.",
    "Only 5 items can be reserved at once.",
    "The manager of the depot is shown on the shipment.",
    "Only the first page is cached.",
    "Teachers and students share the timetable.",
    "Only signed-in users can comment.",
    "Only registered users may borrow books.",
    'When I register, a member account is created with the role "member".',
    'Only librarians can give an account the role "librarian".',
]
LIMITS = [
    ("Members can have at most 10 active loans.", "quantity", 10),
    ("Login allows 5 attempts per hour.", "rate", 5),
    ("No more than 3 password resets a day.", "quantity", 3),
    ("A customer may request up to two replacement cards a month.", "quantity", 2),
    ("Lock the account after 5 failed attempts.", "lockout", 5),
    ("The search endpoint is rate-limited per IP.", "control", None),
    ("Sign-up is protected by a CAPTCHA.", "control", None),
    ("A courier can claim 20 parcels per day.", "rate", 20),
    ("Each student may submit 3 attempts per quiz per day.", "rate", 3),
    ("Bookings are capped at 4 per patient per week.", "quantity", 4),
    ("Transfers are throttled when a device sends too many.", "control", None),
    ("Applicants may apply for no more than five roles.", "quantity", 5),
    ("After 5 failed attempts within 15 minutes the account is locked.", "lockout", 5),
    ("After three wrong PINs the card is blocked.", "lockout", 3),
]
NOT_LIMITS = [
    "p95 < 200 ms at 400 requests per second.",
    "The page loads in at most 2 seconds.",
    "Orders ship within two days.",
    "The warehouse handles 500 parcels per hour.",
    "Loans last three weeks.",
    "The report lists every transfer of the month.",
    "Given I am signed in, then I see at most 50 orders per page.",
    "Search shows up to 20 results on a page.",
]
SIGNATURE = [
    "Payment provider webhooks are verified by signature.",
    "Callbacks from the lab must be signed with HMAC-SHA256.",
    "Each carrier event carries an X-Carrier-Signature header we verify.",
    "Notifications from the bank are signed using a shared secret.",
    "Reject any webhook whose signature does not match.",
]
NOT_SIGNATURE = [
    "Only signed-in members can borrow.",
    "The patient signs up with an email address.",
    "A signed-in teacher sees the class list.",
    "The employee signature on the contract is scanned.",
]
IDEMPOTENCY = [
    "Retries must not charge the customer twice.",
    "The client sends an Idempotency-Key with every payment.",
    "Creating a shipment is idempotent.",
    "A repeated callback is processed exactly once.",
    "No duplicate payments when the provider retries.",
    "Payroll runs are never paid twice.",
    "Duplicate enrolments are rejected.",
]
NOT_IDEMPOTENCY = [
    "Patients see their appointments twice a year in the summary.",
    "The customer is charged on delivery.",
    "Retrying a failed upload is allowed.",
    "Grades are published once the term ends.",
]
DERIVED = [
    ("`customer_id` comes from the token, never from the body.", "customer_id"),
    ("The author is the logged-in user.", "author"),
    ("member_id is derived from the caller.", "member_id"),
    ("Clients cannot set the owner_id.", "owner_id"),
    ("The employee_id is taken from the session.", "employee_id"),
    ("The requester field is filled by the server.", "requester"),
    ("The patient is always the authenticated user.", "patient"),
    ("`tenantId` is never taken from the request.", "tenantId"),
]
NOT_DERIVED = [
    "The customer chooses a delivery slot.",
    "The author writes a title and a body.",
    "The member_id is shown on the card.",
    "The status is set when the order ships.",
]


@pytest.mark.parametrize("sentence", OWNERSHIP)
def test_it_reads_ownership(sentence: str) -> None:
    assert "ownership" in kinds(sentence)


@pytest.mark.parametrize("sentence", NOT_OWNERSHIP)
def test_it_reads_no_ownership_where_none_is_stated(sentence: str) -> None:
    assert "ownership" not in kinds(sentence)


@pytest.mark.parametrize(("sentence", "role"), ROLE)
def test_it_reads_a_role_restriction(sentence: str, role: str) -> None:
    assert role in details(sentence, "role")


@pytest.mark.parametrize("sentence", NOT_ROLE)
def test_it_reads_no_role_restriction_where_none_is_stated(sentence: str) -> None:
    assert "role" not in kinds(sentence)


@pytest.mark.parametrize(("sentence", "kind", "amount"), LIMITS)
def test_it_reads_a_stated_limit(sentence: str, kind: str, amount: int | None) -> None:
    assert (kind, amount) in [(d, a) for k, d, a in sentence_intents(sentence) if k == "limit"]


@pytest.mark.parametrize("sentence", NOT_LIMITS)
def test_it_reads_no_limit_in_budgets_and_durations(sentence: str) -> None:
    assert "limit" not in kinds(sentence)


@pytest.mark.parametrize("sentence", SIGNATURE)
def test_it_reads_a_signature_requirement(sentence: str) -> None:
    assert "signature" in kinds(sentence)


@pytest.mark.parametrize("sentence", NOT_SIGNATURE)
def test_it_reads_no_signature_in_signing_in_or_paper(sentence: str) -> None:
    assert "signature" not in kinds(sentence)


@pytest.mark.parametrize("sentence", IDEMPOTENCY)
def test_it_reads_an_idempotency_requirement(sentence: str) -> None:
    assert "idempotency" in kinds(sentence)


@pytest.mark.parametrize("sentence", NOT_IDEMPOTENCY)
def test_it_reads_no_idempotency_where_none_is_stated(sentence: str) -> None:
    assert "idempotency" not in kinds(sentence)


@pytest.mark.parametrize(("sentence", "field"), DERIVED)
def test_it_reads_a_field_the_server_derives(sentence: str, field: str) -> None:
    assert field in details(sentence, "derived")


@pytest.mark.parametrize("sentence", NOT_DERIVED)
def test_it_reads_no_derived_field_where_none_is_stated(sentence: str) -> None:
    assert "derived" not in kinds(sentence)


def test_the_corpus_holds_at_least_eighty_phrasings() -> None:
    groups = (OWNERSHIP, NOT_OWNERSHIP, ROLE, NOT_ROLE, LIMITS, NOT_LIMITS, SIGNATURE, NOT_SIGNATURE)
    total = sum(len(g) for g in (*groups, IDEMPOTENCY, NOT_IDEMPOTENCY, DERIVED, NOT_DERIVED))
    assert total >= 80


@pytest.mark.parametrize(
    ("field", "name", "expected"),
    [
        ("customer_id", "customerId", True),
        ("author", "author_id", True),
        ("author", "authorId", True),
        ("member_id", "member_id", True),
        ("member_id", "member_name", False),
        ("author", "authority", False),
    ],
)
def test_a_story_field_matches_its_spellings(field: str, name: str, expected: bool) -> None:
    assert field_matches(field, name) is expected


def test_intents_cite_the_line_they_were_read_from() -> None:
    document = (
        "### LIB-4: Borrowing\n"
        "As a member, I want to borrow books, so that I can read them.\n"
        "\n"
        "Acceptance criteria:\n"
        "- Members see only their loans.\n"
        "- At most 10 active loans per member.\n"
        "\n"
        "```sql\n-- admins may delete everything\nselect 1;\n```\n"
    )
    result = parse_design(DesignInput(document=document, document_name="d.md"), limits=ParseLimits())
    (story,) = result.model.stories
    found = {(i.kind, i.source.line, i.sentence) for i in story_intents(story)}
    assert ("ownership", 5, "Members see only their loans.") in found
    assert ("limit", 6, "At most 10 active loans per member.") in found
    assert not any(kind == "role" for kind, _, _ in found)  # the fenced block is not story text


PUBLIC = [
    "Anyone can browse clinicians without signing in.",  # clinic
    "Visitors can search the catalogue.",  # library
    "The timetable is publicly available.",  # education
    "No account is needed to track a parcel.",  # logistics
    "Exchange rates are open to the public.",  # banking
]
NOT_PUBLIC = [
    "Anyone else gets 404.",
    "Anyone with the admin role can delete posts.",
    "The public holiday calendar is stored per country.",
    "Members sign in before borrowing.",
]


@pytest.mark.parametrize("sentence", PUBLIC)
def test_it_reads_access_given_to_anyone(sentence: str) -> None:
    assert "public" in kinds(sentence)


@pytest.mark.parametrize("sentence", NOT_PUBLIC)
def test_it_reads_no_public_access_where_none_is_given(sentence: str) -> None:
    assert "public" not in kinds(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Given a consultation I hold, when I save notes, they are attached to it.",
        "A courier updates each parcel they run.",
    ],
)
def test_an_object_the_caller_holds_is_theirs(sentence: str) -> None:
    assert "ownership" in kinds(sentence)
