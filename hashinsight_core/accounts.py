"""Accounts: the rules for logging in and for changing an account, in one place.

Used by the login page, the admin pages, the CLI and the tests, so that a rule (a password
check, ending sessions on a role change, …) cannot be forgotten by one of them.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, DomainError, InvalidInput
from hashinsight_core.models import INVITED, User, UserToken
from hashinsight_core.passwords import (
    WeakPassword,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from hashinsight_core.security import BUILTIN_ROLES
from hashinsight_core.sessions import access_problem, token_digest

MAX_EMAIL = 254

_ = TranslationStringFactory("hashinsight")

# Verifying against a real hash when the e-mail is unknown keeps the answer time the same,
# so response timing does not tell which addresses have accounts.
_DUMMY_HASH = hash_password("not-a-real-password-only-for-timing")


class LoginRefused(DomainError):
    status = 400
    code = "login_refused"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            _(
                "Too many failed logins. Please try again in ${minutes} min.",
                mapping={"minutes": minutes},
            )
        )
        self.retry_after = retry_after


WRONG_LOGIN = _("That e-mail and password do not match an active account.")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or len(email) > MAX_EMAIL or " " in email:
        raise InvalidInput(
            _("'${email}' is not an e-mail address", mapping={"email": email[:80]}), "email"
        )
    return email


def authenticate(request, email: str, password: str) -> User:
    """Check a login attempt; return the user or raise LoginRefused / TooManyAttempts."""
    throttle = request.registry["login_throttle"]
    email = (email or "").strip().lower()[:MAX_EMAIL]
    wait = throttle.retry_after(email, request.client_addr)
    if wait:
        raise TooManyAttempts(wait)
    user = request.dbsession.scalar(sa.select(User).where(User.email == email)) if email else None
    valid = verify_password(user.password_hash if user else _DUMMY_HASH, password[:1024])
    if user is None or not valid:
        throttle.failed(email, request.client_addr)
        raise LoginRefused(WRONG_LOGIN)
    problem = access_problem(user, utcnow().date())
    if problem:
        raise LoginRefused(problem)
    throttle.reset(email)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def check_customer(dbsession, role: str, customer_id: int | None) -> None:
    """Customer users must belong to a customer, and the customer must exist."""
    from hashinsight_core.models import Customer

    if customer_id is None:
        if role == "customer":
            raise InvalidInput(_("Choose the customer this account belongs to."), "customer_id")
        return
    exists = dbsession.scalar(
        sa.select(Customer.id).where(Customer.id == customer_id).execution_options(unscoped=True)
    )
    if exists is None:
        raise InvalidInput(_("There is no such customer."), "customer_id")
    if role in {"owner", "admin"}:
        raise InvalidInput(
            _("Owners and admins see every customer; they cannot belong to one."), "customer_id"
        )


def create_user(
    dbsession,
    email: str,
    password: str,
    role: str,
    name: str = "",
    customer_id: int | None = None,
) -> User:
    email = normalize_email(email)
    if not role_exists(dbsession, role):
        raise InvalidInput(
            _(
                "unknown role '${role}' (use one of: ${roles})",
                mapping={"role": role, "roles": ", ".join(BUILTIN_ROLES)},
            ),
            "role",
        )
    check_customer(dbsession, role, customer_id)
    if len(name) > 200:
        raise InvalidInput(_("the name must be at most 200 characters"), "name")
    try:
        check_password(password, email)
    except WeakPassword as error:
        raise InvalidInput(error.message, "password") from None
    if dbsession.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(
            _("an account for ${email} already exists", mapping={"email": email}), "email"
        )
    user = User(
        email=email,
        name=name,
        role=role,
        customer_id=customer_id,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
    )
    dbsession.add(user)
    dbsession.flush()
    return user


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every session of the account."""
    try:
        check_password(new_password, user.email)
    except WeakPassword as error:
        raise InvalidInput(error.message, "password") from None
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.end_all_sessions()


def role_exists(dbsession, role: str) -> bool:
    from hashinsight_core.models import Role

    return (
        role in BUILTIN_ROLES
        or dbsession.scalar(sa.select(Role.id).where(Role.name == role)) is not None
    )


def set_role(user: User, role: str) -> None:
    if role not in BUILTIN_ROLES and not role_exists(sa.orm.object_session(user), role):
        raise InvalidInput(_("unknown role '${role}'", mapping={"role": role}), "role")
    if role != user.role:
        user.role = role
        user.end_all_sessions()


def set_active(user: User, active: bool) -> None:
    if active != user.is_active:
        user.is_active = active
        user.end_all_sessions()


# --- single-use links sent by e-mail ----------------------------------------------------

TOKEN_LIFETIMES = {
    "reset": dt.timedelta(hours=1),
    "invite": dt.timedelta(days=7),
    "verify": dt.timedelta(days=2),
}


