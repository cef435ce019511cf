"""Data-protection rules on the data model's columns (card numbers, special categories, plain-text
secrets, personal data) and stories promising data is never stored that the design still holds."""

from __future__ import annotations

import re

from apps.designs.engine.model import SourceRef
from apps.security.engine.reporter import Review, walk

_NEVER_STORED = re.compile(
    r"(?:the\s+)?(?P<what>[a-z][a-z ]{2,40}?)\s+(?:is|are)\s+never\s+(?:stored|kept|saved|persisted)", re.IGNORECASE
)
_CARD_NUMBER = {"card_number", "pan", "cc_number", "credit_card_number", "card_no", "cardnumber", "credit_card"}
_PERSONAL = {
    "email",
    "phone",
    "phone_number",
    "mobile",
    "full_name",
    "first_name",
    "last_name",
    "surname",
    "date_of_birth",
    "birth_date",
    "dob",
    "birthday",
    "address",
    "street",
    "postcode",
    "zip",
    "shipping_address",
    "delivery_address",
    "billing_address",
    "ip_address",
    "location",
    "gender",
}
_SENSITIVE = {
    "national_id",
    "ssn",
    "social_security_number",
    "passport",
    "passport_number",
    "tax_id",
    "diagnosis",
    "medical_history",
    "health",
    "allergies",
    "blood_type",
    "religion",
    "ethnicity",
    "sexual_orientation",
    "biometric",
    "medication",
}
_PLAINTEXT_SECRET = {"password", "secret", "api_key", "apikey", "client_secret", "private_key", "pin"}


def data_rules(review: Review) -> None:
    model = review.model
    for entity in model.entities:
        personal = []
        for column in entity.columns:
            name = column.name.lower()
            if name in _CARD_NUMBER:
                review.add(
                    "sec.dp.card-number-stored",
                    column.source,
                    f"{entity.name}.{column.name} holds card numbers.",
                    key=f"{entity.name}.{column.name}",
                )
            if name in _SENSITIVE:
                review.add(
                    "sec.dp.sensitive-data",
                    column.source,
                    f"{entity.name}.{column.name} is special category or identity data.",
                    key=f"{entity.name}.{column.name}",
                )
            if name in _PLAINTEXT_SECRET:
                review.add(
                    "sec.dp.plaintext-secret",
                    column.source,
                    f"{entity.name}.{column.name} looks like a plain-text secret.",
                    key=f"{entity.name}.{column.name}",
                )
            if name in _PERSONAL:
                personal.append(column)
        if personal:
            review.add(
                "sec.dp.personal-data",
                personal[0].source,
                f"{entity.name} holds personal data: {', '.join(c.name for c in personal)}.",
                key=entity.name,
                also=tuple(c.source for c in personal[1:]),
            )
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
