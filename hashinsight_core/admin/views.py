from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core import accounts, mfa, roles, tokens
from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.models import ApiToken, Customer, Membership, Role, User
from hashinsight_core.passwords import verify_password
from hashinsight_core.permissions import CorePermission
from hashinsight_core.scoping import places
from hashinsight_core.security import BUILTIN_ROLES as BUILTIN_ROLE_NAMES

_ = TranslationStringFactory("hashinsight")
LIST = "hashinsight_core:templates/admin/users.jinja2"
EDIT = "hashinsight_core:templates/admin/user.jinja2"
ACCOUNT = "hashinsight_core:templates/admin/account.jinja2"
MFA = "hashinsight_core:templates/admin/mfa.jinja2"
PAGE_SIZE = 100


def parse_date(value: str, field: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Please enter a date like 2026-12-31."), field) from None


def assignable_roles(request) -> list[str]:
    return roles.assignable(request, request.user)


def check_assignable(request, role: str) -> None:
    if role not in assignable_roles(request):
        raise InvalidInput(_("You cannot give this role."), "role")


def parse_customer(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(_("There is no such customer."), "customer_id")
    return int(value)


def customer_choices(request) -> list[Customer]:
    return request.dbsession.scalars(
        sa.select(Customer).where(Customer.status != "ended").order_by(Customer.name)
    ).all()


def customer_names(request, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = request.dbsession.execute(
        sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids))
    )
    return dict(rows.all())


def get_user(request) -> User:
    user = request.dbsession.get(User, int(request.matchdict["user_id"]))
    if user is None:
        raise HTTPNotFound()
    return user


def list_values(request, **extra) -> dict:
    q = request.GET.get("q", "").strip()[:100]
    query = sa.select(User).order_by(User.email)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            sa.or_(sa.func.lower(User.email).like(pattern), sa.func.lower(User.name).like(pattern))
        )
    users = request.dbsession.scalars(query.limit(PAGE_SIZE + 1)).all()
    return {
        "users": users[:PAGE_SIZE],
        "customers": customer_choices(request),
        "customer_names": customer_names(request, [u.customer_id for u in users]),
        "more": len(users) > PAGE_SIZE,
        "q": q,
        "roles": assignable_roles(request),
        "today": dt.date.today(),
        "form": {},
        "error": None,
        **extra,
    }


@view_config(
    route_name="core.admin.user.list",
    renderer=LIST,
    request_method="GET",
    permission=CorePermission.USERS_MANAGE,
)
def user_list(request):
    return list_values(request, invited=request.GET.get("invited"))


@view_config(
    route_name="core.admin.user.list",
    renderer=LIST,
    request_method="POST",
    permission=CorePermission.USERS_MANAGE,
)
def user_invite(request):
    form = {k: request.POST.get(k, "") for k in ("email", "name", "role", "customer_id")}
    try:
        check_assignable(request, form["role"])
        user = accounts.invite_user(
            request,
            form["email"],
            form["role"],
            form["name"],
            parse_customer(form["customer_id"]),
        )
        request.audit(
            "core:user:invite",
            subject=("user", user.id),
            payload={"email": user.email, "role": user.role, "customer_id": user.customer_id},
        )
    except DomainError as error:
        request.response.status_int = error.status
        return list_values(request, form=form, error=error.message)
    return HTTPSeeOther(request.route_path("core.admin.user.list", _query={"invited": user.email}))


def membership_rows(request, user: User) -> list[dict]:
    offered = places(request)
    rows = request.dbsession.scalars(
        sa.select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    ).all()
    return [
        {
            "id": m.id,
            "label": offered[key].label if key in offered else _("(removed place)"),
        }
        for m in rows
        for key in [f"{m.site_id}:{m.zone_id or ''}"]
    ]


def edit_values(request, user: User, **extra) -> dict:
    return {
        "customers": customer_choices(request),
        "customer_names": customer_names(request, [user.customer_id]),
        "memberships": membership_rows(request, user),
        "places": sorted(places(request).values(), key=lambda p: p.label),
        "mfa_enabled": mfa.is_enabled(request.dbsession, user),
        "user": user,
        "roles": assignable_roles(request),
        "sessions": request.sessions.store.for_user(user.id),
        "can_edit": accounts.can_manage(request.user, user),
        "error": None,
        "notice": None,
        **extra,
    }


