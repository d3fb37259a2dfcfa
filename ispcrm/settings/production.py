"""Production: DEBUG off, a real secret required, HTTPS-only cookies and HSTS.
Use with DJANGO_SETTINGS_MODULE=ispcrm.settings.production (docker-compose does)."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_str

if not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True

# Online card payments are off until a real provider's adapter is configured: the built-in
# test gateway credits money no bank took (docs/CABINET.md, "Gateways and settings").
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "")

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Behind the load balancer the client address is the first hop it adds.
AXES_IPWARE_META_PRECEDENCE_ORDER = [
    env_str("AXES_CLIENT_IP_HEADER", "HTTP_X_FORWARDED_FOR"), "REMOTE_ADDR",
]
