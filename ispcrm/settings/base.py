"""Settings shared by every mode; everything that differs between installs comes from the
environment (see docs/CONFIGURATION.md). With no environment at all this is the embedded
default: SQLite file, Celery over a file-system broker, no Redis server needed."""

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("ISPCRM_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    "ispcrm",
    "connections",
    "billing",
    "tickets",
    "reports",
    "cabinet",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ispcrm.middleware.RejectNullCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ispcrm.middleware.StaffLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cabinet.middleware.CabinetSessionMiddleware",  # renews a cabinet client's short session
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP below
    "django_htmx.middleware.HtmxMiddleware",
    "ispcrm.audit.AuditRequestMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ispcrm.urls"
WSGI_APPLICATION = "ispcrm.wsgi.application"
ASGI_APPLICATION = "ispcrm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ispcrm.context_processors.navigation",
                "django.template.context_processors.csp",  # {{ csp_nonce }}
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ispcrm.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process read while a Celery worker writes; the timeout rides out
    # short write locks instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # Redis is a cache, not a store: while it is down every cache call is a logged miss
    # (django-redis ignores the error), so payments and pages go on without it. Short socket
    # timeouts bound what a Redis that hangs (not refuses) costs: 0.5 s per cache call.
    CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }}
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Without these a publish to a Redis that hangs waits forever (kombu's default).
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        # An unacknowledged task (acks late: its worker was killed) goes back to the queue
        # after this many seconds; it must exceed the longest task (an export: up to
        # EXPORT_MAX_MINUTES), or a running task is delivered a second time.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Embedded default: kombu's file-system transport needs no server, so a worker and beat
    # run beside the dev server on a fresh machine.
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    # Made here: any manage.py command may queue a task (a charge run queues the dashboard's
    # rebuild), kept for the worker that starts later.
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves it queued for another
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = env_str("TIME_ZONE", "Europe/Moscow")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Queueing a task with the broker down gives up at once when Redis refuses and within about
# 6 s when it hangs (one retry after the 2 s socket timeout), instead of blocking the request;
# the work stays in the database for a sweep to queue again (reports.exports.enqueue_build).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.5,
                                    "interval_step": 0, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "ispcrm.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses while an address is locked out
    # ModelBackend with each user's permissions kept in the cache (ispcrm.permissions_cache).
    "ispcrm.permissions_cache.CachedPermissionsBackend",
    # The personal cabinet: an account number or phone and the password (cabinet.backends).
    "cabinet.backends.CabinetBackend",
]
PERMISSIONS_CACHE_SECONDS = env_int("PERMISSIONS_CACHE_SECONDS", 300)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttling (django-axes): 5 failures per username+address lock for 30 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A cabinet client is signed out after this many seconds without a request (cabinet pages
# renew it: cabinet.middleware); staff sessions keep SESSION_COOKIE_AGE.
CABINET_SESSION_AGE = env_int("CABINET_SESSION_AGE", 30 * 60)
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content Security Policy (Django's own middleware), the same in every mode so that what works
# in development works in production: scripts and styles only from our static files (or an
# element carrying the response's {{ csp_nonce }}), no inline style="…" or on…= handlers, no
# plugins, not framed, forms post only to us. data: images are Bootstrap's SVG icons in CSS.
# A real card-payment provider's page is a form target too (the top-up form is redirected
# there, and browsers check that redirect against form-action): PAYMENT_GATEWAY_ORIGINS.
PAYMENT_GATEWAY_ORIGINS = env_list("PAYMENT_GATEWAY_ORIGINS", "")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF, *PAYMENT_GATEWAY_ORIGINS],
}

# --- Internationalization --------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Moscow")

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # a dead SMTP server must not hold a job for long
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ispcrm@localhost")
# SMS and messenger delivery (ispcrm/notifications.py): a dotted path to a backend class.
# The default only logs the message — replace it in production.
NOTIFICATION_SMS_BACKEND = env_str("NOTIFICATION_SMS_BACKEND",
                                   "ispcrm.notifications.LoggingSmsBackend")
