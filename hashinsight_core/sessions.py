"""Server-side sessions: the cookie holds a random token, the store keeps only its SHA-256.

Two stores behind one interface: ``DatabaseSessionStore`` (the embedded default) and
``RedisSessionStore`` (production, ``session.backend = redis``). A session is valid while
its account is active and inside its access period, its stamp equals the account's
``security_stamp``, it was used within ``session.idle_minutes`` and began less than
``session.absolute_hours`` ago.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError
from pyramid.i18n import TranslationStringFactory
from zope.interface import Interface, implementer

from hashinsight_core.db import utcnow

_ = TranslationStringFactory("hashinsight")

SESSION_COOKIE = "hi_session"
TOUCH_EVERY = dt.timedelta(minutes=1)  # write last-seen at most once a minute per session


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class SessionRecord:
    token_hash: str
    user_id: int
    stamp: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ip_address: str | None = None
    user_agent: str | None = None


class ISessionStore(Interface):
    def add(record):
        """Store a new session."""

    def get(token_hash):
        """The SessionRecord for ``token_hash``, or None."""

    def touch(record, now):
        """Record that the session was used at ``now``."""

    def delete(token_hash):
        """End one session."""

    def for_user(user_id):
        """Every stored session of a user (for the sessions page)."""

    def delete_for_user(user_id):
        """End every session of a user."""


@implementer(ISessionStore)
class DatabaseSessionStore:
    def __init__(self, dbsession):
        self.db = dbsession

    def _row(self, token_hash):
        from hashinsight_core.models import UserSession

        return self.db.scalar(sa.select(UserSession).where(UserSession.token_hash == token_hash))

    @staticmethod
    def _record(row) -> SessionRecord:
        return SessionRecord(
            row.token_hash,
            row.user_id,
            row.stamp,
            row.created_at,
            row.last_seen_at,
            row.ip_address,
            row.user_agent,
        )

    def add(self, record: SessionRecord) -> None:
        from hashinsight_core.models import UserSession

        self.db.add(UserSession(**asdict(record)))

    def get(self, token_hash: str) -> SessionRecord | None:
        row = self._row(token_hash)
        return self._record(row) if row is not None else None

    def touch(self, record: SessionRecord, now: dt.datetime) -> None:
        row = self._row(record.token_hash)
        if row is not None:
            row.last_seen_at = now

    def delete(self, token_hash: str) -> None:
        row = self._row(token_hash)
        if row is not None:
            self.db.delete(row)

    def for_user(self, user_id: int) -> list[SessionRecord]:
        from hashinsight_core.models import UserSession

        rows = self.db.scalars(sa.select(UserSession).where(UserSession.user_id == user_id))
        return [self._record(r) for r in rows]

    def delete_for_user(self, user_id: int) -> None:
        from hashinsight_core.models import UserSession

        self.db.execute(sa.delete(UserSession).where(UserSession.user_id == user_id))


@implementer(ISessionStore)
class RedisSessionStore:
    """Sessions in Redis: one key per session (expiring after the idle timeout, refreshed on
    use) and one set per user so that "end every session" can find them."""

    def __init__(self, client, idle: dt.timedelta, prefix: str = "hi:session:"):
        self.client = client
        self.idle = idle
        self.prefix = prefix

    def _key(self, token_hash: str) -> str:
        return f"{self.prefix}{token_hash}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}user:{user_id}"

    def add(self, record: SessionRecord) -> None:
        data = {
            k: (v.isoformat() if isinstance(v, dt.datetime) else v)
            for k, v in asdict(record).items()
        }
        ttl = int(self.idle.total_seconds())
        pipe = self.client.pipeline()
        pipe.set(self._key(record.token_hash), json.dumps(data), ex=ttl)
        pipe.sadd(self._user_key(record.user_id), record.token_hash)
        pipe.execute()

    def get(self, token_hash: str) -> SessionRecord | None:
        raw = self.client.get(self._key(token_hash))
        if raw is None:
            return None
        data = json.loads(raw)
        for name in ("created_at", "last_seen_at"):
            data[name] = dt.datetime.fromisoformat(data[name])
        return SessionRecord(**data)

    def touch(self, record: SessionRecord, now: dt.datetime) -> None:
        record.last_seen_at = now
        self.add(record)

    def delete(self, token_hash: str) -> None:
        record = self.get(token_hash)
        self.client.delete(self._key(token_hash))
        if record is not None:
            self.client.srem(self._user_key(record.user_id), token_hash)

    def for_user(self, user_id: int) -> list[SessionRecord]:
        found = []
        for token_hash in self.client.smembers(self._user_key(user_id)):
            token_hash = token_hash.decode() if isinstance(token_hash, bytes) else token_hash
            record = self.get(token_hash)
            if record is None:
                self.client.srem(self._user_key(user_id), token_hash)  # expired meanwhile
            else:
                found.append(record)
        return found

    def delete_for_user(self, user_id: int) -> None:
        members = self.client.smembers(self._user_key(user_id))
        keys = [self._key(m.decode() if isinstance(m, bytes) else m) for m in members]
        self.client.delete(*keys, self._user_key(user_id))


class Sessions:
    """The rules on top of a store: start, load (with every timeout) and end sessions."""

    def __init__(self, store: ISessionStore, settings):
        self.store = store
        self.idle = dt.timedelta(minutes=int(settings.get("session.idle_minutes", 60)))
        self.absolute = dt.timedelta(hours=int(settings.get("session.absolute_hours", 12)))
        self.secure = settings.get("hashinsight.env") == "production"

    def start(self, request, user, response) -> None:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        self.store.add(
            SessionRecord(
                token_digest(token),
                user.id,
                user.security_stamp,
                now,
                now,
                request.client_addr,
                (request.user_agent or "")[:300],
            )
        )
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=self.secure, path="/"
        )

    def load(self, request):
        """(record, user) for the request's cookie, or (None, None)."""
        from hashinsight_core.models import User

        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 100:
            return None, None
        record = self.store.get(token_digest(token))
        if record is None:
            return None, None
        now = utcnow()
        user = request.dbsession.get(User, record.user_id)
        expired = now - record.last_seen_at > self.idle or now - record.created_at > self.absolute
        if (
            user is None
            or expired
            or record.stamp != user.security_stamp
            or access_problem(user, now.date()) is not None
        ):
            self.store.delete(record.token_hash)
            return None, None
        if now - record.last_seen_at > TOUCH_EVERY:
            self.store.touch(record, now)
        return record, user

    def end(self, request, response) -> None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            self.store.delete(token_digest(token))
        response.delete_cookie(SESSION_COOKIE, path="/")


