"""Password reset and invitations by single-use, expiring e-mailed links."""

import datetime as dt
import re

import sqlalchemy as sa

from hashinsight_core import accounts
from hashinsight_core.models import User, UserToken
from hashinsight_core.tasks import run_in_request
from tests.conftest import PASSWORD, csrf_token, make_user

NEW_PASSWORD = "violet tractor humming 1987"


def outbox(registry):
    return registry["mailer"].outbox


def link_path(message) -> str:
    return re.search(r"http://localhost(/\S+)", message.body).group(1)


def ask_reset(app, email):
    return app.post("/password/forgot/", {"email": email, "csrf_token": csrf_token(app)})


def set_password(app, path, password=NEW_PASSWORD, confirm=None, status="*"):
    return app.post(
        path,
        {"password": password, "confirm": confirm or password, "csrf_token": csrf_token(app)},
        status=status,
    )


def login_status(app, email, password):
    return app.post(
        "/login/",
        {"email": email, "password": password, "csrf_token": csrf_token(app)},
        status="*",
    ).status_int


def test_reset_by_link_changes_the_password_once(app_and_registry, engine):
    app, registry = app_and_registry
    email, _ = make_user(engine, "operator")
    assert login_status(app, email, PASSWORD) == 303  # a session that must end

    page = ask_reset(app, email)
    assert page.html.find(attrs={"data-testid": "reset-sent"})
    [message] = outbox(registry)
    assert message.recipients == [email]
    path = link_path(message)
    assert app.get(path).status_int == 200

    assert "not the same" in set_password(app, path, confirm="something else", status=422).text
    response = set_password(app, path, status=303)
    assert response.location.endswith("/login/?changed=1")

    assert app.get("/api/v1/hosting/sites", status="*").status_int == 401  # old session ended
    assert login_status(app, email, PASSWORD) == 400
    assert login_status(app, email, NEW_PASSWORD) == 303

    again = set_password(app, path, "another fine passphrase 7", status=400)
    assert "already used" in again.text
    assert login_status(app, email, NEW_PASSWORD) == 303


def test_weak_new_password_is_refused_and_the_link_still_works(app_and_registry, engine):
    app, registry = app_and_registry
    email, _ = make_user(engine, "viewer")
    ask_reset(app, email)
    path = link_path(outbox(registry)[0])
    page = set_password(app, path, "password1234", status=422)
    assert "too common" in page.text
    set_password(app, path, status=303)


def test_unknown_address_gets_the_same_answer_and_no_mail(app_and_registry, engine):
    app, registry = app_and_registry
    page = ask_reset(app, "nobody@example.com")
    assert page.html.find(attrs={"data-testid": "reset-sent"})
    assert outbox(registry) == []


def test_expired_and_superseded_links_are_refused(app_and_registry, engine):
    app, registry = app_and_registry
    email, _ = make_user(engine, "viewer")
    ask_reset(app, email)
    ask_reset(app, email)
    first, second = (link_path(m) for m in outbox(registry))
    assert "already used" in app.get(first, status=400).text  # a newer link replaced it
    with engine.begin() as conn:
        past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)
        conn.execute(sa.update(UserToken).values(expires_at=past))
    assert "expired" in app.get(second, status=400).text
    set_password(app, second, status=400)
    assert login_status(app, email, PASSWORD) == 303  # nothing changed


def test_garbage_link_is_a_400_page(webtest):
    assert "expired" in webtest.get("/password/reset/" + "x" * 500 + "/", status=400).text


def test_invited_user_chooses_a_password_and_is_verified(app_and_registry, engine):
    app, registry = app_and_registry
    run_in_request(registry, lambda r: accounts.invite_user(r, "New.Tech@Example.com", "operator"))
    [message] = outbox(registry)
    assert message.recipients == ["new.tech@example.com"]
    assert login_status(app, "new.tech@example.com", "") == 400  # no password works yet
    set_password(app, link_path(message), status=303)
    assert login_status(app, "new.tech@example.com", NEW_PASSWORD) == 303
    with engine.connect() as conn:
        verified = conn.scalar(
            sa.select(User.email_verified_at).where(User.email == "new.tech@example.com")
        )
    assert verified is not None


def test_reset_mail_speaks_the_users_language(app_and_registry, engine):
    app, registry = app_and_registry
    email, _ = make_user(engine, "viewer")
    app.get("/language/zh")
    ask_reset(app, email)
    [message] = outbox(registry)
    assert message.subject == "重设密码"
    assert "一小时" in message.body
