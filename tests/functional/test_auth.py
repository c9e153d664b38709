"""Logging in and staying logged in: sessions, timeouts, access periods, throttling."""

import datetime as dt

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from hashinsight_core import accounts
from hashinsight_core.models import User, UserSession
from tests.conftest import PASSWORD, REDIS_URL, api_headers, csrf_token, make_user, unavailable


def post_login(app, email, password=PASSWORD, status="*"):
    return app.post(
        "/login/",
        {"email": email, "password": password, "csrf_token": csrf_token(app)},
        status=status,
    )


def whoami_status(app) -> int:
    return app.get("/api/v1/hosting/sites", status="*").status_int


def update_user(engine, email, **values):
    with engine.begin() as conn:
        conn.execute(sa.update(User).where(User.email == email).values(**values))


def test_login_issues_a_fresh_session_id_never_the_one_offered(webtest, engine):
    email, _ = make_user(engine, "admin")
    webtest.set_cookie("hi_session", "planted-by-an-attacker")
    post_login(webtest, email, status=303)
    first = webtest.cookies["hi_session"]
    assert first != "planted-by-an-attacker"
    post_login(webtest, email, status=303)
    assert webtest.cookies["hi_session"] != first
    with engine.connect() as conn:
        stored = conn.scalars(sa.select(UserSession.token_hash)).all()
    assert first not in stored  # only the SHA-256 is kept


@pytest.mark.parametrize(
    "change",
    [
        lambda user: accounts.change_password(user, "a brand new passphrase 42"),
        lambda user: accounts.set_active(user, False),
        lambda user: accounts.set_role(user, "viewer"),
        lambda user: user.end_all_sessions(),
    ],
    ids=["password change", "disable", "role change", "log out everywhere"],
)
def test_account_changes_end_every_session(make_app, engine, change):
    app, _ = make_app()
    other, _ = make_app()
    email, _ = make_user(engine, "admin")
    post_login(app, email, status=303)
    post_login(other, email, status=303)
    assert whoami_status(app) == 200 and whoami_status(other) == 200
    with sa.orm.Session(engine) as session:
        change(session.scalar(sa.select(User).where(User.email == email)))
        session.commit()
    assert whoami_status(app) == 401
    assert whoami_status(other) == 401


def test_idle_and_absolute_timeouts(make_app, engine):
    app, _ = make_app(session__idle_minutes="30", session__absolute_hours="12")
    email, _ = make_user(engine, "admin")
    post_login(app, email, status=303)
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=31)
    with engine.begin() as conn:
        conn.execute(sa.update(UserSession).values(last_seen_at=old))
    assert whoami_status(app) == 401

    post_login(app, email, status=303)
    long_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=13)
    with engine.begin() as conn:  # active all along, but began more than 12 h ago
        conn.execute(sa.update(UserSession).values(created_at=long_ago))
    assert whoami_status(app) == 401


def test_access_period_refuses_login_with_a_clear_message(webtest, engine):
    email, _ = make_user(engine, "admin")
    today = dt.date.today()
    update_user(engine, email, valid_until=today - dt.timedelta(days=1))
    page = post_login(webtest, email, status=400)
    assert "has expired" in page.text and "hi_session" not in webtest.cookies
    update_user(engine, email, valid_until=None, valid_from=today + dt.timedelta(days=3))
    page = post_login(webtest, email, status=400)
    assert (today + dt.timedelta(days=3)).isoformat() in page.text
    update_user(engine, email, valid_from=today - dt.timedelta(days=1))
    post_login(webtest, email, status=303)


def test_session_ends_when_the_access_period_ends(webtest, engine):
    email, _ = make_user(engine, "admin")
    post_login(webtest, email, status=303)
    assert whoami_status(webtest) == 200
    update_user(engine, email, valid_until=dt.date.today() - dt.timedelta(days=1))
    assert whoami_status(webtest) == 401


def test_disabled_account_cannot_log_in(webtest, engine):
    email, _ = make_user(engine, "admin")
    update_user(engine, email, is_active=False)
    assert "switched off" in post_login(webtest, email, status=400).text