@view_config(
    route_name="core.admin.user.edit",
    renderer=EDIT,
    request_method="GET",
    permission=CorePermission.USERS_MANAGE,
)
def user_edit_form(request):
    user = get_user(request)
    notices = {
        "reset": _("A link to choose a new password was sent."),
        "ended": _("Every session of this account was ended."),
        "mfa": _("Two-step login was turned off; they can set it up again."),
        "saved": _("Saved"),
        "place-added": _("The account now sees only its places."),
        "place-removed": _("The place was removed."),
    }
    return edit_values(request, user, notice=notices.get(request.GET.get("done", "")))


@view_config(
    route_name="core.admin.user.edit",
    renderer=EDIT,
    request_method="POST",
    permission=CorePermission.USERS_MANAGE,
)
def user_edit(request):
    user = get_user(request)
    post = request.POST
    try:
        if post.get("role", user.role) != user.role:
            check_assignable(request, post.get("role", user.role))
        accounts.update_user(
            request.user,
            user,
            name=post.get("name", ""),
            role=post.get("role", user.role),
            active=post.get("active") == "on",
            valid_from=parse_date(post.get("valid_from", ""), "valid_from"),
            valid_until=parse_date(post.get("valid_until", ""), "valid_until"),
            customer_id=parse_customer(post.get("customer_id", str(user.customer_id or ""))),
        )
    except DomainError as error:  # update_user checks everything before changing anything
        request.response.status_int = error.status
        return edit_values(request, user, error=error.message)
    request.audit(
        "core:user:update",
        subject=("user", user.id),
        payload={
            "role": user.role,
            "active": user.is_active,
            "name": user.name,
            "valid_from": str(user.valid_from or ""),
            "valid_until": str(user.valid_until or ""),
            "customer_id": user.customer_id,
        },
    )
    return HTTPSeeOther(
        request.route_path("core.admin.user.edit", user_id=user.id, _query={"done": "saved"})
    )


@view_config(
    route_name="core.admin.user.action",
    request_method="POST",
    permission=CorePermission.USERS_MANAGE,
)
def user_action(request):
    user = get_user(request)
    if not accounts.can_manage(request.user, user):
        raise HTTPNotFound()
    action = request.matchdict["action"]
    if action == "reset":
        accounts.request_password_reset(request, user.email)
        done = "reset"
        request.audit("core:user:password-link", subject=("user", user.id))
    elif action == "reset-mfa":
        mfa.remove(request.dbsession, user)
        user.end_all_sessions()
        done = "mfa"
        request.audit("core:mfa:reset", subject=("user", user.id))
    else:
        user.end_all_sessions()
        request.sessions.store.delete_for_user(user.id)
        done = "ended"
        request.audit("core:session:end-all", subject=("user", user.id))
    return HTTPSeeOther(
        request.route_path("core.admin.user.edit", user_id=user.id, _query={"done": done})
    )


@view_config(
    route_name="core.admin.user.membership",
    renderer=EDIT,
    request_method="POST",
    permission=CorePermission.USERS_MANAGE,
)
def user_membership(request):
    """Limit an account to a site or zone, or lift one limit."""
    user = get_user(request)
    if not accounts.can_manage(request.user, user):
        raise HTTPNotFound()
    remove = request.POST.get("remove", "")
    if remove:
        membership = request.dbsession.get(Membership, int(remove)) if remove.isdigit() else None
        if membership is None or membership.user_id != user.id:
            request.response.status_int = 400
            return edit_values(request, user, error=_("There is no such place."))
        payload = {"site_id": membership.site_id, "zone_id": membership.zone_id}
        request.dbsession.delete(membership)
        request.audit("core:membership:remove", subject=("user", user.id), payload=payload)
        done = "place-removed"
    else:
        place = places(request).get(request.POST.get("place", ""))
        if place is None:
            request.response.status_int = 400
            return edit_values(request, user, error=_("There is no such place."))
        exists = request.dbsession.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.site_id == place.site_id,
                Membership.zone_id.is_(None)
                if place.zone_id is None
                else Membership.zone_id == place.zone_id,
            )
        )
        if exists is None:
            request.dbsession.add(
                Membership(user_id=user.id, site_id=place.site_id, zone_id=place.zone_id)
            )
            request.audit(
                "core:membership:add",
                subject=("user", user.id),
                payload={"site_id": place.site_id, "zone_id": place.zone_id},
            )
        done = "place-added"
    return HTTPSeeOther(
        request.route_path("core.admin.user.edit", user_id=user.id, _query={"done": done})
    )


