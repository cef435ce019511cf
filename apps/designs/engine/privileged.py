"""Field names that are privileged or secret wherever they appear in a request or a table:
shared vocabulary of the security review (which reports them) and the generated endpoints
(which never let a client set a privileged field, nor return a secret it was not asked for)."""

from __future__ import annotations

# Set by the server, never by the client that sends the body (mass assignment, OWASP API3).
PRIVILEGED_FIELDS = frozenset(
    {
        "is_staff",
        "is_admin",
        "is_superuser",
        "admin",
        "role",
        "roles",
        "permissions",
        "scopes",
        "owner",
        "owner_id",
        "status",
        "balance",
        "credit",
        "credits",
        "verified",
        "is_verified",
        "email_verified",
        "approved",
        "is_active",
        "tier",
        "plan",
        "tenant_id",
        "created_by",
        "superuser",
    }
)
# Secrets a response should not carry.
SECRET_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "secret",
        "client_secret",
        "api_key",
        "apikey",
        "private_key",
        "card_number",
        "pan",
        "cvv",
        "cvc",
        "card_cvv",
        "ssn",
        "pin",
    }
)
