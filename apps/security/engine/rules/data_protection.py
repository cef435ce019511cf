"""Data-protection rules on the data model's columns and the API's schemas, in three tiers each
with the handling it needs; plain-text secrets; and stories promising data is never stored that
the design still holds.

1. Identifiers and contact data (names, email, phone, address, date of birth: `personal-data`;
   national and government identifiers: `sensitive-data`): access logging, masking in responses,
   retention; field-level encryption for government identifiers.
2. Special categories (GDPR art. 9: health, biometrics, beliefs, sexual orientation, union
   membership, ethnicity: `special-category`): field-level encryption, access logging, masking,
   retention, a legal basis.
3. Payment data: a card number is a payment finding (`card-number-stored`, critical) only with
   payment context (the table or schema, a sibling field or a story speaks of payments, cards,
   billing or checkout); a column merely named like one is `card-number-unverified` (low). Bank
   account numbers (an IBAN anywhere; account, routing and sort-code numbers in a table or schema
   about banks, payouts or payments) are `bank-account-stored` (high): payouts diverted to an
   attacker's account are the fraud to fear.

A finding's title and message name the same tier: each message says which fields and what
handling they need, the rule's title says which tier.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from apps.designs.engine.loader import name_words, schema_entity_key, singular, snake
from apps.designs.engine.matching import match_endpoint
from apps.designs.engine.model import DesignModel, SourceRef
from apps.designs.engine.structured import resolve_pointer
from apps.security.engine.reporter import Review, walk
from apps.security.engine.rules.bodies import field_key

_NEVER_STORED = re.compile(
    r"(?:the\s+)?(?P<what>[a-z][a-z ]{2,40}?)\s+(?:is|are)\s+never\s+(?:stored|kept|saved|persisted)", re.IGNORECASE
)
_CARD_NUMBER = {
    "card_number",
    "cardnumber",
    "pan",
    "cc_number",
    "ccnumber",
    "credit_card_number",
    "creditcardnumber",
    "card_no",
    "cardno",
    "credit_card",
    "creditcard",
    "primary_account_number",
    "card_num",
}
_IBAN = {"iban", "iban_number"}
_BANK_NUMBERS = {"account_number", "bank_account_number", "routing_number", "sort_code", "aba_routing_number", "bsb"}
_BANK_CONTEXT = re.compile(r"bank|payout|payment|payee|beneficiar|salary|payroll|finance|remittance|transfer", re.I)
_PERSONAL = {
    "email",
    "email_address",
    "phone",
    "phone_number",
    "mobile",
    "mobile_number",
    "full_name",
    "fullname",
    "first_name",
    "firstname",
    "last_name",
    "lastname",
    "surname",
    "given_name",
    "family_name",
    "date_of_birth",
    "dateofbirth",
    "birth_date",
    "birthdate",
    "dob",
    "birthday",
    "address",
    "street",
    "street_address",
    "postcode",
    "postal_code",
    "zip",
    "zip_code",
    "home_address",
    "shipping_address",
    "delivery_address",
    "billing_address",
    "ip_address",
    "location",
    "gender",
    # where a person is: location data
    "latitude",
    "longitude",
    "lat",
    "lng",
    "lon",
    "gps",
    "coordinates",
    "geo_location",
    "geolocation",
    "recipient_name",
    "contact_name",
    "signature_image",
}
# Personal data too: `_classify` finds them among `_PERSONAL`.
_LOCATION = {"latitude", "longitude", "lat", "lng", "lon", "gps", "coordinates", "geo_location", "geolocation"}
_IDENTIFIERS = {
    "national_id",
    "nationalid",
    "national_id_number",
    "ssn",
    "social_security_number",
    "passport",
    "passport_number",
    "passportnumber",
    "tax_id",
    "taxid",
    "tax_number",
    "nin",
    "national_insurance_number",
    "driving_licence_number",
    "drivers_license_number",
    "driver_license_number",
    "personal_id",
    "id_card_number",
}
# GDPR art. 9 special categories, by what the field names.
_SPECIAL = {
    "diagnosis": "health",
    "diagnoses": "health",
    "icd_code": "health",
    "icd10": "health",
    "icd10_code": "health",
    "icd_10_code": "health",
    "icdcode": "health",
    "clinical_notes": "health",
    "clinical_note": "health",
    "clinicalnotes": "health",
    "medical_notes": "health",
    "medical_history": "health",
    "medical_record": "health",
    "medical_condition": "health",
    "medical_conditions": "health",
    "symptoms": "health",
    "prescription": "health",
    "prescriptions": "health",
    "medication": "health",
    "medications": "health",
    "dosage": "health",
    "allergies": "health",
    "allergy": "health",
    "blood_type": "health",
    "bloodtype": "health",
    "blood_group": "health",
    "disability": "health",
    "insurance_number": "health",
    "insurance_policy_number": "health",
    "policy_number": "health",
    "health_insurance_number": "health",
    "lab_results": "health",
    "biometric": "biometric",
    "biometrics": "biometric",
    "fingerprint_template": "biometric",
    "fingerprint_image": "biometric",
    "face_template": "biometric",
    "face_embedding": "biometric",
    "iris_scan": "biometric",
    "voiceprint": "biometric",
    "religion": "religious or philosophical beliefs",
    "religious_belief": "religious or philosophical beliefs",
    "faith": "religious or philosophical beliefs",
    "political_opinion": "political opinions",
    "political_affiliation": "political opinions",
    "political_party": "political opinions",
    "sexual_orientation": "sexual orientation",
    "sex_life": "sexual orientation",
    "union_membership": "trade union membership",
    "trade_union": "trade union membership",
    "union_member": "trade union membership",
    "ethnicity": "racial or ethnic origin",
    "ethnic_origin": "racial or ethnic origin",
    "genetic_data": "genetic data",
    "genome": "genetic data",
}
_PLAINTEXT_SECRET = {"password", "secret", "api_key", "apikey", "client_secret", "private_key", "pin"}
# What makes a card number a payment card number: the name of its table or schema, a sibling.
_PAYMENT_NAME = re.compile(r"pay|card|billing|checkout|charge|wallet|invoice|purchase|transaction|order", re.IGNORECASE)
# Cards that are not payment cards.
_OTHER_CARD = re.compile(
    r"(?:^|_)(?:library|loyalty|member(?:ship)?|gift|reward|access|key|sim|identity|id|business|student|report|score|flash|index)_?cards?",
    re.IGNORECASE,
)
_PAYMENT_SIBLINGS = {
    "cvv",
    "cvc",
    "cvv2",
    "card_cvv",
    "expiry",
    "expiry_date",
    "expiration",
    "expiration_date",
    "exp_month",
    "exp_year",
    "expiry_month",
    "expiry_year",
    "cardholder",
    "cardholder_name",
    "card_holder",
    "card_holder_name",
    "card_brand",
    "amount",
    "currency",
}
# Siblings only a payment card has: they make it one whatever a story says.
_CARD_SIBLINGS = {"cvv", "cvc", "cvv2", "card_cvv"}
_PAYMENT_STORY = re.compile(
    r"\b(?:pay(?:s|ment|ing)?|credit card|debit card|billing|checkout|check out|charge[sd]?)\b", re.IGNORECASE
)
_CARD_STORY = re.compile(r"\bcard\b", re.IGNORECASE)
# Tables and schemas about places and organisations: their address or phone is not a person's.
_NOT_A_PERSON = re.compile(
    r"station|store|shop|warehouse|venue|branch|office|compan(?:y|ies)|organi[sz]ation|location|place|site|building|"
    r"facilit|depot|airport|hotel|restaurant|merchant|business|supplier|vendor|clinic|hospital|librar(?:y|ies)|school",
    re.IGNORECASE,
)
# Tables and schemas about people, whatever else their name says (`driver_locations` holds where
# drivers are, not a place's address).
_PERSON = re.compile(
    r"user|customer|member|patient|employee|driver|courier|rider|passenger|student|person|people|staff|"
    r"client|contact|recipient|guest|applicant|candidate|account_holder|traveller|traveler",
    re.IGNORECASE,
)

_NOT_PAYMENT_STORY = re.compile(
    r"\bnot (?:a |an )?(?:payment|credit|debit|bank)[- ]cards?\b|\b(?:is|are) not (?:used )?for payments?\b|\bno payment\b",
    re.IGNORECASE,
)


def _story_payment_context(model: DesignModel) -> Callable[[str], bool | None]:
    """For a table or schema name: True when a story about it speaks of card payments, False
    when one says its cards are not payment cards ("the badge's number, not a payment card"),
    None when no story says either. A story is about a table when it cites an endpoint serving
    the table or names it ("access card" for `access_cards` or `AccessCard`)."""
    texts: list[tuple[str, set[str]]] = []
    for story in model.stories:
        text = " ".join([story.title, story.goal or "", *story.acceptance_criteria]).lower()
        tables = {t for ref in story.endpoints if (e := match_endpoint(ref, model.endpoints)) for t in e.entities}
        texts.append((text, tables))

    def context(owner: str) -> bool | None:
        if not texts:  # no story: none says either (an API alone has thousands of schemas to ask about)
            return None
        words = " ".join(singular(w) for w in field_key(owner).split("_") if w)
        verdict: bool | None = None
        for text, tables in texts:
            if owner not in tables and (not words or words not in text):
                continue
            if _NOT_PAYMENT_STORY.search(text):
                return False
            if _PAYMENT_STORY.search(text) and _CARD_STORY.search(text):
                verdict = True
        return verdict

    return context


def data_rules(review: Review) -> None:
    model = review.model
    payment_story = _story_payment_context(model)
    for entity in model.entities:
        _classify(
            review,
            owner=entity.name,
            fields=[(c.name, c.source) for c in entity.columns],
            payment_story=payment_story,
            in_api=False,
        )
    if review.doc is not None:
        # The table whose rows a schema carries, by name (`Prescription`, `PrescriptionRead`).
        tables = {singular(snake(e.name)): e.name for e in model.entities}
        by_words = {name_words(e.name): e.name for e in model.entities}
        components = review.doc.data.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        for name, schema in schemas.items() if isinstance(schemas, dict) else ():
            fields = _schema_fields(schema, f"/components/schemas/{_escape(str(name))}")
            if fields:
                _classify(
                    review,
                    owner=str(name),
                    fields=fields,
                    payment_story=payment_story,
                    in_api=True,
                    # Without a data model no table carries the schema's rows: its name is not read.
                    table=(
                        tables.get(schema_entity_key(str(name)))
                        or by_words.get(name_words(schema_entity_key(str(name))))
                        or _table_with(model, fields)
                    )
                    if model.entities
                    else None,
                )
        for webhook in model.webhooks:
            # payloads written inline (a $ref'd schema is reviewed with the components)
            body = webhook.request_body
            if body is None or body.schema_name is not None or not body.schema_pointer:
                continue
            schema = resolve_pointer(review.doc.data, body.schema_pointer)
            fields = _schema_fields(schema, body.schema_pointer)
            if fields:
                _classify(
                    review,
                    owner=f"{webhook.kind} {webhook.path}",
                    fields=fields,
                    payment_story=payment_story,
                    in_api=True,
                    table=_table_with(model, fields),
                )
    _story_contradictions(review)


# Every name some branch of `_classify`'s field loop looks for.
_CLASSIFIED = frozenset(
    {*_CARD_NUMBER, *_SPECIAL, *_IDENTIFIERS, *_PLAINTEXT_SECRET, *_PERSONAL, *_IBAN, *_BANK_NUMBERS}
)


def _table_with(model: DesignModel, fields: list[tuple[str, str]]) -> str | None:
    """The one table holding every sensitive field a schema or payload carries (a `Note` schema
    whose symptoms and diagnosis are `consultation_notes`' columns): the same data, told once."""
    wanted = {
        field_key(name)
        for name, _ in fields
        if field_key(name) in _SPECIAL
        or field_key(name) in _IDENTIFIERS
        or field_key(name) in _IBAN
        or field_key(name) in _CARD_NUMBER
    }
    if not wanted:
        return None
    holders = [e.name for e in model.entities if wanted <= {field_key(c.name) for c in e.columns}]
    return holders[0] if len(holders) == 1 else None


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1") if "~" in part or "/" in part else part


def _schema_fields(schema: object, where: str) -> list[tuple[str, str]]:
    """(name, where the object holding it is written) of a component schema's own properties,
    those of its allOf/oneOf/anyOf parts and of inline nested objects ($refs are reported where
    they lead). A field's own pointer (`_field_pointer`) is made only for the few reported."""
    found: list[tuple[str, str]] = []
    _add_schema_fields(schema, where, 0, found)
    return found


def _field_pointer(name: str, parent: str) -> str:
    return f"{parent}/properties/{_escape(name)}"


def _nests(schema: dict[str, Any]) -> bool:
    return "properties" in schema or "allOf" in schema or "oneOf" in schema or "anyOf" in schema


def _add_schema_fields(schema: object, where: str, depth: int, found: list[tuple[str, str]]) -> None:
    # Appends to one list rather than yielding through a generator per level: a large API's
    # component schemas nest deep, and each field would pass through every level above it.
    if depth > 6 or not isinstance(schema, dict):
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        for raw_name, prop in props.items():
            name = raw_name if type(raw_name) is str else str(raw_name)
            found.append((name, where))
            if isinstance(prop, dict) and "$ref" not in prop:
                # Most fields are plain values: nothing inside to add, no pointer to make.
                nests = "properties" in prop or "allOf" in prop or "oneOf" in prop or "anyOf" in prop
                items_nest = "items" in prop and isinstance(items := prop["items"], dict) and _nests(items)
                if nests or items_nest:
                    at = _field_pointer(name, where)
                    if nests:
                        _add_schema_fields(prop, at, depth + 1, found)
                    if items_nest:
                        _add_schema_fields(items, at + "/items", depth + 1, found)
    for combo in ("allOf", "oneOf", "anyOf"):
        if combo in schema and isinstance(parts := schema[combo], list):
            for index, part in enumerate(parts):
                if isinstance(part, dict) and _nests(part):  # else nothing to add, no pointer to make
                    _add_schema_fields(part, f"{where}/{combo}/{index}", depth + 1, found)


def _classify(
    review: Review,
    *,
    owner: str,
    fields: Sequence[tuple[str, SourceRef | str]],
    payment_story: Callable[[str], bool | None],
    in_api: bool,
    table: str | None = None,
) -> None:
    """The findings of one table (`in_api` False) or one component schema, over its fields as
    (name, where: a SourceRef for a column, the JSON pointer of the object holding a schema
    property, as `_schema_fields` gives them). A schema that carries a table's rows (`table`:
    `Prescription` for `prescriptions`) adds its places to the table's findings, which are the
    same data, rather than reporting them again."""
    keys = [field_key(name) for name, _ in fields]  # each field's, as the tables below hold them
    if _CLASSIFIED.isdisjoint(keys):
        return  # most owners: no field of the kinds below, nothing to report

    def report(rule_id: str, where: SourceRef | str, message: str, *, key: str, **extra: Any) -> None:
        if table is not None:
            same = f"{table}{key[len(prefix) + len(owner) :]}"  # the table's key for the same data
            places = (_ref(review, where), *extra.get("also", ()))
            if review.extend(rule_id, same, places):
                return
        review.add(rule_id, where, message, key=key, **extra)

    names = set(keys)
    told = payment_story(owner)
    payment: bool | None = None  # worked out at the first card number: most owners have none
    kind = "schema" if in_api else "table"
    prefix = "schema:" if in_api else ""
    personal: list[tuple[str, SourceRef | str]] = []
    special: list[tuple[str, str, SourceRef | str]] = []
    bank: list[tuple[str, SourceRef | str]] = []
    located: list[tuple[str, SourceRef | str]] = []
    for (name, where), lowered in zip(fields, keys, strict=True):
        if lowered not in _CLASSIFIED:
            continue  # most fields: none of the kinds below
        if in_api:
            where = _field_pointer(name, str(where))
        key = f"{prefix}{owner}.{name}"
        label = f"{owner}.{name}"
        if lowered in _CARD_NUMBER:
            if payment is None:
                payment = bool(names & _CARD_SIBLINGS) or (
                    told is not False
                    and (
                        (bool(_PAYMENT_NAME.search(owner)) and not _OTHER_CARD.search(field_key(owner)))
                        or bool(names & _PAYMENT_SIBLINGS)
                        or bool(told)
                    )
                )
            if payment:
                report(
                    "sec.dp.card-number-stored",
                    where,
                    f"{label} holds payment card numbers ({_payment_reason(owner, names, bool(told))})."
                    + (" The API carries them." if in_api else ""),
                    key=key,
                    title="Full card numbers carried by the API" if in_api else None,
                )
            else:
                report(
                    "sec.dp.card-number-unverified",
                    where,
                    f"{label} is named like a card number, but neither its {kind} nor its sibling fields nor a story speak of payments: verify what it holds.",
                    key=key,
                )
        if lowered in _SPECIAL:
            special.append((name, _SPECIAL[lowered], where))
        if lowered in _IDENTIFIERS:
            report(
                "sec.dp.sensitive-data",
                where,
                f"{label} is a national or government identifier: encrypt it at field level, mask it in responses, log every read and set its retention.",
                key=key,
            )
        if lowered in _PLAINTEXT_SECRET and not in_api:
            report(
                "sec.dp.plaintext-secret",
                where,
                f"{label} looks like a plain-text secret.",
                key=key,
            )
        if lowered in _PERSONAL:
            personal.append((name, where))
            if lowered in _LOCATION:
                located.append((name, where))
        if lowered in _IBAN or (lowered in _BANK_NUMBERS and _BANK_CONTEXT.search(owner)):
            bank.append((name, where))
    if bank:
        report(
            "sec.dp.bank-account-stored",
            bank[0][1],
            f"{owner} holds bank account numbers: {', '.join(n for n, _ in bank)}. Handling: field-level encryption at rest, "
            "reads restricted to the roles that pay out and logged, changes confirmed out of band (a second approver, a notice to the holder).",
            key=f"{prefix}{owner}",
            also=tuple(_ref(review, w) for _, w in bank[1:]),
        )
    if special:
        kinds = ", ".join(dict.fromkeys(k for _, k, _ in special))
        first = special[0][2]
        report(
            "sec.dp.special-category",
            first,
            f"{owner} holds special category data ({kinds}): {', '.join(n for n, _, _ in special)}. Handling: field-level encryption at rest, access logging, masking in responses, retention.",
            key=f"{prefix}{owner}",
            also=tuple(_ref(review, w) for _, _, w in special[1:]),
        )
    if len(located) >= 2 and (_PERSON.search(owner) or any(_PERSON.search(n) for n in names if n.endswith("_id"))):
        report(
            "sec.dp.location-tracking",
            located[0][1],
            f"{owner} holds where people are ({', '.join(n for n, _ in located)}): a location history reveals homes, "
            "habits and whereabouts. Handling: a retention limit written in a story, a stated purpose, reads restricted "
            "to named roles and logged, coarser or aggregated positions wherever exact ones are not needed.",
            key=f"{prefix}{owner}",
            also=tuple(_ref(review, w) for _, w in located[1:]),
        )
        personal = [(n, w) for n, w in personal if field_key(n) not in _LOCATION]  # told above
    if personal and (_PERSON.search(owner) or not _NOT_A_PERSON.search(owner)):
        report(
            "sec.dp.personal-data",
            personal[0][1],
            f"{owner} holds identifiers and contact data: {', '.join(n for n, _ in personal)}. Handling: access logging, masking in responses, retention.",
            key=f"{prefix}{owner}",
            also=tuple(_ref(review, w) for _, w in personal[1:]),
        )


def _ref(review: Review, where: SourceRef | str) -> SourceRef:
    if isinstance(where, SourceRef):
        return where
    if review.doc is None:  # a pointer comes only from the API document
        raise ValueError(f"no OpenAPI document to locate {where}")
    return review.doc.locate(where)


def _payment_reason(owner: str, names: set[str], payment_story: bool) -> str:
    if _PAYMENT_NAME.search(owner) and not _OTHER_CARD.search(field_key(owner)):
        return f"`{owner}` is about payments"
    siblings = sorted(names & _PAYMENT_SIBLINGS)
    if siblings:
        return f"beside {', '.join(siblings)}"
    return "a story speaks of card payments" if payment_story else "payment context"


def _story_contradictions(review: Review) -> None:
    model = review.model
    for story in model.stories:
        for criterion in story.acceptance_criteria:
            for match in _NEVER_STORED.finditer(criterion):
                subject = re.sub(r"^(the|a|an|any|full)\s+", "", match.group("what").strip().lower())
                wanted = re.sub(r"[^a-z0-9]+", "_", subject).strip("_")
                if not wanted:
                    continue
                hits: list[tuple[str, SourceRef]] = []
                for entity in model.entities:
                    hits += [(f"{entity.name}.{c.name}", c.source) for c in entity.columns if c.name.lower() == wanted]
                if review.doc is not None:
                    for ptr, node in walk(review.doc.data):
                        props = node.get("properties")
                        if isinstance(props, dict) and wanted in props:
                            hits.append((f"{ptr}/properties/{wanted}", review.doc.locate(f"{ptr}/properties/{wanted}")))
                if hits:
                    review.add(
                        "sec.dp.story-contradiction",
                        hits[0][1],
                        f"{story.id} says \u201c{criterion}\u201d, yet the design has {', '.join(h[0] for h in hits)}.",
                        key=f"{story.id}|{wanted}",
                        also=(story.source, *(h[1] for h in hits[1:])),
                    )
