"""Shared fixtures.

The backend comes from ``HASHINSIGHT_TEST_DB``: ``sqlite`` (default) or ``postgresql``. Each
test run gets its own database: a SQLite file in a temporary folder, or a fresh schema in the
PostgreSQL database ``test`` (dropped at the end). The schema is built by the real alembic
migrations of the core and every shipped plugin, so every test also exercises them.

Functional tests talk to the real app through WebTest with real commits; after each test the
tables are emptied, so no test sees another's rows.
"""

from __future__ import annotations

import os
import secrets
import uuid

import pytest
import sqlalchemy as sa
import transaction
from webtest import TestApp

from hashinsight_core import make_config
from hashinsight_core.db import get_tm_session, make_engine, metadata

ALL_PLUGINS = [
    "calculator",
    "crm",
    "hosting",
    "controlplane",
    "curtailment",
    "treasury",
    "intelligence",
]
PG_URL = os.environ.get(
    "HASHINSIGHT_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HASHINSIGHT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def shared_data_dir():
    """The public price/difficulty history the tests may read (never the product):
    ``$HASHINSIGHT_SHARED_DATA``, else ``../shared/data`` beside the checkout, else the
    workspace's copy (a clean clone elsewhere, as CI makes, still finds it)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for candidate in (
        os.environ.get("HASHINSIGHT_SHARED_DATA"),
        root.parent / "shared" / "data",
        "/work/shared/data",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return root.parent / "shared" / "data"


PASSWORD = "correct horse battery staple"
# One secret for the whole run, like every web process of one deployment shares one.
SECRET = secrets.token_urlsafe(40)


def backend() -> str:
    return os.environ.get("HASHINSIGHT_TEST_DB", "sqlite")


def unavailable(what: str, reason: str):
    """Skip outside CI; in CI a missing service is a failure, never a skip."""
    message = f"{what} is not reachable ({reason})"
    if IN_CI:
        pytest.fail(message + " - CI must run this test", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    """A migrated database of our own for this test run (all shipped plugins)."""
    from hashinsight_core import migrate

    if backend() == "postgresql":
        schema = f"test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(PG_URL)
        try:
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        except sa.exc.OperationalError as error:
            unavailable("PostgreSQL", str(error).splitlines()[0])
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        migrate.upgrade(url, ALL_PLUGINS)
        yield url
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite"
        url = f"sqlite:///{path}"
        migrate.upgrade(url, ALL_PLUGINS)
        yield url


@pytest.fixture(scope="session")
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def base_settings(db_url: str | None = None, **overrides) -> dict:
    settings = {
        "sqlalchemy.url": db_url or "sqlite://",
        "hashinsight.plugins": " ".join(ALL_PLUGINS),
        "hashinsight.secret": SECRET,
        "huey.backend": "memory",
        "huey.immediate": "true",
        # Market refreshes (queued by any page that shows prices) answer from recorded
        # provider responses, never the network.
        "market.transport": "tests.fixtures.market.recorded:transport",
    }
    settings.update({k.replace("__", "."): v for k, v in overrides.items()})
    return settings


@pytest.fixture
def make_app(db_url, engine):
    """Build the app: ``make_app(plugins=[...], **settings)`` -> (TestApp, registry).

    Settings keys may use ``__`` for dots (``brand__name="Acme"``).
    """

    def factory(plugins=None, **overrides):
        settings = base_settings(db_url, **overrides)
        if plugins is not None:
            settings["hashinsight.plugins"] = " ".join(plugins)
        settings["hashinsight.engine"] = engine
        config = make_config(settings, environ={})
        app = config.make_wsgi_app()
        # REMOTE_ADDR is only a string here (a documentation address): nothing is sent.
        environ = {"HTTP_HOST": "localhost", "REMOTE_ADDR": "192.0.2.10"}
        return TestApp(app, extra_environ=environ), config.registry

    return factory


@pytest.fixture
def registry(app_and_registry):
    return app_and_registry[1]


@pytest.fixture
def app_and_registry(make_app):
    return make_app()


@pytest.fixture
def webtest(app_and_registry):
    """The app with every shipped plugin, as a browser-like client."""
    return app_and_registry[0]


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after a test that touched the database."""
    yield
    if "engine" not in request.fixturenames:
        return
    engine = request.getfixturevalue("engine")
    tables = [t for t in reversed(metadata.sorted_tables) if sa.inspect(engine).has_table(t.name)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            if tables:
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def dbsession(engine):
    """A session for arranging and checking rows, outside any request.

    ``dbsession.commit_now()`` commits what was added so the app sees it, and starts a new
    transaction for the rest of the test; anything left uncommitted is rolled back.
    """
    factory = sa.orm.sessionmaker(bind=engine, expire_on_commit=False)
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    session = get_tm_session(factory, tm)
    session.tm = tm

    def commit_now():
        tm.commit()
        tm.begin()

    session.commit_now = commit_now
    yield session
    tm.abort()
    session.close()


def make_user(
    engine, role: str, email: str | None = None, password: str = PASSWORD, customer_id=None
):
    """Create and commit an account (of ``customer_id`` if given); returns (email, password)."""
    from hashinsight_core.models import User
    from hashinsight_core.passwords import hash_password

    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    with sa.orm.Session(engine) as session:
        session.add(
            User(
                email=email,
                name=role.title(),
                role=role,
                password_hash=hash_password(password),
                customer_id=customer_id,
            )
        )
        session.commit()
    return email, password


def csrf_token(app: TestApp) -> str:
    """The CSRF token of this client (fetched from a page if there is none yet)."""
    token = app.cookies.get("csrf_token")
    if not token:
        app.get("/login/")
        token = app.cookies["csrf_token"]
    return token


def login(app: TestApp, engine, role: str = "owner", email: str | None = None, customer_id=None):
    email, password = make_user(engine, role, email, customer_id=customer_id)
    response = app.post(
        "/login/", {"email": email, "password": password, "csrf_token": csrf_token(app)}
    )
    assert response.status_int == 303, response.text[:500]
    return email


@pytest.fixture
def login_as(webtest, engine):
    """``login_as("operator")`` logs the ``webtest`` client in as a new user of that role."""
    return lambda role="owner", email=None: login(webtest, engine, role, email)


def api_headers(app: TestApp) -> dict:
    return {"X-CSRF-Token": csrf_token(app)}