NOTIFICATION_MESSENGER_BACKEND = env_str("NOTIFICATION_MESSENGER_BACKEND", "") or None
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Addresses that get mail_admins(): the nightly ledger verification's alerts. Comma-separated.
ADMINS = env_list("ADMINS", "")

# --- Helpdesk (tickets) ----------------------------------------------------------------------
# An outage longer than this is compensated on resolution: the tariff's daily share per day.
OUTAGE_COMPENSATION_HOURS = env_int("OUTAGE_COMPENSATION_HOURS", 24)
# Category code of tickets opened from the support mailbox; empty: the first root category.
SUPPORT_EMAIL_CATEGORY = env_str("SUPPORT_EMAIL_CATEGORY", "")
# The support mailbox (a Maildir) read every 2 minutes by beat; empty: not read.
SUPPORT_MAILDIR = env_str("SUPPORT_MAILDIR", "")
# The secret path part of the Telegram webhook URL; empty: the webhook is off (404).
TELEGRAM_WEBHOOK_SECRET = env_str("TELEGRAM_WEBHOOK_SECRET", "")
# The support bot's token: with NOTIFICATION_MESSENGER_BACKEND=ispcrm.notifications.
# TelegramBackend, replies to messenger clients go back to their Telegram chat.
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN", "")
# Where clients reach this site: the base of the links put into messages (no trailing /).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Days an email link to confirm a formal task or rate a ticket stays valid.
TICKET_LINK_MAX_AGE_DAYS = env_int("TICKET_LINK_MAX_AGE_DAYS", 14)
# Retention, "usage dropped" (R5): an account whose traffic over the last RECENT_DAYS days
# averages below DROP_PERCENT % of its daily average over the 56 days before (data on at
# least 28 of them, at least MIN_MB megabytes a day) is put on the call list.
RETENTION_USAGE_RECENT_DAYS = env_int("RETENTION_USAGE_RECENT_DAYS", 14)
RETENTION_USAGE_DROP_PERCENT = env_int("RETENTION_USAGE_DROP_PERCENT", 30)
RETENTION_USAGE_MIN_MB = env_int("RETENTION_USAGE_MIN_MB", 100)

# Personal cabinet, referrals: requests the public join page accepts from one IP address per
# hour (counted in the cache); 0 turns the limit off.
JOIN_RATE_LIMIT = env_int("JOIN_RATE_LIMIT", 5)

# --- Dunning (billing.services.dunning; docs/BILLING.md) -------------------------------------
# Accounts per chunk task of the daily job: several workers share a day's notices.
DUNNING_CHUNK_SIZE = env_int("DUNNING_CHUNK_SIZE", 500)

# --- Online payments (cabinet top-up, docs/CABINET.md) ----------------------------------------
# The gateway that takes card payments: "test" (built in, credits money no bank took — never
# in production) or the name of an adapter listed in PAYMENT_GATEWAYS (name → class path).
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "test")
PAYMENT_GATEWAYS: dict[str, str] = {}
# The gateway's secret for signing notifications; empty: the test gateway derives one from
# SECRET_KEY. A real provider's adapter reads its own (shop id, key) the same way.
PAYMENT_GATEWAY_SECRET = env_str("PAYMENT_GATEWAY_SECRET", "")
# The site's public address for the gateway's callback (https://isp.example); empty: the
# address the client used.
PAYMENT_GATEWAY_SITE_URL = env_str("PAYMENT_GATEWAY_SITE_URL", "")