# --- one's own account --------------------------------------------------------------------


def account_values(request, **extra) -> dict:
    return {
        "sessions": request.sessions.store.for_user(request.user.id),
        "tokens": tokens.user_tokens(request.dbsession, request.user),
        "scopes": tokens.held_permissions(request, request.user),
        "now": utcnow(),
        "new_token": None,
        "error": None,
        "notice": None,
        **extra,
    }


@view_config(
    route_name="core.account.token.create",
    renderer=ACCOUNT,
    request_method="POST",
    permission=CorePermission.ACCOUNT_VIEW,
)
def token_create(request):
    try:
        days = int(request.POST.get("days") or 90)
    except ValueError:
        days = 0
    try:
        row, secret = tokens.create_token(
            request, request.user, request.POST.get("name", ""), request.POST.getall("scopes"), days
        )
    except DomainError as error:
        request.response.status_int = error.status
        return account_values(request, error=error.message)
    request.audit(
        "core:token:create",
        subject=("api_token", row.id),
        payload={
            "name": row.name,
            "scopes": row.scopes,
            "expires_at": row.expires_at.isoformat(),
        },
    )
    # The secret is shown on this answer only; it is never stored or shown again.
    request.response.headers["Cache-Control"] = "no-store"
    return account_values(request, new_token=secret)


@view_config(
    route_name="core.account.token.revoke",
    request_method="POST",
    permission=CorePermission.ACCOUNT_VIEW,
)
def token_revoke(request):
    token = request.dbsession.get(ApiToken, int(request.matchdict["token_id"]))
    if token is None or token.user_id != request.user.id:
        raise HTTPNotFound()
    tokens.revoke(token)
    request.audit("core:token:revoke", subject=("api_token", token.id))
    return HTTPSeeOther(request.route_path("core.account"))


@view_config(
    route_name="core.account",
    renderer=ACCOUNT,
    request_method="GET",
    permission=CorePermission.ACCOUNT_VIEW,
)
def account(request):
    return account_values(request)


@view_config(
    route_name="core.account",
    renderer=ACCOUNT,
    request_method="POST",
    permission=CorePermission.ACCOUNT_VIEW,
)
def account_change(request):
    user = request.user
    post = request.POST
    if post.get("action") == "end-sessions":
        user.end_all_sessions()
        request.sessions.store.delete_for_user(user.id)
        request.audit("core:session:end-all", subject=("user", user.id))
        response = HTTPSeeOther(request.route_path("core.login"))
        request.sessions.end(request, response)
        return response
    try:
        if not verify_password(user.password_hash, post.get("current", "")):
            raise InvalidInput(_("Your current password is not right."), "current")
        if post.get("password", "") != post.get("confirm", ""):
            raise InvalidInput(_("The two passwords are not the same."), "confirm")
        accounts.change_password(user, post.get("password", ""))
    except DomainError as error:
        request.response.status_int = error.status
        return account_values(request, error=error.message)
    request.audit("core:user:password-change", subject=("user", user.id))
    # The change ended every session, this one too: start a fresh one for this browser.
    response = HTTPSeeOther(request.route_path("core.account"))
    request.sessions.start(request, user, response)
    return response


# --- two-step login (TOTP) ----------------------------------------------------------------


def mfa_values(request, **extra) -> dict:
    import segno

    user = request.user
    values = {
        "enabled": mfa.is_enabled(request.dbsession, user),
        "recovery_codes": None,
        "required": user.role in required_roles(request),
        "error": None,
        **extra,
    }
    if not values["enabled"] and not values["recovery_codes"]:
        secret = mfa.pending_secret(request, user)
        if secret is None:
            secret, _uri = mfa.begin_enrolment(request, user)
        uri = mfa.provisioning_uri(request, user, secret)
        values.update(
            secret=secret,
            qr=segno.make(uri, error="m").svg_data_uri(scale=5, dark="#111", light="#fff"),
        )
    return values


def required_roles(request) -> set[str]:
    return request.registry["mfa_required_roles"]


