"""The one settings module. Everything that differs between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from workbench.env import database_from_url, env_bool, env_float, env_int, env_list, env_str
from workbench.secret_key import load_or_create

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)
# Runtime files (collected static files, the generated secret key, local servers' data).
VAR_DIR = Path(env_str("WORKBENCH_VAR_DIR", str(BASE_DIR / "var")))
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY and env_str("SECRET_KEY_FILE", ""):
    # ./scripts/start sets this to var/secret_key: a key generated once (mode 0600) and reused.
    SECRET_KEY = load_or_create(Path(env_str("SECRET_KEY_FILE", "")))
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789abcdef"  # noqa: S105 - development default only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "apps.accounts",
    "apps.designs",
    "apps.analysis",
    "apps.reports",
    "apps.security",
    "apps.queryplans",
    "apps.sandbox",
    "apps.migrations_preview",
    "apps.endpoints",
    "apps.guides",
    "apps.review",
]

MIDDLEWARE = [
    "workbench.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a refused login into the lockout page
]

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", "postgres://root@127.0.0.1:5432/workbench")),
}
# The sandbox PostgreSQL that the migration and query-plan analyzers use; reached only through
# their narrow sandbox module, never through the ORM.
SANDBOX_DATABASE_URL = env_str("SANDBOX_DATABASE_URL", "postgres://root@127.0.0.1:5432/workbench_sandbox")
SANDBOX_STATEMENT_TIMEOUT_MS = env_int("SANDBOX_STATEMENT_TIMEOUT_MS", 5_000)
SANDBOX_LOCK_TIMEOUT_MS = env_int("SANDBOX_LOCK_TIMEOUT_MS", 1_000)
SANDBOX_WORK_MEM = env_str("SANDBOX_WORK_MEM", "16MB")
# Set on each session's own role; temp_file_limit is one a non-superuser cannot lift.
SANDBOX_TEMP_FILE_LIMIT = env_str("SANDBOX_TEMP_FILE_LIMIT", "256MB")
SANDBOX_ROLE_CONNECTION_LIMIT = env_int("SANDBOX_ROLE_CONNECTION_LIMIT", 3)
# A session older than this has its connections ended (a query that lifted its own timeout).
SANDBOX_SESSION_MAX_SECONDS = env_int("SANDBOX_SESSION_MAX_SECONDS", 600)
# Analyses that need the sandbox (migrations, later query plans) are skipped, with that reason,
# when this is false.
ANALYSIS_SANDBOX_ENABLED = env_bool("ANALYSIS_SANDBOX_ENABLED", default=True)
# Timeouts a generated safe migration sets first, so a blocked statement fails fast.
MIGRATION_SAFE_LOCK_TIMEOUT_MS = env_int("MIGRATION_SAFE_LOCK_TIMEOUT_MS", 2_000)
MIGRATION_SAFE_STATEMENT_TIMEOUT_MS = env_int("MIGRATION_SAFE_STATEMENT_TIMEOUT_MS", 300_000)
# Statement times are measured on synthetic rows at these two sizes and their geometric middle
# (three runs each), and extrapolated along a fitted growth model to the declared volumes;
# bigger sizes extrapolate better and take longer.
# Longer texts are shown plain in the migrations tab: highlighting them would slow the page.
MIGRATION_HIGHLIGHT_MAX_CHARS = env_int("MIGRATION_HIGHLIGHT_MAX_CHARS", 400_000)
MIGRATION_CALIBRATION_SMALL_ROWS = env_int("MIGRATION_CALIBRATION_SMALL_ROWS", 10_000)
MIGRATION_CALIBRATION_LARGE_ROWS = env_int("MIGRATION_CALIBRATION_LARGE_ROWS", 40_000)
# The third size; 0 takes the geometric middle of the two above.
MIGRATION_CALIBRATION_MIDDLE_ROWS = env_int("MIGRATION_CALIBRATION_MIDDLE_ROWS", 0)
# At most this many tables are filled for the calibration (the changed tables and every table
# their foreign keys reach); beyond it statements are left without an estimate, saying why.
MIGRATION_CALIBRATION_MAX_TABLES = env_int("MIGRATION_CALIBRATION_MAX_TABLES", 40)
# --- Query plans: synthetic rows at the design's volumes, EXPLAIN ANALYZE, proven index advice ---
# Each table holds its declared rows times one factor, so that the largest holds at most this many.
QUERYPLANS_MAX_ROWS_PER_TABLE = env_int("QUERYPLANS_MAX_ROWS_PER_TABLE", 1_000_000)
# The rows of a table whose volume the design does not declare, before that factor.
QUERYPLANS_DEFAULT_ROWS = env_int("QUERYPLANS_DEFAULT_ROWS", 10_000)
# Each query's EXPLAIN ANALYZE (and each trial of an index) stops after this long.
QUERYPLANS_QUERY_TIMEOUT_MS = env_int("QUERYPLANS_QUERY_TIMEOUT_MS", 30_000)
# Each table's synthetic rows, and each constraint or index built over them, stop after this long.
QUERYPLANS_FILL_TIMEOUT_MS = env_int("QUERYPLANS_FILL_TIMEOUT_MS", 300_000)
# An index is advised only when it cuts the query's plan cost by at least this share.
QUERYPLANS_MIN_GAIN = env_float("QUERYPLANS_MIN_GAIN", 0.3)
# Queries planned per analysis at most (named, implied by endpoints, captured); the rest are listed.
QUERYPLANS_MAX_QUERIES = env_int("QUERYPLANS_MAX_QUERIES", 200)
# A table of few rows keeps at least this many (or all it declares), so that a filter on it picks
# what it would at volume (2,000 categories scaled to 17 would not).
QUERYPLANS_MIN_ROWS_PER_TABLE = env_int("QUERYPLANS_MIN_ROWS_PER_TABLE", 1_000)
# All tables together hold at most this many rows; beyond it the factor shrinks.
QUERYPLANS_MAX_TOTAL_ROWS = env_int("QUERYPLANS_MAX_TOTAL_ROWS", 5_000_000)
# A query with more parameters ($n) than this is refused.
QUERYPLANS_MAX_PARAMETERS = env_int("QUERYPLANS_MAX_PARAMETERS", 100)
# A query at least this slow at the declared volumes makes its findings medium, when no story's
# budget makes them high; faster, they are low.
QUERYPLANS_SLOW_MS = env_float("QUERYPLANS_SLOW_MS", 100.0)
# A sandbox schema older than this belongs to a job that died; a periodic task drops it.
SANDBOX_ORPHAN_AFTER_SECONDS = env_int("SANDBOX_ORPHAN_AFTER_SECONDS", 3_600)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Login throttling (django-axes) -------------------------------------------------------------
# After LOGIN_FAILURE_LIMIT failed log-ins for one account, or from one address (each counted on its
# own), log-ins are refused for LOGIN_LOCKOUT_MINUTES with the lockout page (HTTP 429). Failures
# are rows in the database, so every web process sees them. Addresses are REMOTE_ADDR: behind a
# proxy, have it set that (gunicorn's --forwarded-allow-ips) or every user shares the proxy's.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
# The demo account `manage.py seed_demo` creates. The landing page offers it to visitors only
# while that account exists and this password logs it in (checked once per password hash, kept for
# LANDING_DEMO_CHECK_SECONDS); DEMO_USERNAME empty: never offered.
DEMO_USERNAME = env_str("DEMO_USERNAME", "demo")
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo-workbench")
LANDING_DEMO_CHECK_SECONDS = env_int("LANDING_DEMO_CHECK_SECONDS", 300)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out account or address before the password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.accounts.views.login_locked_out"
AXES_VERBOSE = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Limits on what a user can paste -------------------------------------------------------
# Each document (the design doc, or each separate field) may be this large; the largest public
# OpenAPI descriptions (Microsoft Graph, about 20 MB) fit.
DESIGN_MAX_DOCUMENT_BYTES = env_int("DESIGN_MAX_DOCUMENT_BYTES", 25 * 1024 * 1024)
# A YAML document whose aliases would expand to more nodes than this is refused (alias bombs).
DESIGN_MAX_YAML_NODES = env_int("DESIGN_MAX_YAML_NODES", 5_000_000)
# Nesting depth beyond which an OpenAPI schema is not followed any further.
DESIGN_MAX_SCHEMA_DEPTH = env_int("DESIGN_MAX_SCHEMA_DEPTH", 64)
# An API with more operations than this is refused (Microsoft Graph, among the largest, has 11,422).
DESIGN_MAX_OPERATIONS = env_int("DESIGN_MAX_OPERATIONS", 25_000)
# Largest page a generated list operation serves (a story or the spec may ask for less).
ENDPOINTS_MAX_PAGE_SIZE = env_int("ENDPOINTS_MAX_PAGE_SIZE", 100)
# An API with more operations than this is generated by `manage.py generate`, not in every analysis.
ENDPOINTS_MAX_OPERATIONS = env_int("ENDPOINTS_MAX_OPERATIONS", 2_000)
# How long the live validation keeps its answer for a document it has already parsed.
DESIGN_VALIDATION_CACHE_SECONDS = env_int("DESIGN_VALIDATION_CACHE_SECONDS", 600)
# Live validation of the paste form: how long the browser waits after the last key stroke.
DESIGN_VALIDATE_DEBOUNCE_MS = env_int("DESIGN_VALIDATE_DEBOUNCE_MS", 600)
# Request bodies carry up to four documents, each up to the limit above.
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * DESIGN_MAX_DOCUMENT_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = DESIGN_MAX_DOCUMENT_BYTES

# --- Analysis runs ---------------------------------------------------------------------------
ANALYSIS_SOFT_TIME_LIMIT_SECONDS = env_int("ANALYSIS_SOFT_TIME_LIMIT_SECONDS", 300)
ANALYSIS_HARD_TIME_LIMIT_SECONDS = env_int("ANALYSIS_HARD_TIME_LIMIT_SECONDS", 360)
ANALYSIS_MAX_RETRIES = env_int("ANALYSIS_MAX_RETRIES", 3)
# When the pool process running a job dies (killed, out of memory), the worker sends the job again
# after this delay, at most ANALYSIS_MAX_RETRIES times, then fails the run with the reason.
ANALYSIS_WORKER_LOST_RETRY_DELAY_SECONDS = env_int("ANALYSIS_WORKER_LOST_RETRY_DELAY_SECONDS", 2)
# Starting a run tries this many more times to hand the job to Redis before the run is marked
# not started; each try waits at most CELERY_BROKER_CONNECT_TIMEOUT_SECONDS for a connection.
ANALYSIS_ENQUEUE_MAX_RETRIES = env_int("ANALYSIS_ENQUEUE_MAX_RETRIES", 1)
# A running job writes a heartbeat this often; a run whose heartbeat is older than the stale
# limit has lost its worker and is marked failed.
ANALYSIS_HEARTBEAT_SECONDS = env_int("ANALYSIS_HEARTBEAT_SECONDS", 5)
ANALYSIS_STALE_AFTER_SECONDS = env_int("ANALYSIS_STALE_AFTER_SECONDS", 30)
# How often the run page polls for progress.
ANALYSIS_POLL_MILLISECONDS = env_int("ANALYSIS_POLL_MILLISECONDS", 1000)
# A run's findings are stored as rows, inserted this many per INSERT (a large specification
# yields tens of thousands; one statement for all of them would hold them all in memory twice).
ANALYSIS_FINDING_BATCH_SIZE = env_int("ANALYSIS_FINDING_BATCH_SIZE", 1000)

# --- Proof of generated endpoints (apps/endpoints/proof.py) -----------------------------------
# Whether the worker proves the generated endpoints in each analysis (needs the sandbox too:
# ANALYSIS_SANDBOX_ENABLED); `manage.py analyze` proves them with --prove.
ENDPOINTS_PROOF_ENABLED = env_bool("ENDPOINTS_PROOF_ENABLED", default=True)
# Each step (check, makemigrations, migrate, ruff, schema, contract_tests, queries) runs as its own
# child process under these limits: wall clock (then its process group is killed), CPU, address
# space, the largest file it may write, open files.
ENDPOINTS_PROOF_STEP_SECONDS = env_int("ENDPOINTS_PROOF_STEP_SECONDS", 120)
ENDPOINTS_PROOF_CPU_SECONDS = env_int("ENDPOINTS_PROOF_CPU_SECONDS", 60)
ENDPOINTS_PROOF_MEMORY_MB = env_int("ENDPOINTS_PROOF_MEMORY_MB", 1024)
ENDPOINTS_PROOF_FILE_SIZE_MB = env_int("ENDPOINTS_PROOF_FILE_SIZE_MB", 64)
ENDPOINTS_PROOF_OPEN_FILES = env_int("ENDPOINTS_PROOF_OPEN_FILES", 256)
# Processes and threads a proof step may run at once (counted by its pids cgroup, below).
ENDPOINTS_PROOF_PROCESSES = env_int("ENDPOINTS_PROOF_PROCESSES", 64)
# Enforced through a pids cgroup made under this directory for each step (a cgroup v1 `pids`
# hierarchy, or a cgroup v2 directory delegated to the worker with the pids controller enabled);
# empty: no limit on processes. By default the v1 hierarchy when the machine has one.
ENDPOINTS_PROOF_PIDS_CGROUP = env_str(
    "ENDPOINTS_PROOF_PIDS_CGROUP", "/sys/fs/cgroup/pids" if Path("/sys/fs/cgroup/pids/cgroup.procs").exists() else ""
)
# Characters of each step's output kept (its start and its end).
ENDPOINTS_PROOF_OUTPUT_CHARS = env_int("ENDPOINTS_PROOF_OUTPUT_CHARS", 20_000)
# A produced OpenAPI document larger than this is not read back.
ENDPOINTS_PROOF_SCHEMA_MB = env_int("ENDPOINTS_PROOF_SCHEMA_MB", 32)
# Connections the child may hold at once to its sandbox database (through the gate).
ENDPOINTS_PROOF_DB_CONNECTIONS = env_int("ENDPOINTS_PROOF_DB_CONNECTIONS", 3)
# Directories covered by an empty read-only tmpfs in the child: services' Unix sockets (a
# PostgreSQL trusting local connections) and the workbench's var/ (its generated secret key).
ENDPOINTS_PROOF_HIDDEN_PATHS = env_list("ENDPOINTS_PROOF_HIDDEN_PATHS", f"/run,/var/run,{VAR_DIR}")
# The contract tests run twice against the migrated sandbox database, each request's SQL captured:
# with one row for a list to show, then with this many (queries that grow with the rows are an
# N+1 finding). Per request, this many statements of this many characters are kept (the count is
# always whole); the file the tests write their calls to is not read back past its size limit.
ENDPOINTS_PROOF_LIST_ITEMS = env_int("ENDPOINTS_PROOF_LIST_ITEMS", 5)
ENDPOINTS_PROOF_MAX_QUERIES = env_int("ENDPOINTS_PROOF_MAX_QUERIES", 50)
ENDPOINTS_PROOF_MAX_SQL_CHARS = env_int("ENDPOINTS_PROOF_MAX_SQL_CHARS", 2000)
ENDPOINTS_PROOF_CALLS_MB = env_int("ENDPOINTS_PROOF_CALLS_MB", 8)
# Contract tests read back from that file at most (each operation has one).
ENDPOINTS_PROOF_MAX_TESTS = env_int("ENDPOINTS_PROOF_MAX_TESTS", 5000)
# The interpreter and ruff the child runs; empty: the workbench's own (its .venv).
ENDPOINTS_PROOF_PYTHON = env_str("ENDPOINTS_PROOF_PYTHON", "")
ENDPOINTS_PROOF_RUFF = env_str("ENDPOINTS_PROOF_RUFF", "")
# The drift comparison of the pasted and the produced OpenAPI stops past these: schema nesting
# followed, schema pairs compared, differences listed (one last item says which limit).
ENDPOINTS_DRIFT_MAX_DEPTH = env_int("ENDPOINTS_DRIFT_MAX_DEPTH", 64)
ENDPOINTS_DRIFT_MAX_COMPARISONS = env_int("ENDPOINTS_DRIFT_MAX_COMPARISONS", 200_000)
ENDPOINTS_DRIFT_MAX_ITEMS = env_int("ENDPOINTS_DRIFT_MAX_ITEMS", 5_000)

# --- Celery ------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SOFT_TIME_LIMIT = ANALYSIS_SOFT_TIME_LIMIT_SECONDS
CELERY_TASK_TIME_LIMIT = ANALYSIS_HARD_TIME_LIMIT_SECONDS
# How long a connection attempt to Redis may take (publishing a job, the worker's own connection).
CELERY_BROKER_CONNECT_TIMEOUT_SECONDS = env_int("CELERY_BROKER_CONNECT_TIMEOUT_SECONDS", 1)
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT_SECONDS
# A message whose whole worker died comes back after visibility_timeout (kombu checks about every
# 100 s more); by then the reaper has failed its run, so the message is dropped.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 900),
    "socket_connect_timeout": CELERY_BROKER_CONNECT_TIMEOUT_SECONDS,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_STORE_EAGER_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Analysis jobs go to their own queue, so that workers can be scaled for them separately.
ANALYSIS_QUEUE = env_str("ANALYSIS_QUEUE", "analysis")
# Runs that include the query plans (minutes of synthetic rows and EXPLAIN ANALYZE in the
# sandbox) go to this queue instead, served by a worker of its own concurrency
# (SANDBOX_WORKER_CONCURRENCY, read by scripts/run), so they never hold up the quick analyses.
SANDBOX_QUEUE = env_str("SANDBOX_QUEUE", "sandbox")
SANDBOX_WORKER_CONCURRENCY = env_int("SANDBOX_WORKER_CONCURRENCY", 1)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_BEAT_SCHEDULE = {
    "reap-stale-runs": {
        "task": "apps.analysis.tasks.reap_stale_runs",
        "schedule": float(ANALYSIS_STALE_AFTER_SECONDS),
    },
    "drop-orphan-sandboxes": {
        "task": "apps.sandbox.tasks.drop_orphan_sandboxes",
        "schedule": 600.0,
    },
}

# --- REST API ----------------------------------------------------------------------------------
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
# Requests per user (all tokens and the session together) and per API token; beyond, HTTP 429 with
# Retry-After. Counted in Django's cache: per web process unless CACHES points at a shared one.
API_THROTTLE_USER_RATE = env_str("API_THROTTLE_USER_RATE", "1200/min")
API_THROTTLE_TOKEN_RATE = env_str("API_THROTTLE_TOKEN_RATE", "600/min")
API_TOKEN_PREFIX = "wbt_"  # noqa: S105 - a public prefix, not a secret
# Tries at a free slug when concurrent creations of one name keep taking the one found free.
WORKSPACE_CREATE_ATTEMPTS = env_int("WORKSPACE_CREATE_ATTEMPTS", 20)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.accounts.throttles.UserThrottle", "apps.accounts.throttles.TokenThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Backend Design Workbench API",
    "DESCRIPTION": "Designs, revisions, analysis runs and findings of the workspaces you belong to.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security headers --------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# HTTPS: redirect plain HTTP, HSTS and secure cookies (what `check --deploy` asks for). On by default
# when DEBUG is off; ./scripts/start turns it off when it serves plain HTTP on a loopback address.
HTTPS = env_bool("HTTPS", default=not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Health probes are plain HTTP from the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# --- Logging: one JSON object a line, with the request id ---------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "workbench.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "workbench.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# How long /readyz waits for a Celery worker to answer a ping.
READYZ_WORKER_TIMEOUT_SECONDS = float(env_int("READYZ_WORKER_TIMEOUT_MS", 1500)) / 1000
# The source view shows at most this many lines around the one a finding points at, and cuts
# lines longer than this (minified JSON is one long line).
SOURCE_VIEW_MAX_LINES = env_int("SOURCE_VIEW_MAX_LINES", 400)
SOURCE_VIEW_MAX_LINE_CHARS = env_int("SOURCE_VIEW_MAX_LINE_CHARS", 2000)

# --- Guided checklists (apps/guides) -------------------------------------------------------------
GUIDE_ANSWER_MAX_CHARS = env_int("GUIDE_ANSWER_MAX_CHARS", 4_000)  # one person's answer to one step
GUIDE_COMMENT_MAX_CHARS = env_int("GUIDE_COMMENT_MAX_CHARS", 2_000)  # a senior's send-back comment
GUIDE_STEP_MAX_ITEMS = env_int("GUIDE_STEP_MAX_ITEMS", 20)  # endpoints, statements, findings one step lists
GUIDE_TEAM_STEPS_MAX = env_int("GUIDE_TEAM_STEPS_MAX", 50)  # a workspace's own steps
GUIDE_TEAM_STEP_TITLE_MAX_CHARS = env_int("GUIDE_TEAM_STEP_TITLE_MAX_CHARS", 200)
GUIDE_TEAM_STEP_TEXT_MAX_CHARS = env_int("GUIDE_TEAM_STEP_TEXT_MAX_CHARS", 2_000)  # its why, how, good each

# --- Review (apps/review): line comments, verdicts, comparing two revisions ---------------------
# Characters in one comment (a thread's first message or a reply) and in a verdict's comment.
REVIEW_COMMENT_MAX_CHARS = env_int("REVIEW_COMMENT_MAX_CHARS", 5_000)
# Threads on one revision's lines, and comments in one thread (its first message included).
REVIEW_THREADS_MAX_PER_REVISION = env_int("REVIEW_THREADS_MAX_PER_REVISION", 1_000)
REVIEW_COMMENTS_MAX_PER_THREAD = env_int("REVIEW_COMMENTS_MAX_PER_THREAD", 200)
# Lines of two revisions' documents compared line by line (where a commented line went, the
# diff): past the common head and tail, a longer changed middle counts as replaced as a whole.
REVIEW_DIFF_MAX_LINES = env_int("REVIEW_DIFF_MAX_LINES", 20_000)
# Pairs of equal lines the diff's searches may look at (a few lines repeated thousands of times
# cost it time growing with the cube of the length); past it the middle counts as replaced too.
REVIEW_DIFF_MAX_PAIRS = env_int("REVIEW_DIFF_MAX_PAIRS", 2_000_000)
# Findings listed in each of the compare page's new / fixed / unchanged lists (all are counted).
REVIEW_COMPARE_MAX_FINDINGS = env_int("REVIEW_COMPARE_MAX_FINDINGS", 100)

# In development whitenoise serves straight from the app folders, so a change shows at once.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# The run page lists at most this many findings at once; filters and the exports show the rest.
# Findings per page of the run page (each page under 150 KB).
RUN_PAGE_MAX_FINDINGS = env_int("RUN_PAGE_MAX_FINDINGS", 25)
RUN_PAGE_MAX_TRACE_ROWS = env_int("RUN_PAGE_MAX_TRACE_ROWS", 50)  # operations without a story listed on it
# Tables drawn in the run page's entity-relationship diagram (the most connected first; it says
# how many more there are).
RUN_PAGE_MAX_DIAGRAM_TABLES = env_int("RUN_PAGE_MAX_DIAGRAM_TABLES", 40)
# Declared rows from which a table counts as large in the scorecard's "migrations that lock large
# tables" (the migration review rates a blocking rewrite of a table this large high).
RUN_PAGE_LARGE_TABLE_ROWS = env_int("RUN_PAGE_LARGE_TABLE_ROWS", 1_000_000)
# Stories over budget and locking statements listed in the scorecard (it counts the rest; the
# query plans and migrations tabs list them all).
RUN_PAGE_SCORECARD_ROWS = env_int("RUN_PAGE_SCORECARD_ROWS", 5)
# Places listed per finding on the run page and in the findings API (a design-level finding may
# have thousands; the report and its exports hold them all).
RUN_PAGE_MAX_PLACES = env_int("RUN_PAGE_MAX_PLACES", 5)
FINDINGS_API_MAX_PLACES = env_int("FINDINGS_API_MAX_PLACES", 100)
# Exports and share links (apps/reports). The HTML and PDF exports list at most this many
# findings (a large API has tens of thousands; the file says so, and the JSON holds them all).
REPORT_HTML_MAX_FINDINGS = env_int("REPORT_HTML_MAX_FINDINGS", 1000)
REPORT_PDF_TIMEOUT_SECONDS = env_int("REPORT_PDF_TIMEOUT_SECONDS", 60)  # headless Chromium's print
REPORT_CHROMIUM = env_str("REPORT_CHROMIUM", "/usr/bin/chromium")
REPORT_PDF_MAX_CONCURRENT = env_int("REPORT_PDF_MAX_CONCURRENT", 2)  # PDF prints (Chromiums) at once
SHARE_LINK_MAX_DAYS = env_int("SHARE_LINK_MAX_DAYS", 90)  # the longest expiry a share link may have
SHARE_LINK_DEFAULT_DAYS = env_int("SHARE_LINK_DEFAULT_DAYS", 7)
SHARE_LINKS_MAX_PER_RUN = env_int("SHARE_LINKS_MAX_PER_RUN", 50)  # revoked and expired ones count until deleted
SHARE_LINK_MAX_LOGGED_VIEWS = env_int("SHARE_LINK_MAX_LOGGED_VIEWS", 10_000)  # openings of one link logged
SHARE_PAGE_FINDINGS = env_int("SHARE_PAGE_FINDINGS", 50)  # findings per page of a shared report