# --- Excel exports (reports.exports; docs/REPORTS.md, "Excel") -------------------------------
# Hours an export's download link works; beat deletes the file afterwards.
EXPORT_LINK_HOURS = env_int("EXPORT_LINK_HOURS", 24)
# A list of at most this many rows downloads at once instead of through a background job;
# 0: every list goes through a job (the progress page).
EXPORT_INLINE_ROWS = env_int("EXPORT_INLINE_ROWS", 5000)
# A job "running" this long without its progress moving is taken as lost with its worker
# and queued again; EXPORT_MAX_TRIES losses in all and it is marked failed.
EXPORT_STALL_MINUTES = env_int("EXPORT_STALL_MINUTES", 10)
EXPORT_MAX_TRIES = env_int("EXPORT_MAX_TRIES", 2)
# Without a shared cache to see progress in, a job running this long is taken as lost.
EXPORT_MAX_MINUTES = env_int("EXPORT_MAX_MINUTES", 60)

# --- 1C exchange (reports.onec; docs/REPORTS.md, "1C") ----------------------------------------
# The EnterpriseData format version written into the sales file (1C:Бухгалтерия 3.0 loads it
# with its standard EnterpriseData processing). 1.8 by default; see the docs before changing.
ONEC_ENTERPRISE_DATA_VERSION = env_str("ONEC_ENTERPRISE_DATA_VERSION", "1.8")
# VAT on services: "none" (Без НДС — the simplified tax system most small ISPs use), or a
# rate in percent: "0", "5", "7", "10", "20", "22".
ONEC_VAT_RATE = env_str("ONEC_VAT_RATE", "none")
# Whether the charged amounts include VAT (true: the VAT is the part of each amount; false:
# the amounts are net and VAT is added on top in 1C).
ONEC_PRICES_INCLUDE_VAT = env_bool("ONEC_PRICES_INCLUDE_VAT", True)
# Individuals: "retail" — one monthly summary document for a single counterparty named
# ONEC_RETAIL_COUNTERPARTY (usual for home internet); "each" — one document per person.
ONEC_PERSONS = env_str("ONEC_PERSONS", "retail")
ONEC_RETAIL_COUNTERPARTY = env_str("ONEC_RETAIL_COUNTERPARTY", "Физические лица (розница)")

# --- Analytic reports: churn (reports.selectors.churn; docs/REPORTS.md, "Churn") ------------
# ARPU grades of business clients (R1, R3): (grade, from roubles of monthly charges, the lowest
# manager grade that should lead such a client: "lead", "senior" or "manager"). A client's grade
# in a month is set by his charges for the previous month (connection fees not counted), the
# first threshold reached from the top; a manager's grade is read from his position ("ведущий"
# lead, "старший" senior). The churn report shows churn per grade and flags clients led by a
# manager below the grade's.
# Seconds the dashboard keeps a closed month's figures (reports.selectors.summary); 0: off.
REPORTS_SUMMARY_CACHE_SECONDS = env_int("REPORTS_SUMMARY_CACHE_SECONDS", 24 * 3600)
REPORT_ARPU_GRADES = [
    ("A", 30000, "lead"),
    ("B", 10000, "senior"),
    ("C", 0, "manager"),
]

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns "no credentials" into 401, not 403.
        # DRF's, with the token's user kept in the cache (a query less per call).
        "ispcrm.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ispcrm.api.permissions.RolePermissions"],
    "DEFAULT_PAGINATION_CLASS": "ispcrm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "ispcrm.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "ispcrm.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ispcrm API",
    "DESCRIPTION": "Integration API of ispcrm: address register, client cards, billing, "
    "tickets and reports. See docs/API.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The contract is JSON (API.md); DRF's form parsers serve the browsable API only, and
    # form fields cannot carry null. Uploads name their media type in extend_schema.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Swagger UI served from our own static files: works offline and under a strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Payments and tickets both have a "channel" with different choices.
    "ENUM_NAME_OVERRIDES": {"TicketChannelEnum": "tickets.models.Ticket.Channel",
                            "PaymentChannelEnum": "billing.models.Payment.Channel"},
}

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own default config would print each record a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
