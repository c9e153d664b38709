"""Deployment settings: the ini gives the shape, the environment gives secrets and URLs.

Every environment variable the app reads is listed in ``ENVIRONMENT`` so that the README
table, the code and the tests agree on one list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from pyramid.exceptions import ConfigurationError

# Environment variable -> setting key. The environment wins over the ini.
ENVIRONMENT: dict[str, str] = {
    "DATABASE_URL": "sqlalchemy.url",
    "REDIS_URL": "redis.url",
    "HASHINSIGHT_SECRET": "hashinsight.secret",
    "HASHINSIGHT_PLUGINS": "hashinsight.plugins",
    "HASHINSIGHT_ENV": "hashinsight.env",
    "HUEY_BACKEND": "huey.backend",
    "HASHINSIGHT_BRAND_NAME": "brand.name",
    "HASHINSIGHT_SUPPORT_EMAIL": "brand.support_email",
    "HASHINSIGHT_PUBLIC_URL": "hashinsight.public_url",
    "SMTP_PASSWORD": "mail.password",
}

# The development ini ships this value so that `make run` works out of the box; production
# refuses it (and anything short) so a copied development config cannot go live by accident.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105
MIN_SECRET_LENGTH = 32

DEFAULTS: dict[str, str] = {
    "hashinsight.env": "development",
    "hashinsight.plugins": "",
    "huey.backend": "memory",
    "huey.name": "hashinsight",
    "huey.immediate": "false",
    "cache.backend": "memory",
    "brand.name": "HashInsight",
    "brand.logo": "",
    "brand.primary_color": "#f7931a",
    "brand.background_color": "#1a1d2e",
    "brand.support_email": "support@example.com",
    "brand.favicon": "",
    "brand.support_phone": "",
    "brand.support_url": "",
    "brand.legal_footer": "",
    "brand.mail_footer": "",
    "i18n.default_locale": "en",
    "i18n.available_locales": "en zh",
    "session.idle_minutes": "60",
}


def aslist(value: str | list[str] | None) -> list[str]:
    """Split a setting on whitespace or commas, dropping empties."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part for part in re.split(r"[\s,]+", value) if part]


def asbool(value: object) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def resolve(settings: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict:
    """Return the effective settings: defaults < ini < environment.

    Raises ConfigurationError with one clear line when the result cannot run safely.
    """
    environ = os.environ if environ is None else environ
    effective: dict = dict(DEFAULTS)
    effective.update(settings)
    for variable, key in ENVIRONMENT.items():
        if variable in environ:
            effective[key] = environ[variable]
    effective["hashinsight.plugins"] = aslist(effective.get("hashinsight.plugins"))
    effective["i18n.available_locales"] = aslist(effective["i18n.available_locales"])
    if not effective.get("sqlalchemy.url"):
        raise ConfigurationError("no database configured: set sqlalchemy.url or DATABASE_URL")
    _check_secret(effective)
    return effective


def is_production(settings: Mapping) -> bool:
    return settings.get("hashinsight.env") == "production"


def _check_secret(settings: Mapping) -> None:
    secret = settings.get("hashinsight.secret") or ""
    if not is_production(settings):
        return
    if not secret:
        raise ConfigurationError(
            "HASHINSIGHT_SECRET is not set; production needs a random secret "
            f"of at least {MIN_SECRET_LENGTH} characters"
        )
    if secret == DEVELOPMENT_SECRET or len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            "HASHINSIGHT_SECRET is the development default or too short; production needs "
            f"a random secret of at least {MIN_SECRET_LENGTH} characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
