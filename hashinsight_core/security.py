"""Who is asking (server-side sessions, see sessions.py) and what they may do (RBAC).

Roles hold the permissions that the core and the enabled plugins declare through
``hashinsight_permissions``. The root resource's ``__acl__`` is built from those grants, so
object resources (ABAC) can later add their own ``__acl__`` entries on top.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyramid.authorization import ALL_PERMISSIONS, ACLHelper, Allow, Authenticated, Everyone
from pyramid.exceptions import BadCSRFOrigin, ConfigurationError
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.security import Denied

BUILTIN_ROLES = ("owner", "admin", "operator", "customer", "viewer")
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class PermissionSpec:
    permission: str
    description: str
    roles: Iterable[str] = field(default=())


class Root:
    """The root resource: role grants from every enabled plugin, plus the grants of the
    current user's role when it is a custom role (read from the database once a request)."""

    def __init__(self, request):
        self.request = request

    @property
    def __acl__(self):
        return self.request.registry["acl"] + self.request.custom_role_acl


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
    """Identity from an API token or else the server-side session cookie; permissions from the
    context's ACL (and, for a token, only those in its scopes)."""

    def __init__(self, settings):
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
        token = request.api_token
        if token is not None and str(permission) not in token.scopes:
            return Denied(f"the API token does not have {permission}")
        return self.helper.permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def uses_token(request) -> bool:
    """Token requests never use the cookie session, so a foreign page cannot ride on them: no
    CSRF check. (Older edge collectors may send only ``X-Collector-Key``.)"""
    return (
        request.headers.get("Authorization", "").lower().startswith("bearer ")
        or "X-Collector-Key" in request.headers
    )


def allowed_origins(request) -> set[str]:
    origins = {request.host_url}
    public = request.registry.settings.get("hashinsight.public_url")
    if public:
        origins.add(public.rstrip("/"))
    return origins


def origin_view(view, info):
    """Refuse state-changing requests that a browser says come from another site.

    Pyramid's own origin check only runs over HTTPS; farms often run the portal over plain
    HTTP on their LAN, so we check the ``Origin`` header on every unsafe request. A missing
    header (old browsers, scripts) is left to the CSRF token check.
    """

    if info.exception_only:  # error pages render for whatever request failed
        return view

    def wrapper(context, request):
        origin = request.headers.get("Origin")
        if request.method not in SAFE_METHODS and origin and not uses_token(request):
            # "null" (sandboxed frames, cross-site redirects) never comes from our own pages.
            if origin.rstrip("/") not in allowed_origins(request):
                raise BadCSRFOrigin("cross-site request refused: the Origin is not this site")
        return view(context, request)

    return wrapper


# Pages a user who must set up two-step login can still open.
MFA_SETUP_ROUTES = frozenset(
    {
        "core.account.mfa",
        "core.logout",
        "core.language",
        "core.healthz",
        "core.readyz",
        "core.brand_css",
        "core.favicon",
        # the brand's logo on the pages above (served by the hosting plugin when it is on)
        "hosting.brand.image",
    }
)


def mfa_required_view(view, info):
    """Owners/admins (``auth.mfa_required_roles``) without two-step login go to its set-up."""
    if info.exception_only:
        return view

    def wrapper(context, request):
        route = request.matched_route.name if request.matched_route else ""
        required = request.registry["mfa_required_roles"]
        if required and route not in MFA_SETUP_ROUTES and not route.startswith("__"):
            user = request.user
            if user is not None and request.api_token is None and user.role in required:
                from hashinsight_core import mfa

                if not mfa.is_enabled(request.dbsession, user):
                    if request.path.startswith("/api/"):
                        raise HTTPForbidden("set up two-step login on /account/two-step/ first")
                    return HTTPSeeOther(request.route_path("core.account.mfa"))
        return view(context, request)

    return wrapper


def includeme(config):
    from hashinsight_core.settings import aslist

    config.registry["mfa_required_roles"] = set(
        aslist(config.get_settings().get("auth.mfa_required_roles", ""))
    )
    config.add_view_deriver(origin_view)
    config.add_view_deriver(mfa_required_view)
    settings = config.get_settings()
    policy = SessionSecurityPolicy(settings)
    config.registry["security_policy"] = policy
    config.set_security_policy(policy)
    config.set_root_factory(Root)
    from hashinsight_core.tokens import load_token

    def session_and_user(request):
        if uses_token(request):  # a token request never uses a cookie session
            token = request.api_token
            return None, token.user if token is not None else None
        return request.sessions.load(request)

    def custom_role_acl(request):
        from hashinsight_core.roles import acl_for_role

        user = request.user
        return acl_for_role(request, user.role) if user is not None else []

    config.add_request_method(custom_role_acl, "custom_role_acl", reify=True)
    config.add_request_method(load_token, "api_token", reify=True)
    config.add_request_method(session_and_user, "session_and_user", reify=True)
    config.add_request_method(lambda r: r.session_and_user[1], "user", reify=True)

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
