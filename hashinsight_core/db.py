"""Database: one metadata with a naming convention, engines, and ``request.dbsession``.

``request.dbsession`` is joined to the request's transaction manager (pyramid_tm) through
zope.sqlalchemy, so a view never commits: returning commits, raising rolls back.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import zope.sqlalchemy
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """The one declarative base; every plugin's models subclass it."""

    metadata = metadata


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def make_engine(url: str, **kwargs) -> sa.Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).update({"timeout": 30, "check_same_thread": False})
        engine = sa.create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def engine_from_settings(settings) -> sa.Engine:
    return make_engine(settings["sqlalchemy.url"])


def get_tm_session(session_factory, transaction_manager, request=None):
    """Return a session joined to ``transaction_manager`` (used by requests, tasks, scripts)."""
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


# A request that may be retried has its body copied to a temporary file first, before any
# view could refuse it. Uploads above this (telemetry batches, CSV files) run once instead.
RETRY_BODY_LIMIT = 256 * 1024


def retry_attempts(request) -> int | None:
    """pyramid_retry's hook: None keeps the default attempts; 1 turns retrying off."""
    length = request.content_length
    if request.method in {"POST", "PUT", "PATCH"} and (length is None or length > RETRY_BODY_LIMIT):
        return 1
    return None


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # pyramid_tm would look up the user after the response to label the transaction; a bad API
    # token must answer its 401 once, not fail again there. The audit chain records who.
    settings["tm.annotate_user"] = False
    config.include("pyramid_tm")
    settings.setdefault("retry.activate_hook", "hashinsight_core.db.retry_attempts")
    config.include("pyramid_retry")

    engine = settings.get("hashinsight.engine") or engine_from_settings(settings)
    session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    config.registry["dbengine"] = engine
    config.registry["dbsession_factory"] = session_factory

    def dbsession(request):
        # Tests hand in a session bound to an outer transaction through the environ.
        session = request.environ.get("app.dbsession")
        if session is None:
            session = get_tm_session(session_factory, request.tm, request=request)
        return session

    config.add_request_method(dbsession, reify=True)