@view_config(route_name="core.account.mfa", renderer=MFA, permission=CorePermission.ACCOUNT_VIEW)
def account_mfa(request):
    user = request.user
    if request.method != "POST":
        return mfa_values(request)
    action = request.POST.get("action")
    try:
        if action == "confirm":
            codes = mfa.confirm_enrolment(request, user, request.POST.get("code", ""))
            request.audit("core:mfa:enable", subject=("user", user.id))
            return mfa_values(request, enabled=True, recovery_codes=codes)
        if action in {"off", "restart"}:
            if not verify_password(user.password_hash, request.POST.get("password", "")):
                raise InvalidInput(_("Your current password is not right."), "password")
            if action == "off" and user.role in required_roles(request):
                raise InvalidInput(
                    _("Your role needs two-step login. You can move it to a new phone instead."),
                    "action",
                )
            mfa.remove(request.dbsession, user)
            request.audit(
                f"core:mfa:{'restart' if action == 'restart' else 'disable'}",
                subject=("user", user.id),
            )
            if action == "restart":
                request.dbsession.flush()
                mfa.begin_enrolment(request, user)
            return HTTPSeeOther(request.route_path("core.account.mfa"))
    except DomainError as error:
        request.response.status_int = error.status
        return mfa_values(request, error=error.message)
    return HTTPSeeOther(request.route_path("core.account.mfa"))


# --- roles (owners) -------------------------------------------------------------------------

ROLES = "hashinsight_core:templates/admin/roles.jinja2"
ROLE = "hashinsight_core:templates/admin/role.jinja2"


def role_values(request, **extra) -> dict:
    return {
        "builtin": {r: roles.builtin_grants(request.registry, r) for r in BUILTIN_ROLE_NAMES},
        "custom": roles.custom_roles(request.dbsession),
        "groups": roles.grouped(request.registry),
        "error": None,
        "form": {},
        **extra,
    }


@view_config(
    route_name="core.admin.role.list",
    renderer=ROLES,
    request_method="GET",
    permission=CorePermission.ROLES_MANAGE,
)
def role_list(request):
    return role_values(request)


@view_config(
    route_name="core.admin.role.list",
    renderer=ROLES,
    request_method="POST",
    permission=CorePermission.ROLES_MANAGE,
)
def role_create(request):
    form = {
        "name": request.POST.get("name", ""),
        "title": request.POST.get("title", ""),
        "permissions": request.POST.getall("permissions"),
    }
    try:
        role = roles.save_role(request, form["name"], form["title"], form["permissions"])
        request.audit(
            "core:role:create",
            subject=("role", role.name),
            payload={"permissions": role.permissions},
        )
    except DomainError as error:
        request.response.status_int = error.status
        return role_values(request, error=error.message, form=form)
    return HTTPSeeOther(request.route_path("core.admin.role.edit", name=role.name))


def get_role(request) -> Role:
    role = request.dbsession.scalar(sa.select(Role).where(Role.name == request.matchdict["name"]))
    if role is None:
        raise HTTPNotFound()
    return role


@view_config(
    route_name="core.admin.role.edit",
    renderer=ROLE,
    request_method="GET",
    permission=CorePermission.ROLES_MANAGE,
)
def role_edit_form(request):
    return {"role": get_role(request), "groups": roles.grouped(request.registry), "error": None}


@view_config(
    route_name="core.admin.role.edit",
    renderer=ROLE,
    request_method="POST",
    permission=CorePermission.ROLES_MANAGE,
)
def role_edit(request):
    role = get_role(request)
    try:
        if request.POST.get("action") == "delete":
            roles.delete_role(request, role)
            request.audit("core:role:delete", subject=("role", role.name))
            return HTTPSeeOther(request.route_path("core.admin.role.list"))
        roles.save_role(
            request,
            role.name,
            request.POST.get("title", ""),
            request.POST.getall("permissions"),
            role=role,
        )
        request.audit(
            "core:role:update",
            subject=("role", role.name),
            payload={"permissions": role.permissions},
        )
    except DomainError as error:
        request.response.status_int = error.status
        return {"role": role, "groups": roles.grouped(request.registry), "error": error.message}
    # Grants are read from the database on every request: holders get them at once.
    return HTTPSeeOther(request.route_path("core.admin.role.edit", name=role.name))
