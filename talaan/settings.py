"""Django settings for Talaan, read from the environment.

The defaults are the embedded development shape (SQLite, embedded ledger, in-memory channel
layer, tasks run in-process). Production sets DEBUG=0 and must provide a real SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

from kernel.env import env_bool, env_float, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TALAAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "django-insecure-talaan-development-only-key-never-use-in-production"
SECRET_KEY = env_secret("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY (or SECRET_KEY_FILE) must be set to a random value of at least 32 "
        "characters when DEBUG is off."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # For its index operator classes (pg_trgm search indexes); harmless on SQLite.
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "organisations",
    "api",
    "registry",
    "clearance",
    "payments",
    "ledger",
    "notifications",
    "audit",
    "demo",
    # Not a Django app of models: listed so that its catalogue (kernel/locale: shared errors,
    # the chaincode's refusals in words) is found like every app's.
    "kernel",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (Django's order), before CommonMiddleware: from the language cookie,
    # else the browser's Accept-Language; the user's saved choice becomes the cookie at login.
    "django.middleware.locale.LocaleMiddleware",
    "notifications.language.LanguageAtLoginMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kernel.errors.DomainErrorMiddleware",
]

ROOT_URLCONF = "talaan.urls"
ASGI_APPLICATION = "talaan.asgi.application"
WSGI_APPLICATION = None

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "talaan.context_processors.navigation",
            ],
        },
    },
]

_DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'talaan.sqlite3'}"
if "DATABASE_URL" not in os.environ:
    # The embedded default keeps its SQLite file under var/; make sure the folder exists.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
# Under ASGI each request's synchronous code runs in a thread of its own, and Django's
# connections belong to a thread: without a pool every request that reads the database opens
# a new PostgreSQL connection (most of a small API call's time; CONN_MAX_AGE cannot help).
# DATABASE_POOL_SIZE > 0 shares at most that many connections per process (psycopg_pool), and
# then persistent connections are off (Django refuses both at once).
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 0)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _DEFAULT_DATABASE_URL),
        conn_max_age=0 if DATABASE_POOL_SIZE > 0 else env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASE_POOL_SIZE > 0 and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_SIZE,
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, exactly channels_redis's
            # blocking pop of 5 s, so idle websocket consumers crashed after ~5 s
            # (channels_redis#422). Read a little longer than the pop; connect fails fast.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}]
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# How long the committing request waits to publish a live update itself before handing it to
# the push_live task (notifications.live): a slow or lost Redis costs a request this at most.
LIVE_PUBLISH_TIMEOUT = env_int("LIVE_PUBLISH_TIMEOUT_MS", 500) / 1000

# Celery: without a broker the embedded shape runs tasks in-process, after commit.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 45
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing happens after a commit, inside a request: fail fast when the broker is down
# (the notification rows are safe in the database and a periodic sweep resends them).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# Filipino (Tagalog). Django ships no "fil" locale of its own: its name is added here, a
# browser that asks for "tl" (Tagalog) gets Filipino, and the formats are in talaan/formats/.
LANG_INFO.setdefault(
    "fil", {"bidi": False, "code": "fil", "name": "Filipino", "name_local": "Filipino"}
)
LANG_INFO.setdefault("tl", {"fallback": ["fil"]})
LANGUAGES = [("en", "English"), ("fil", "Filipino")]
# The catalogue of the templates and of Django's own strings our pages show; it comes before
# each app's (registry/locale/...) and before Django's own.
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["talaan.formats"]
# The visitor's choice lasts a year, not the browser session (Django's default).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = env_bool("LANGUAGE_COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Dates and times on every page, e-mail and SMS are Manila time, in either language.
TIME_ZONE = env_str("TIME_ZONE", "Asia/Manila")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the app folders in development, so `make run` needs no collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# In development, mail is written to files under var/mail instead of being sent.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP connection may block: a send must end well within its delivery's lease.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Talaan <no-reply@talaan.local>")

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"


def _derived_key(purpose: str) -> str:
    """A per-purpose key derived from SECRET_KEY, for development and tests only."""
    return hashlib.sha256(f"talaan:{purpose}:{SECRET_KEY}".encode()).hexdigest()


# Documents (evidence). DOCUMENT_STORAGE picks where new uploads go:
# - "filesystem": DOCUMENT_ROOT on this machine (the embedded default);
# - "ipfs": a Kubo node's HTTP RPC API at IPFS_API_URL. Anyone who learns a CID can fetch it,
#   so files are encrypted first (AES-256-GCM, a key per document wrapped by
#   DOCUMENT_MASTER_KEY, 64 hex characters);
# - "oci": an OCI Object Storage bucket (OCI_NAMESPACE, OCI_BUCKET), authenticated by the OCI
#   config file (OCI_CONFIG_FILE, OCI_PROFILE) or the instance principal (OCI_AUTH), encrypted
#   server-side (with OCI_KMS_KEY_ID when set, else Oracle-managed keys).
# Every backend that is configured stays readable, so documents stored before a switch can
# still be opened: the storage alias of a document is "documents:<its backend>".
DOCUMENT_STORAGE = env_str("DOCUMENT_STORAGE", "filesystem")
DOCUMENT_ROOT = Path(env_str("DOCUMENT_ROOT", str(MEDIA_ROOT)))
DOCUMENT_MASTER_KEY = env_secret("DOCUMENT_MASTER_KEY") or _derived_key("document-master")
# After a rotation: the keys rotated out (comma-separated), still read until
# `manage.py rewrap_document_keys` has wrapped every document key under the current one.
DOCUMENT_PREVIOUS_MASTER_KEYS = env_list("DOCUMENT_PREVIOUS_MASTER_KEYS", [])
IPFS_API_URL = env_str("IPFS_API_URL", "")
IPFS_TIMEOUT_SECONDS = env_int("IPFS_TIMEOUT_SECONDS", 30)
OCI_AUTH = env_str("OCI_AUTH", "config_file")
OCI_CONFIG_FILE = env_str("OCI_CONFIG_FILE", "~/.oci/config")
OCI_PROFILE = env_str("OCI_PROFILE", "DEFAULT")
OCI_REGION = env_str("OCI_REGION", "")
OCI_NAMESPACE = env_str("OCI_NAMESPACE", "")
OCI_BUCKET = env_str("OCI_BUCKET", "")
OCI_KMS_KEY_ID = env_str("OCI_KMS_KEY_ID", "")
# Only for pointing the SDK at another endpoint (a private endpoint, or the tests' stand-in).
OCI_ENDPOINT = env_str("OCI_ENDPOINT", "")

_DOCUMENT_BACKENDS = {
    "filesystem": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DOCUMENT_ROOT), "base_url": None},
    },
}
if IPFS_API_URL:
    _DOCUMENT_BACKENDS["ipfs"] = {
        "BACKEND": "registry.storage.ipfs.IpfsStorage",
        "OPTIONS": {"api_url": IPFS_API_URL, "timeout": IPFS_TIMEOUT_SECONDS},
    }
if OCI_BUCKET:
    _DOCUMENT_BACKENDS["oci"] = {
        "BACKEND": "registry.storage.oci.OciStorage",
        "OPTIONS": {
            "auth": OCI_AUTH,
            "config_file": OCI_CONFIG_FILE,
            "profile": OCI_PROFILE,
            "region": OCI_REGION,
            "namespace": OCI_NAMESPACE,
            "bucket": OCI_BUCKET,
            "kms_key_id": OCI_KMS_KEY_ID,
            "endpoint": OCI_ENDPOINT,
        },
    }
if DOCUMENT_STORAGE not in _DOCUMENT_BACKENDS:
    raise ImproperlyConfigured(
        f"DOCUMENT_STORAGE={DOCUMENT_STORAGE!r} needs its settings: filesystem is always "
        "available, ipfs needs IPFS_API_URL, oci needs OCI_BUCKET (and OCI_NAMESPACE)."
    )
if DOCUMENT_STORAGE == "ipfs" and not DEBUG and not env_secret("DOCUMENT_MASTER_KEY"):
    raise ImproperlyConfigured(
        "DOCUMENT_STORAGE=ipfs needs DOCUMENT_MASTER_KEY (or DOCUMENT_MASTER_KEY_FILE): "
        "64 hex characters that wrap every document's key. Keep it safe: without it the "
        "documents on IPFS cannot be read."
    )
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    **{f"documents:{name}": backend for name, backend in _DOCUMENT_BACKENDS.items()},
}

# The ledger. "embedded" runs the chaincode in-process over tables in this database;
# "fabric" talks to a Hyperledger Fabric peer's Gateway service.
LEDGER_BACKEND = env_str("LEDGER_BACKEND", "embedded")
# Ed25519 seed (64 hex characters; or LEDGER_SIGNING_KEY_FILE) that signs the embedded
# ledger's checkpoints and promises of inclusion. To rotate it, put the old key's verifier key
# (GET /ledger/checkpoint names it) in LEDGER_RETIRED_VERIFIER_KEYS, comma-separated, so what
# it signed still verifies, then set the new seed: the next checkpoint carries the new key id.
LEDGER_SIGNING_KEY = env_secret("LEDGER_SIGNING_KEY") or _derived_key("ledger-signing")
LEDGER_RETIRED_VERIFIER_KEYS = env_list("LEDGER_RETIRED_VERIFIER_KEYS", [])
# The log's name in its checkpoints (c2sp.org/tlog-checkpoint origin) and its key's name.
LEDGER_LOG_ORIGIN = env_str("LEDGER_LOG_ORIGIN", "talaan.local/ledger")
# Who integrates committed leaves into the tree: "in-process" (inside each write: one
# machine, SQLite, tests) or "sequencer" (the one `manage.py ledger_sequencer` process).
LEDGER_SEQUENCER = env_str("LEDGER_SEQUENCER", "in-process")
if LEDGER_SEQUENCER not in {"in-process", "sequencer"}:
    raise ImproperlyConfigured("LEDGER_SEQUENCER must be 'in-process' or 'sequencer'.")
# The longest a committed entry may wait for inclusion (its receipt promises it); past this
# the ledger's health says so.
LEDGER_MAX_MERGE_DELAY_SECONDS = env_float("LEDGER_MAX_MERGE_DELAY_SECONDS", 1.0)
# HMAC key that turns user ids into the pseudonymous actor ids written on the ledger.
LEDGER_PSEUDONYM_KEY = env_secret("LEDGER_PSEUDONYM_KEY") or _derived_key("ledger-pseudonym")
LEDGER_CHANNEL = env_str("LEDGER_CHANNEL", "clearance")
LEDGER_CHAINCODE = env_str("LEDGER_CHAINCODE", "talaan")
# reconcile_ledger reports a receipt whose ledger event has not been seen this long after it.
LEDGER_UNCONFIRMED_AFTER_SECONDS = env_int("LEDGER_UNCONFIRMED_AFTER_SECONDS", 300)

# Service levels: hours an organisation has to decide a clearance request of each kind. Each
# kind has its default in its module (clearance/kinds/); SLA_HOURS_<KIND> (e.g. SLA_HOURS_HPG)
# overrides it for whichever kinds are installed; blank or 0 keeps the default.
_SLA_KINDS = {
    name.removeprefix("SLA_HOURS_").removesuffix("_FILE")
    for name in os.environ
    if name.startswith("SLA_HOURS_")
}
# How long an application's fee assessment holds before it is computed again (issue 16).
ASSESSMENT_VALID_DAYS = env_int("ASSESSMENT_VALID_DAYS", 7)

CLEARANCE_SLA_HOURS = {
    kind: hours for kind in sorted(_SLA_KINDS) if (hours := env_int(f"SLA_HOURS_{kind}", 0)) > 0
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Notifications.
# Links in emails and text messages are absolute; stored links are paths on this site.
NOTIFICATIONS_SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# The Certificate of Registration as a W3C Verifiable Credential (registry.credentials): signed
# as application/vc+jwt by CREDENTIAL_SIGNING_KEY, a PEM private key (EC P-256 for ES256, or
# Ed25519 for EdDSA; or CREDENTIAL_SIGNING_KEY_FILE). With DEBUG on and no key, one is generated
# once into var/credential-signing-key.pem; with DEBUG off, a missing key makes credential
# downloads answer 503 and `manage.py check --deploy` fail. After a rotation, the retired public
# keys stay in the published JWK set: CREDENTIAL_RETIRED_JWKS, a JSON JWK set ({"keys": [...]}).
# The issuer's identifier (and the base of every URL in a credential) is CREDENTIAL_ISSUER_URL.
CREDENTIAL_ISSUER_URL = env_str("CREDENTIAL_ISSUER_URL", NOTIFICATIONS_SITE_URL).rstrip("/")
CREDENTIAL_ISSUER_NAME = env_str("CREDENTIAL_ISSUER_NAME", "Land Transportation Office")
CREDENTIAL_SIGNING_KEY = env_secret("CREDENTIAL_SIGNING_KEY") or ""
CREDENTIAL_DEV_KEY_FILE = VAR_DIR / "credential-signing-key.pem" if DEBUG else None
CREDENTIAL_RETIRED_JWKS = env_secret("CREDENTIAL_RETIRED_JWKS") or ""
TEMPLATES[0]["OPTIONS"]["context_processors"].append("notifications.context_processors.bell")

# SMS: the HTTP gateway when one is configured, else one JSON-lines file per day in var/sms.
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_secret("SMS_GATEWAY_TOKEN") or ""
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10)
SMS_SENDER = env_str("SMS_SENDER", "TALAAN")
SMS_BACKEND = env_str(
    "SMS_BACKEND",
    "notifications.sms.HttpGatewayBackend" if SMS_GATEWAY_URL else "notifications.sms.FileBackend",
)
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(VAR_DIR / "sms"))
# How long a sender's claim on an e-mail, SMS or webhook delivery lasts: nobody else sends it
# meanwhile; after it the sweep sends it again (its sender died). Longer than any one send
# (the SMTP, SMS gateway and webhook timeouts), or a slow send is repeated.
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 300)

# Periodic jobs (celery beat). Every job is idempotent, so running it late or twice is safe.
CELERY_BEAT_SCHEDULE = {
    "redeliver-stuck-notifications": {
        "task": "notifications.tasks.redeliver_pending",
        "schedule": 300.0,
    },
    "notify-overdue-clearances": {
        "task": "clearance.tasks.notify_overdue_clearances",
        "schedule": 300.0,
    },
    # Hourly rather than daily: a missed run is caught up within the hour.
    # Every document re-read and checked against its ledger anchor, once a day.
    "verify-documents": {
        "task": "registry.tasks.verify_documents",
        "schedule": 86400.0,
    },
    "notify-expiring-registrations": {
        "task": "registry.tasks.notify_expiring_registrations",
        "schedule": 3600.0,
    },
    "sweep-sales": {
        "task": "registry.tasks.sweep_sales",
        "schedule": 600.0,
    },
}
# How long a buyer's link to a sale works (days); the sale expires then and the seller is told.
SALE_INVITATION_DAYS = env_int("SALE_INVITATION_DAYS", 14)
# Renewal opens this many days before the plate's due week (registry.schedule).
RENEWAL_OPENS_DAYS_BEFORE = env_int("RENEWAL_OPENS_DAYS_BEFORE", 60)
# Which digit of a motorcycle plate, from the end, gives the due week (2 is the second-last,
# as for cars); unconfirmed for motorcycles, hence a setting.
RENEWAL_WEEK_DIGIT_MOTORCYCLE = env_int("RENEWAL_WEEK_DIGIT_MOTORCYCLE", 2)

# Fabric gateway backend.
# Used when LEDGER_BACKEND=fabric: the peer's Gateway endpoint (host:port), TLS with the
# organisations' CA certificate (plain gRPC when unset), and one client identity per
# organisation in FABRIC_IDENTITIES_DIR/<MSP id>/{cert.pem,key.pem}; an MSP with several
# identities (DealerMSP: one per dealer, its code in the certificate's talaan.dealer attribute)
# has one folder each, FABRIC_IDENTITIES_DIR/<MSP id>/<dealer code>/{cert.pem,key.pem}, and a
# dealer without one cannot write (503 naming the missing file; no other identity stands in).
# Reads are signed by FABRIC_QUERY_MSP. With a 1 s orderer batch timeout a submit takes about
# 1 s; after a restart the peers need up to 30 s to find each other, hence retries with backoff.
FABRIC_GATEWAY_ENDPOINT = env_str("FABRIC_GATEWAY_ENDPOINT", "")
FABRIC_TLS_CA_FILE = env_str("FABRIC_TLS_CA_FILE", "")
FABRIC_TLS_SERVER_NAME = env_str("FABRIC_TLS_SERVER_NAME", "")
FABRIC_IDENTITIES_DIR = env_str("FABRIC_IDENTITIES_DIR", str(VAR_DIR / "fabric" / "identities"))
FABRIC_QUERY_MSP = env_str("FABRIC_QUERY_MSP", "LTOMSP")
FABRIC_DEADLINE_SECONDS = env_int("FABRIC_DEADLINE_SECONDS", 10)
# A transient failure (a peer or the chaincode server unreachable, no endorsement plan yet
# after a peer restarts, 3-7 s on Fabric 2.5) is retried with backoff (0.25 s doubling, at
# most 2 s) up to FABRIC_RETRIES times, none starting later than FABRIC_RETRY_SECONDS after
# the first attempt; then the user is asked to retry (503).
FABRIC_RETRIES = env_int("FABRIC_RETRIES", 6)
FABRIC_RETRY_SECONDS = env_int("FABRIC_RETRY_SECONDS", 10)

# REST API.
# API keys first: their scheme answers 401 with WWW-Authenticate. Sessions (with CSRF) serve
# pages that call the API. Every error is problem+json (api.problems).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.permissions.HasKeyScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    # Per API key or per user, in a sliding window counted in Redis (in-process without it).
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.CallerRateThrottle"],
}
API_THROTTLE_USER = env_str("API_THROTTLE_USER", "600/min")
API_THROTTLE_KEY = env_str("API_THROTTLE_KEY", "600/min")
# While Redis is down each web process allows this share of a rate (api.throttling): the
# number of web processes serving the API, all hosts together.
API_THROTTLE_PROCESSES = env_int("API_THROTTLE_PROCESSES", env_int("WEB_CONCURRENCY", 1))
# Webhook targets on private, loopback, link-local or otherwise internal addresses are refused
# (when subscribing and on every delivery) unless this is on: for development and for tests
# whose receiver listens on loopback. Never in production: it lets a subscriber reach inside.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# Idempotency-Key records live 24 hours (api.idempotency); purged hourly.
CELERY_BEAT_SCHEDULE["purge-idempotency-keys"] = {
    "task": "api.tasks.purge_idempotency_keys",
    "schedule": 3600.0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Talaan API",
    "DESCRIPTION": (
        "Vehicle registration clearance for integrators (HPG, insurers, emission testing "
        "centres) and LTO systems. Authenticate with an organisation's API key as a bearer "
        "token. Errors are application/problem+json (RFC 9457) with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "registry.models.RegistrationApplication.Status",
        "ClearanceStatusEnum": "clearance.models.Status",
        "DeregistrationReasonEnum": "registry.models.Deregistration.Reason",
        "HoldReasonEnum": "registry.models.Hold.Reason",
    },
    # The enum hook is drf-spectacular's default; ours declare every response's headers and
    # the text every input accepts.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.declare_response_headers",
        "api.schema.declare_text_inputs",
    ],
}

# Webhooks.
# Every minute, re-send webhook deliveries whose backoff has elapsed (notifications.webhooks).
CELERY_BEAT_SCHEDULE["deliver-webhooks"] = {
    "task": "notifications.tasks.deliver_due_webhooks",
    "schedule": 60.0,
}

# Payments (issue 16): which gateway new payments use, and each gateway's settings.
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "sandbox")
# The sandbox signs its callbacks with this; by default a key derived from SECRET_KEY, so
# `make run` works without one and no two deployments share it.
PAYMENT_SANDBOX_SECRET = env_secret("PAYMENT_SANDBOX_SECRET") or (
    "sandbox-" + hashlib.sha256(f"payments:{SECRET_KEY}".encode()).hexdigest()
)
# How long a checkout stays open before the sweep marks it expired.
PAYMENT_CHECKOUT_MINUTES = env_int("PAYMENT_CHECKOUT_MINUTES", 60)
# A signed callback older (or newer) than this is refused as a possible replay.
PAYMENT_CALLBACK_TOLERANCE_SECONDS = env_int("PAYMENT_CALLBACK_TOLERANCE_SECONDS", 300)
PAYMONGO_SECRET_KEY = env_secret("PAYMONGO_SECRET_KEY") or ""
PAYMONGO_WEBHOOK_SECRET = env_secret("PAYMONGO_WEBHOOK_SECRET") or ""
PAYMONGO_API_BASE = env_str("PAYMONGO_API_BASE", "https://api.paymongo.com")
# Live mode checks a webhook's `li` signature; test mode its `te` one.
PAYMONGO_LIVE = env_bool("PAYMONGO_LIVE", False)
PAYMONGO_PAYMENT_METHOD_TYPES = env_list("PAYMONGO_PAYMENT_METHOD_TYPES", ["qrph", "gcash", "card"])
CELERY_BEAT_SCHEDULE["expire-abandoned-payments"] = {
    "task": "payments.payment_tasks.expire_abandoned_payments",
    "schedule": 300.0,
}

# The office behind the service, as its pages, footer, privacy notice and certificates name it.
GOVERNMENT_NAME = env_str("GOVERNMENT_NAME", "Republic of the Philippines")
OFFICE_PARENT = env_str("OFFICE_PARENT", "Department of Transportation")
OFFICE_NAME = env_str("OFFICE_NAME", "Land Transportation Office")
SERVICE_NAME = env_str("SERVICE_NAME", "Talaan vehicle registry")
OFFICE_ADDRESS = env_str("OFFICE_ADDRESS", "East Avenue, Diliman, Quezon City, Metro Manila 1100")
HELP_EMAIL = env_str("HELP_EMAIL", "help@talaan.local")
HELP_PHONE = env_str("HELP_PHONE", "(02) 8922 9061")
HELP_HOURS = env_str("HELP_HOURS", "Monday to Friday, 8:00 to 17:00")
# The Data Protection Officer the privacy notice names (Data Privacy Act of 2012, RA 10173).
DPO_NAME = env_str("DPO_NAME", "Data Protection Officer")
DPO_EMAIL = env_str("DPO_EMAIL", "dpo@talaan.local")
DPO_PHONE = env_str("DPO_PHONE", "(02) 8922 9061")
DPO_ADDRESS = env_str("DPO_ADDRESS", OFFICE_ADDRESS)
TEMPLATES[0]["OPTIONS"]["context_processors"].append("talaan.context_processors.service_identity")
# How long the link confirming a new e-mail address works (registry.profile).
EMAIL_CHANGE_LINK_HOURS = env_int("EMAIL_CHANGE_LINK_HOURS", 48)
