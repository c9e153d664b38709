"""Security-relevant actions land in the audit chain, failures included."""

import sqlalchemy as sa

from hashinsight_core.audit.models import AuditEvent
from tests.conftest import PASSWORD, csrf_token, login, make_user


def tags(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.scalars(sa.select(AuditEvent.tag).order_by(AuditEvent.seq)).all()


def test_logins_failed_logins_and_logout_are_audited(webtest, engine):
    email, _ = make_user(engine, "viewer")
    webtest.post(
        "/login/",
        {"email": email, "password": "wrong password", "csrf_token": csrf_token(webtest)},
        status=400,
    )
    webtest.post(
        "/login/",
        {"email": email, "password": PASSWORD, "csrf_token": csrf_token(webtest)},
        status=303,
    )
    webtest.post("/logout/", {"csrf_token": csrf_token(webtest)}, status=303)
    assert tags(engine) == ["core:login:fail", "core:login:success", "core:session:logout"]
    with engine.connect() as conn:
        payload = conn.scalar(sa.select(AuditEvent.payload).order_by(AuditEvent.seq).limit(1))
    assert email in payload and PASSWORD not in payload


def test_account_administration_is_audited(make_app, engine):
    app, _ = make_app()
    login(app, engine, "owner")
    app.post(
        "/admin/users/",
        {"email": "new@example.com", "role": "viewer", "name": "", "csrf_token": csrf_token(app)},
        status=303,
    )
    app.post(
        "/admin/roles/",
        {
            "name": "reader",
            "title": "",
            "permissions": ["hosting:site:read"],
            "csrf_token": csrf_token(app),
        },
        status=303,
    )
    app.post(
        "/account/tokens/",
        {"name": "s", "days": "5", "scopes": ["hosting:site:read"], "csrf_token": csrf_token(app)},
    )
    found = tags(engine)
    for tag in ("core:login:success", "core:user:invite", "core:role:create", "core:token:create"):
        assert tag in found
    assert "hi_" not in "".join(found)