class InvalidLink(DomainError):
    status = 400
    code = "invalid_link"


def issue_token(dbsession, user: User, purpose: str) -> str:
    """A new single-use token for ``user``; earlier unused ones of the same purpose die."""
    now = utcnow()
    dbsession.execute(
        sa.update(UserToken)
        .where(
            UserToken.user_id == user.id, UserToken.purpose == purpose, UserToken.used_at.is_(None)
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    dbsession.add(
        UserToken(
            token_hash=token_digest(token),
            user_id=user.id,
            purpose=purpose,
            expires_at=now + TOKEN_LIFETIMES[purpose],
        )
    )
    return token


def peek_token(dbsession, token: str, purpose: str) -> UserToken:
    """The valid token row (not used, not expired) or InvalidLink."""
    row = None
    if token and len(token) <= 100:
        row = dbsession.scalar(
            sa.select(UserToken).where(
                UserToken.token_hash == token_digest(token), UserToken.purpose == purpose
            )
        )
    if (
        row is None
        or row.used_at is not None
        or row.expires_at < utcnow()
        or access_problem(row.user, utcnow().date()) is not None
    ):
        raise InvalidLink(_("This link has expired or was already used. Please ask for a new one."))
    return row


def redeem_token(dbsession, token: str, purpose: str) -> User:
    row = peek_token(dbsession, token, purpose)
    row.used_at = utcnow()
    if purpose in {"invite", "verify"}:
        row.user.email_verified_at = row.user.email_verified_at or utcnow()
    return row.user


def request_password_reset(request, email: str) -> User | None:
    """Send a reset link if an active account has this address; answer the same either way."""
    email = (email or "").strip().lower()[:MAX_EMAIL]
    user = request.dbsession.scalar(sa.select(User).where(User.email == email)) if email else None
    if user is None or access_problem(user, utcnow().date()) is not None:
        return None
    token = issue_token(request.dbsession, user, "reset")
    request.send_mail(
        user.email,
        _("Reset your password"),
        "hashinsight_core:templates/mail/reset.txt.jinja2",
        {"user": user, "link": request.route_url("core.password_reset", token=token)},
    )
    return user


def reset_password(request, token: str, password: str, confirm: str, purpose: str = "reset"):
    """Set a new password through an e-mailed link (reset or invitation)."""
    row = peek_token(request.dbsession, token, purpose)
    if password != confirm:
        raise InvalidInput(_("The two passwords are not the same."), "confirm")
    change_password(row.user, password)
    return redeem_token(request.dbsession, token, purpose)


def invite_user(
    request, email: str, role: str, name: str = "", customer_id: int | None = None
) -> User:
    """Create an account without a usable password and mail a link to choose one."""
    user = create_user(
        request.dbsession, email, secrets.token_urlsafe(32) + "Aa1!", role, name, customer_id
    )
    user.password_hash = INVITED
    token = issue_token(request.dbsession, user, "invite")
    request.send_mail(
        user.email,
        _("You are invited to ${brand}", mapping={"brand": request.brand["name"]}),
        "hashinsight_core:templates/mail/invite.txt.jinja2",
        {"user": user, "link": request.route_url("core.invitation", token=token)},
    )
    return user


# --- administration ------------------------------------------------------------------------


def can_manage(actor: User, target: User | None = None, role: str | None = None) -> bool:
    """Owners manage everyone; admins manage everyone but owners and cannot make owners."""
    if actor.role == "owner":
        return True
    if actor.role != "admin":
        return False
    if target is not None and target.role == "owner":
        return False
    return role != "owner"


def update_user(
    actor: User,
    user: User,
    *,
    name: str,
    role: str,
    active: bool,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    customer_id: int | None,
) -> None:
    """Apply an administrator's edit; refuses changes that would lock the actor out."""
    if not role_exists(sa.orm.object_session(user), role):
        raise InvalidInput(_("unknown role '${role}'", mapping={"role": role}), "role")

    if not can_manage(actor, user, role):
        raise InvalidInput(_("Only an owner can change owners or make someone an owner."), "role")
    if user.id == actor.id and (role != user.role or not active):
        raise InvalidInput(_("You cannot change your own role or switch yourself off."), "role")
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidInput(_("The end date is before the start date."), "valid_until")
    if len(name) > 200:
        raise InvalidInput(_("The name must be at most 200 characters."), "name")
    check_customer(sa.orm.object_session(user), role, customer_id)
    user.name = name.strip()
    if customer_id != user.customer_id:
        # What the account may see changes: its open sessions end, as with a role change.
        user.customer_id = customer_id
        user.end_all_sessions()
    if (valid_from, valid_until) != (user.valid_from, user.valid_until):
        user.valid_from, user.valid_until = valid_from, valid_until
    set_role(user, role)
    set_active(user, active)