def test_throttle_after_repeated_failures_answers_429_with_retry_time(make_app, engine):
    app, _ = make_app(auth__throttle__limit="3/5minutes")
    email, _ = make_user(engine, "admin")
    for _ in range(3):
        post_login(app, email, "wrong password", status=400)
    page = post_login(app, email, status=429)  # even the right password waits now
    assert int(page.headers["Retry-After"]) > 0
    assert "Too many failed logins" in page.text
    assert "hi_session" not in app.cookies


def test_throttle_counts_per_ip_across_accounts(make_app, engine):
    app, _ = make_app(auth__throttle__limit="3/5minutes")
    emails = [make_user(engine, "viewer")[0] for _ in range(4)]
    for email in emails[:3]:
        post_login(app, email, "wrong password", status=400)
    post_login(app, emails[3], status=429)


def test_throttle_fails_open_when_redis_is_down(make_app, engine, caplog):
    app, _ = make_app(
        auth__throttle__storage="redis",
        auth__throttle__limit="2/5minutes",
        redis__url="redis://127.0.0.1:1/0",
    )
    email, _ = make_user(engine, "admin")
    for _ in range(4):
        post_login(app, email, "wrong password", status=400)
    post_login(app, email, status=303)
    assert "throttle storage unavailable" in caplog.text


@pytest.mark.redis
def test_throttle_in_redis_is_shared_between_processes(make_app, engine):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
    except redis.RedisError as error:
        unavailable("Redis", str(error))
    settings = dict(
        auth__throttle__storage="redis", auth__throttle__limit="2/5minutes", redis__url=REDIS_URL
    )
    first, _ = make_app(**settings)
    second, _ = make_app(**settings)  # another web process
    email, _ = make_user(engine, "admin")
    post_login(first, email, "wrong password", status=400)
    post_login(second, email, "wrong password", status=400)
    post_login(first, email, status=429)


@pytest.mark.redis
def test_sessions_in_redis(make_app, engine):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        unavailable("Redis", str(error))
    app, _ = make_app(session__backend="redis", redis__url=REDIS_URL)
    email, _ = make_user(engine, "admin")
    post_login(app, email, status=303)
    assert whoami_status(app) == 200
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
    cookie = app.cookies["hi_session"]
    app.post("/logout/", {"csrf_token": csrf_token(app)}, status=303)
    app.set_cookie("hi_session", cookie)
    assert whoami_status(app) == 401
    post_login(app, email, status=303)
    with sa.orm.Session(engine) as session:
        session.scalar(sa.select(User).where(User.email == email)).end_all_sessions()
        session.commit()
    assert whoami_status(app) == 401


def test_old_hash_parameters_are_upgraded_at_login(webtest, engine):
    email, _ = make_user(engine, "admin")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    update_user(engine, email, password_hash=weak)
    post_login(webtest, email, status=303)
    with engine.connect() as conn:
        stored = conn.scalar(sa.select(User.password_hash).where(User.email == email))
    assert stored != weak and "m=19456,t=2,p=1" in stored


def test_foreign_origin_is_refused_even_with_a_valid_token(webtest, login_as):
    login_as("admin")
    headers = {**api_headers(webtest), "Origin": "http://evil.example"}
    error = webtest.post_json(
        "/api/v1/hosting/sites", {"name": "X"}, headers=headers, status=400
    ).json
    assert "Origin" in error["error"]["message"]
    same = {**api_headers(webtest), "Origin": "http://localhost"}
    webtest.post_json("/api/v1/hosting/sites", {"name": "X"}, headers=same, status=201)


def test_login_form_with_foreign_origin_is_refused(webtest, engine):
    email, _ = make_user(engine, "admin")
    webtest.post(
        "/login/",
        {"email": email, "password": PASSWORD, "csrf_token": csrf_token(webtest)},
        headers={"Origin": "null"},
        status=400,
    )
    assert "hi_session" not in webtest.cookies
