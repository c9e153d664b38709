"""Accounts: the rules for logging in and for changing an account, in one place.

Used by the login page, the admin pages, the CLI and the tests, so that a rule (a password
check, ending sessions on a role change, …) cannot be forgotten by one of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, DomainError, InvalidInput
from hashinsight_core.models import User
from hashinsight_core.passwords import (
    WeakPassword,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from hashinsight_core.security import BUILTIN_ROLES
from hashinsight_core.sessions import access_problem
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
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > MAX_EMAIL or " " in email:
        raise InvalidInput(f"'{email[:80]}' is not an e-mail address", "email")
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


def create_user(dbsession, email: str, password: str, role: str, name: str = "") -> User:
    email = normalize_email(email)
    if role not in BUILTIN_ROLES:
        raise InvalidInput(f"unknown role '{role}' (use one of: {', '.join(BUILTIN_ROLES)})",
                           "role")
    if len(name) > 200:
        raise InvalidInput("the name must be at most 200 characters", "name")
    try:
        check_password(password, email)
    except WeakPassword as error:
        raise InvalidInput(str(error), "password") from None
    if dbsession.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"an account for {email} already exists", "email")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password),
                password_changed_at=utcnow())
    dbsession.add(user)
    dbsession.flush()
    return user


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every session of the account."""
    try:
        check_password(new_password, user.email)
    except WeakPassword as error:
        raise InvalidInput(str(error), "password") from None
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.end_all_sessions()


def set_role(user: User, role: str) -> None:
    if role not in BUILTIN_ROLES:
        raise InvalidInput(f"unknown role '{role}'", "role")
    if role != user.role:
        user.role = role
        user.end_all_sessions()


def set_active(user: User, active: bool) -> None:
    if active != user.is_active:
        user.is_active = active
        user.end_all_sessions()
