"""API tokens: ``Authorization: Bearer hi_…`` for scripts and the Portal API.

A request carrying a token is judged by the token alone (no cookie, so no CSRF or Origin
check applies): it may do what its scopes name *and* what its owner's role allows right now.
A wrong, revoked or expired token answers 401 — it never falls back to a cookie session.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPUnauthorized
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.models import ApiToken, User
from hashinsight_core.sessions import access_problem, token_digest

_ = TranslationStringFactory("hashinsight")

PREFIX = "hi_"
# Edge devices' tokens (hosting plugin) are Bearer tokens too, but not accounts' tokens: the
# routes that accept them check them; everywhere else such a request simply has no user.
DEVICE_PREFIX = "hie_"
MAX_DAYS = 365
TOUCH_EVERY = dt.timedelta(minutes=1)


def bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def create_token(
    request, user: User, name: str, scopes: list[str], days: int
) -> tuple[ApiToken, str]:
    """Make a token; returns the row and the secret (shown to the user once)."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(_("Give the token a name (up to 100 characters)."), "name")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(_("A token can live 1 to 365 days."), "days")
    held = {str(p) for p in held_permissions(request, user)}
    unknown = sorted(set(scopes) - held)
    if unknown:
        raise InvalidInput(
            _(
                "You cannot give a token a permission you do not have: ${name}",
                mapping={"name": unknown[0]},
            ),
            "scopes",
        )
    if not scopes:
        raise InvalidInput(_("Choose at least one permission for the token."), "scopes")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:10],
        token_hash=token_digest(secret),
        scopes=sorted(set(scopes)),
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    request.dbsession.add(row)
    request.dbsession.flush()
    return row, secret


def held_permissions(request, user: User) -> list[str]:
    """Permissions ``user``'s role grants (what a token of theirs may be scoped to)."""
    from pyramid.authorization import ACLHelper, Authenticated, Everyone

    from hashinsight_core.security import Root

    helper = ACLHelper()
    principals = [Everyone, Authenticated, f"user:{user.id}", f"role:{user.role}"]
    context = Root(request)
    return [
        str(spec.permission)
        for spec in request.registry["permission_specs"]
        if helper.permits(context, principals, str(spec.permission))
    ]


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def user_tokens(dbsession, user: User) -> list[ApiToken]:
    return list(
        dbsession.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc())
        )
    )


def load_token(request) -> ApiToken | None:
    """The request's token, None without an Authorization header; 401 if it is not valid."""
    secret = bearer(request)
    if secret is None or secret.startswith(DEVICE_PREFIX):
        return None
    row = None
    if secret.startswith(PREFIX) and len(secret) <= 100:
        row = request.dbsession.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == token_digest(secret))
        )
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or row.expires_at < now
        or access_problem(row.user, now.date()) is not None
    ):
        raise HTTPUnauthorized("the API token is not valid (wrong, revoked or expired)")
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
    return row
