"""Account administration by owners and admins, and one's own account page."""

import sqlalchemy as sa

from hashinsight_core.models import User
from tests.conftest import PASSWORD, csrf_token, login, make_user


def user_id(engine, email):
    with engine.connect() as conn:
        return conn.scalar(sa.select(User.id).where(User.email == email))


def user_row(engine, email):
    with engine.connect() as conn:
        return conn.execute(sa.select(User).where(User.email == email)).one()


def edit(app, uid, status="*", **fields):
    data = {
        "name": "",
        "role": "viewer",
        "active": "on",
        "valid_from": "",
        "valid_until": "",
        "csrf_token": csrf_token(app),
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return app.post(f"/admin/users/{uid}/", data, status=status)


def is_logged_in(app) -> bool:
    return app.get("/account/", status="*").status_int == 200


def test_admin_invites_a_user_who_gets_a_mail(app_and_registry, engine):
    app, registry = app_and_registry
    login(app, engine, "admin")
    response = app.post(
        "/admin/users/",
        {
            "email": "tech@example.com",
            "name": "Tech",
            "role": "operator",
            "csrf_token": csrf_token(app),
        },
    )
    assert response.status_int == 303
    page = response.follow()
    assert "tech@example.com" in page.text and "Invited" in page.text
    [message] = registry["mailer"].outbox
    assert message.recipients == ["tech@example.com"] and "/invitation/" in message.body


def test_admin_cannot_make_or_edit_owners(webtest, engine):
    login(webtest, engine, "admin")
    page = webtest.get("/admin/users/")
    assert '<option value="owner"' not in page.text
    webtest.post(
        "/admin/users/",
        {"email": "boss2@example.com", "role": "owner", "csrf_token": csrf_token(webtest)},
        status=422,
    )
    owner, _ = make_user(engine, "owner")
    edit(webtest, user_id(engine, owner), role="viewer", status=422)
    assert user_row(engine, owner).role == "owner"
    assert user_id(engine, "boss2@example.com") is None


def test_role_change_ends_the_users_sessions(make_app, engine):
    admin_app, _ = make_app()
    user_app, _ = make_app()
    login(admin_app, engine, "admin")
    email = login(user_app, engine, "operator")
    assert is_logged_in(user_app)
    assert edit(admin_app, user_id(engine, email), role="viewer", name="Op").status_int == 303
    assert user_row(engine, email).role == "viewer"
    assert not is_logged_in(user_app)


def test_access_period_must_make_sense_and_nothing_changes_otherwise(webtest, engine):
    login(webtest, engine, "admin")
    email, _ = make_user(engine, "viewer")
    uid = user_id(engine, email)
    page = edit(
        webtest, uid, name="Changed", valid_from="2026-12-31", valid_until="2026-01-01", status=422
    )
    assert "before the start date" in page.text
    bad = edit(webtest, uid, name="Changed", valid_until="31/12/2026", status=422)
    assert "2026-12-31" in bad.text
    row = user_row(engine, email)
    assert row.name == "Viewer" and row.valid_until is None
    edit(webtest, uid, name="Changed", valid_until="2030-01-31", status=303)
    assert str(user_row(engine, email).valid_until) == "2030-01-31"


def test_admin_cannot_switch_themselves_off(webtest, engine):
    email = login(webtest, engine, "admin")
    page = edit(webtest, user_id(engine, email), role="admin", active=None, status=422)
    assert "yourself" in page.text
    assert user_row(engine, email).is_active


def test_log_out_everywhere_for_another_user(make_app, engine):
    admin_app, _ = make_app()
    user_app, _ = make_app()
    login(admin_app, engine, "admin")
    email = login(user_app, engine, "viewer")
    page = admin_app.get(f"/admin/users/{user_id(engine, email)}/")
    assert "192.0.2.10" in page.text  # the open session is listed
    admin_app.post(
        f"/admin/users/{user_id(engine, email)}/end-sessions",
        {"csrf_token": csrf_token(admin_app)},
        status=303,
    )
    assert not is_logged_in(user_app)


def test_only_admins_reach_the_users_pages(webtest, engine):
    login(webtest, engine, "operator")
    webtest.get("/admin/users/", status=403)
    assert 'data-route="core.admin.user.list"' not in webtest.get("/").text


def test_unknown_user_is_404(webtest, engine):
    login(webtest, engine, "admin")
    webtest.get("/admin/users/99999/", status=404)


def test_changing_my_password_keeps_this_browser_and_ends_the_others(make_app, engine):
    here, _ = make_app()
    there, _ = make_app()
    email = login(here, engine, "viewer")
    there.post(
        "/login/",
        {"email": email, "password": PASSWORD, "csrf_token": csrf_token(there)},
        status=303,
    )
    form = {
        "current": "wrong one",
        "password": "saffron kettle marathon",
        "confirm": "saffron kettle marathon",
        "csrf_token": csrf_token(here),
    }
    assert "not right" in here.post("/account/", form, status=422).text
    form["current"] = PASSWORD
    here.post("/account/", form, status=303)
    assert is_logged_in(here)
    assert not is_logged_in(there)


def test_log_out_everywhere_from_my_account(webtest, engine):
    login(webtest, engine, "customer")
    webtest.post(
        "/account/", {"action": "end-sessions", "csrf_token": csrf_token(webtest)}, status=303
    )
    assert not is_logged_in(webtest)
