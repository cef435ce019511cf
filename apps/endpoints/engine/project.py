"""The minimal Django project around a generated app: settings, manage.py, urls, pyproject.toml
(pinned versions) and a README, so that `python manage.py migrate && python manage.py runserver`
works after unzipping. Pure: the same generation gives the same bytes."""

from __future__ import annotations

from apps.endpoints.engine.generate import GeneratedFile, Generation
from apps.endpoints.engine.names import literal

# The versions the generated project pins: those the workbench itself runs and tests with
# (tests/endpoints check them against the installed ones).
PINS = {
    "django": "6.1.3",
    "djangorestframework": "3.18.3",
    "django-filter": "26.2",
    "drf-spectacular": "0.30.0",
    "psycopg[binary]": "3.3.9",
}
DEV_PINS = {"pytest": "9.2.0", "pytest-django": "4.14.0", "ruff": "0.17.6"}
PROJECT = "project"

_MANAGE = """import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

_SETTINGS = '''import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = os.environ.get("DEBUG", "true").lower() in {"1", "true", "yes"}
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-used-in-production"  # noqa: S105 - DEBUG only
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "design",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _database(url):
    """DATABASE_URL (postgres://user:password@host:port/name) or, without one, SQLite."""
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


# The design is written for PostgreSQL (arrays, partial indexes, database defaults); SQLite
# serves `check` and a first look only.
DATABASES = {"default": _database(os.environ.get("DATABASE_URL", ""))}
# Idempotency keys and throttling counters live in the cache: use a shared one (Redis,
# Memcached) when more than one process serves the API.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Limits, each from the environment.
API_MAX_PAGE_SIZE = int(os.environ.get("API_MAX_PAGE_SIZE", "100"))
IDEMPOTENCY_KEY_SECONDS = int(os.environ.get("IDEMPOTENCY_KEY_SECONDS", "86400"))
# The user attribute holding the id of the owner row (e.g. the customer) the caller is.
DESIGN_OWNER_ATTRIBUTE = os.environ.get("DESIGN_OWNER_ATTRIBUTE", "pk")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON_RATE", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER_RATE", "600/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
'''

_URLS = """from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("", include("design.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
"""


def _pyproject() -> str:
    deps = "".join(f'  "{name}=={version}",\n' for name, version in PINS.items())
    dev = "".join(f'  "{name}=={version}",\n' for name, version in DEV_PINS.items())
    return f"""[project]
name = "design-api"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = [
{deps}]

[project.optional-dependencies]
dev = [
{dev}]

[tool.setuptools]
packages = []

[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "project.settings"
testpaths = ["design/tests"]

[tool.ruff]
target-version = "py312"
line-length = 120
extend-exclude = ["*/migrations/*"]

[tool.ruff.lint]
select = ["E", "W", "F", "I", "B", "C4", "UP", "SIM", "DJ", "S", "PT", "RUF"]
ignore = [
  "E501",    # long string literals from the design cannot be split
  "RUF012",  # DRF and Django class attributes are dicts and lists by convention
  "DJ001",   # a nullable text column is the design's choice, kept as the migration preview has it
]

[tool.ruff.lint.per-file-ignores]
"design/tests/**" = ["S101", "S106"]  # pytest asserts; a test user's password
"""  # noqa: S608 - TOML (its `select =` is a ruff option, not SQL)


def _readme(generation: Generation) -> str:
    total = len(generation.operations)
    made = sum(1 for o in generation.operations if o.generated)
    received = sorted(
        " ".join((o.operation_id or f"{o.method} {o.path}").split())  # one line each, whatever the paste held
        for o in generation.operations
        if o.action == "receive"
    )
    receivers = (
        f"""
Calls from third parties ({", ".join(received)}) are received by the `inbox` app: each call's
body is validated and kept whole as an `inbox.ReceivedEvent` (a delivery repeated with the same
`Idempotency-Key` and body once) for your code to handle and mark `handled_at`. The receivers check the
hex HMAC-SHA256 of the body under `WEBHOOK_SECRET` in their signature header (`X-Signature`
unless the API documents another) and refuse every call until the secret is set.
"""
        if received
        else ""
    )
    return f"""The design's API as a Django REST Framework app (`design/`) in a minimal project.

{made} of {total} operations are generated; the others answer 501 or are listed in the
workbench's report with the reason.

    python -m venv .venv && .venv/bin/pip install -e '.[dev]'
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py runserver

Without `DATABASE_URL` the project uses SQLite, for a first look; the design is written for
PostgreSQL: `DATABASE_URL=postgres://user@127.0.0.1:5432/name`. The contract tests:
`.venv/bin/pytest`. The OpenAPI of what was generated: `/schema/`.

Settings from the environment: `SECRET_KEY` (required when `DEBUG=false`), `ALLOWED_HOSTS`,
`DATABASE_URL`, `API_MAX_PAGE_SIZE` (every page size is capped by it),
`API_THROTTLE_ANON_RATE`, `API_THROTTLE_USER_RATE`, `IDEMPOTENCY_KEY_SECONDS`,
`DESIGN_OWNER_ATTRIBUTE` (the user attribute holding the id of the owner row, e.g. the customer,
that object-level permissions compare with; by default the user's primary key). Authentication is
Django's session and HTTP Basic: replace it with the scheme the API documents.
{receivers}"""


_INBOX_SETTINGS = """
# The receivers (webhooks) refuse every call until this secret, shared with the sender, is set:
# each call must carry the hex HMAC-SHA256 of its body under it in its signature header.
WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "")
"""


def _settings(generation: Generation) -> str:
    """settings.py: the inbox app and the webhook secret only when the design receives calls."""
    if not any(f.path.startswith("inbox/") for f in generation.files):
        return _SETTINGS
    return _SETTINGS.replace('    "design",\n]', '    "design",\n    "inbox",\n]') + _INBOX_SETTINGS


def project_files(generation: Generation) -> tuple[GeneratedFile, ...]:
    """The generated app's files and the project around them, sorted by path."""
    header = "# Generated by the Backend Design Workbench: the minimal project around the design app.\n"
    files = [
        *generation.files,
        GeneratedFile("manage.py", header + "\n" + _MANAGE),
        GeneratedFile(f"{PROJECT}/__init__.py", header),
        GeneratedFile(f"{PROJECT}/settings.py", header + "\n" + _settings(generation)),
        GeneratedFile(f"{PROJECT}/urls.py", header + "\n" + _URLS),
        GeneratedFile("pyproject.toml", header + "\n" + _pyproject()),
        GeneratedFile("README.md", "Generated by the Backend Design Workbench.\n\n" + _readme(generation)),
    ]
    if generation.renamed:
        rows = "".join(
            f"| {r.scope.split(' ', 1)[0]} | `{literal(r.original)}` | `{r.name}` | {r.why} |\n"
            for r in generation.renamed
        )
        files.append(
            GeneratedFile(
                "design/NAMES.md",
                "Generated by the Backend Design Workbench: names of the design written as other Python identifiers.\n\n"
                "| where | in the design | in the code | why |\n| --- | --- | --- | --- |\n" + rows,
            )
        )
    return tuple(sorted(files, key=lambda f: f.path))
