"""Login throttling: at most N failed logins per account and per IP address in a window.

Counting uses the ``limits`` library's moving window: in memory for the embedded default
(one web process), in Redis in production (``auth.throttle.storage = redis``) so that every
web process shares the counts.

When Redis cannot be reached the throttle **fails open**: logins are checked as usual but not
counted, and a warning is logged (``/readyz`` reports Redis down at the same time). Locking
every operator out of the farm during a Redis outage would do more harm than the short
window without counting: argon2 still makes each guess cost tens of milliseconds, and the
outage is visible. See docs/architecture.md.
"""

from __future__ import annotations

import logging
import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pyramid.exceptions import ConfigurationError

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(self, storage_uri: str, limit: str = "10/5minutes"):
        self.limit = parse(limit)
        options = {}
        if storage_uri.startswith("redis"):
            # Short timeouts: a hung Redis must not hang the login page (we fail open).
            options = {"socket_timeout": 1, "socket_connect_timeout": 1}
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))

    def _keys(self, email: str, ip: str | None) -> list[tuple[str, str]]:
        keys = [("account", email.strip().lower())]
        if ip:
            keys.append(("ip", ip))
        return keys

    def retry_after(self, email: str, ip: str | None) -> int | None:
        """Seconds until another try is allowed, or None when a try is allowed now."""
        try:
            wait = 0.0
            for kind, value in self._keys(email, ip):
                if not self.limiter.test(self.limit, "login", kind, value):
                    stats = self.limiter.get_window_stats(self.limit, "login", kind, value)
                    wait = max(wait, stats.reset_time - time.time())
            return max(1, math.ceil(wait)) if wait else None
        except Exception as error:  # noqa: BLE001 - storage down: fail open, see module doc
            log.warning("login throttle storage unavailable, not counting: %s", error)
            return None

    def failed(self, email: str, ip: str | None) -> None:
        try:
            for kind, value in self._keys(email, ip):
                self.limiter.hit(self.limit, "login", kind, value)
        except Exception as error:  # noqa: BLE001 - storage down: fail open, see module doc
            log.warning("login throttle storage unavailable, not counting: %s", error)

    def reset(self, email: str) -> None:
        """A successful login clears the account's count (not the IP's)."""
        try:
            self.limiter.clear(self.limit, "login", "account", email.strip().lower())
        except Exception as error:  # noqa: BLE001
            log.warning("login throttle storage unavailable: %s", error)


def includeme(config):
    settings = config.get_settings()
    storage = settings.get("auth.throttle.storage", "memory")
    if storage == "memory":
        uri = "memory://"
    elif storage == "redis":
        if not settings.get("redis.url"):
            raise ConfigurationError("auth.throttle.storage = redis needs redis.url or REDIS_URL")
        uri = settings["redis.url"]
    else:
        raise ConfigurationError(f"unknown auth.throttle.storage '{storage}' (memory or redis)")
    limit = settings.get("auth.throttle.limit", "10/5minutes")
    try:
        config.registry["login_throttle"] = LoginThrottle(uri, limit)
    except ValueError as error:
        raise ConfigurationError(f"auth.throttle.limit: {error}") from None
