"""Custom roles made by owners from the plugins' permissions."""

import sqlalchemy as sa

from hashinsight_core.models import User
from tests.conftest import csrf_token, login, make_user


def make_role(app, name, permissions, status="*"):
    return app.post(
        "/admin/roles/",
        {"name": name, "title": "test", "permissions": permissions, "csrf_token": csrf_token(app)},
        status=status,
    )


def give_role(engine, email, role):
    with engine.begin() as conn:
        conn.execute(sa.update(User).where(User.email == email).values(role=role))


def test_owner_makes_a_role_and_its_holder_gets_exactly_those_permissions(make_app, engine):
    owner, _ = make_app()
    login(owner, engine, "owner")
    page = owner.get("/admin/roles/")
    assert "hosting" in page.text and "core:user:manage" in page.text  # grouped checkboxes
    make_role(owner, "site-reader", ["hosting:site:read", "core:account:manage"], status=303)

    holder, _ = make_app()
    email = login(holder, engine, "viewer")
    give_role(engine, email, "site-reader")
    holder.get("/api/v1/hosting/sites", status=200)
    holder.get("/api/v1/crm/customers", status=403)  # a viewer could; this role cannot
    home = holder.get("/")
    assert 'data-route="hosting.site.list"' in home.text
    assert 'data-route="crm.customer.list"' not in home.text

    owner.post(
        "/admin/roles/site-reader/",
        {
            "title": "t",
            "permissions": ["crm:customer:read"],
            "action": "save",
            "csrf_token": csrf_token(owner),
        },
        status=303,
    )
    holder.get("/api/v1/hosting/sites", status=403)  # takes effect on the next request
    holder.get("/api/v1/crm/customers", status=200)


def test_bad_role_names_and_unknown_permissions_are_refused(webtest, engine):
    login(webtest, engine, "owner")
    assert "small letters" in make_role(webtest, "Bad Name!", [], status=422).text
    make_role(webtest, "viewer", [], status=409)
    assert (
        "Unknown permission" in make_role(webtest, "ok-name", ["mining:magic:do"], status=422).text
    )
    assert "ok-name" not in webtest.get("/admin/roles/").text


def test_admins_cannot_make_roles_or_give_roles_above_their_own(make_app, engine):
    owner, _ = make_app()
    login(owner, engine, "owner")
    make_role(owner, "super", ["core:role:manage", "core:user:manage"], status=303)
    make_role(owner, "reader", ["hosting:site:read"], status=303)
    admin, _ = make_app()
    login(admin, engine, "admin")
    admin.get("/admin/roles/", status=403)
    email, _ = make_user(engine, "viewer")
    with engine.connect() as conn:
        uid = conn.scalar(sa.select(User.id).where(User.email == email))
    form = {
        "name": "",
        "active": "on",
        "valid_from": "",
        "valid_until": "",
        "csrf_token": csrf_token(admin),
    }
    admin.post(f"/admin/users/{uid}/", {**form, "role": "super"}, status=422)
    admin.post(f"/admin/users/{uid}/", {**form, "role": "reader"}, status=303)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(User.role).where(User.id == uid)) == "reader"


def test_a_role_in_use_cannot_be_deleted(make_app, engine):
    owner, _ = make_app()
    login(owner, engine, "owner")
    make_role(owner, "temp", ["hosting:site:read"], status=303)
    email, _ = make_user(engine, "viewer")
    give_role(engine, email, "temp")
    delete = {"action": "delete", "csrf_token": csrf_token(owner)}
    assert "still have this role" in owner.post("/admin/roles/temp/", delete, status=409).text
    give_role(engine, email, "viewer")
    owner.post("/admin/roles/temp/", delete, status=303)
    owner.get("/admin/roles/temp/", status=404)