def access_problem(user, today: dt.date) -> str | None:
    """Why ``user`` may not be logged in today, in plain words, or None."""
    if not user.is_active:
        return _("This account is switched off. Please ask your administrator.")
    if user.valid_from and today < user.valid_from:
        return _(
            "This account can be used from ${date}.", mapping={"date": user.valid_from.isoformat()}
        )
    if user.valid_until and today > user.valid_until:
        return _(
            "This account could be used until ${date}; it has expired.",
            mapping={"date": user.valid_until.isoformat()},
        )
    return None


def includeme(config):
    settings = config.get_settings()
    backend = settings.get("session.backend", "database")
    if backend == "redis":
        import redis

        if not settings.get("redis.url"):
            raise ConfigurationError("session.backend = redis needs redis.url or REDIS_URL")
        client = redis.Redis.from_url(settings["redis.url"], socket_timeout=2)
        idle = dt.timedelta(minutes=int(settings.get("session.idle_minutes", 60)))
        store_factory = lambda request: RedisSessionStore(client, idle)  # noqa: E731
    elif backend == "database":
        store_factory = lambda request: DatabaseSessionStore(request.dbsession)  # noqa: E731
    else:
        raise ConfigurationError(f"unknown session.backend '{backend}' (use database or redis)")

    def sessions(request) -> Sessions:
        return Sessions(store_factory(request), request.registry.settings)

    config.add_request_method(sessions, "sessions", reify=True)
