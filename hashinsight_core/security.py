"""Authentication (server-side sessions, argon2 passwords) and RBAC.

Roles hold the permissions that the core and the enabled plugins declare through
``hashinsight_permissions``. The root resource's ``__acl__`` is built from those grants, so
object resources (ABAC) can later add their own ``__acl__`` entries on top.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyramid.authorization import ALL_PERMISSIONS, ACLHelper, Allow, Authenticated, Everyone
from pyramid.exceptions import ConfigurationError

from hashinsight_core.db import utcnow

BUILTIN_ROLES = ("owner", "admin", "operator", "customer", "viewer")
ANONYMOUS = "anonymous"
SESSION_COOKIE = "hi_session"

# OWASP's first argon2id profile: 19 MiB, 2 passes, 1 lane.
password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class PermissionSpec:
    permission: str
    description: str
    roles: Iterable[str] = field(default=())


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Root:
    """The root resource: role grants from every enabled plugin."""

    def __init__(self, request):
        self.request = request
        self.__acl__ = request.registry["acl"]


def build_acl(specs: list[PermissionSpec]) -> list[tuple]:
    acl: list[tuple] = [(Allow, "role:owner", ALL_PERMISSIONS)]
    for spec in specs:
        for role in spec.roles:
            if role == "owner":
                continue
            principal = Everyone if role == ANONYMOUS else f"role:{role}"
            acl.append((Allow, principal, str(spec.permission)))
    return acl


class SessionSecurityPolicy:
    """Identity from the server-side session cookie; permissions from the context's ACL."""

    def __init__(self, settings):
        self.idle = dt.timedelta(minutes=int(settings.get("session.idle_minutes", 60)))
        self.helper = ACLHelper()

    def identity(self, request):
        return request.user

    def authenticated_userid(self, request):
        user = request.user
        return user.id if user is not None else None

    def permits(self, request, context, permission):
        principals = [Everyone]
        user = request.user
        if user is not None:
            principals += [Authenticated, f"user:{user.id}", f"role:{user.role}"]
        return self.helper.permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def load_session(request):
    """The current UserSession, or None; slides the idle timeout forward."""
    from hashinsight_core.models import UserSession

    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    row = request.dbsession.scalar(
        sa.select(UserSession).where(UserSession.token_hash == token_digest(token))
    )
    if row is None or not row.user.is_active:
        return None
    policy: SessionSecurityPolicy = request.registry["security_policy"]
    now = utcnow()
    if now - row.last_seen_at > policy.idle:
        request.dbsession.delete(row)
        return None
    if now - row.last_seen_at > dt.timedelta(minutes=1):
        row.last_seen_at = now
    return row


def start_session(request, user, response) -> None:
    """Log ``user`` in: a fresh random session id in the cookie, only its hash in the table."""
    from hashinsight_core.models import UserSession

    token = secrets.token_urlsafe(32)
    request.dbsession.add(
        UserSession(
            token_hash=token_digest(token),
            user=user,
            ip_address=request.client_addr,
            user_agent=(request.user_agent or "")[:300],
        )
    )
    user.last_login_at = utcnow()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=request.registry.settings.get("hashinsight.env") == "production",
        path="/",
    )


def end_session(request, response) -> None:
    row = request.user_session
    if row is not None:
        request.dbsession.delete(row)
    response.delete_cookie(SESSION_COOKIE, path="/")


def includeme(config):
    settings = config.get_settings()
    policy = SessionSecurityPolicy(settings)
    config.registry["security_policy"] = policy
    config.set_security_policy(policy)
    config.set_root_factory(Root)
    config.add_request_method(load_session, "user_session", reify=True)
    config.add_request_method(
        lambda r: r.user_session.user if r.user_session is not None else None, "user", reify=True
    )

    def collect_permissions():
        from hashinsight_core.permissions import permission_specs

        specs = list(permission_specs())
        for plugin_specs in config.registry.plugin_manager.hook.hashinsight_permissions():
            specs.extend(plugin_specs or ())
        seen: set[str] = set()
        for spec in specs:
            if str(spec.permission) in seen:
                raise ConfigurationError(f"permission '{spec.permission}' is declared twice")
            seen.add(str(spec.permission))
            unknown = set(spec.roles) - set(BUILTIN_ROLES) - {ANONYMOUS}
            if unknown:
                raise ConfigurationError(
                    f"permission '{spec.permission}' grants unknown role {sorted(unknown)[0]!r}"
                )
        config.registry["permission_specs"] = specs
        config.registry["acl"] = build_acl(specs)

    collect_permissions()
