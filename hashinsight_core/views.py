"""The shell's own pages: home, log in / out, language switch."""

from __future__ import annotations

from urllib.parse import urlparse

from pyramid.httpexceptions import HTTPFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core import accounts, mfa
from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import DomainError
from hashinsight_core.i18n import LOCALE_COOKIE, remember_language
from hashinsight_core.models import User
from hashinsight_core.permissions import CorePermission
from hashinsight_core.sessions import access_problem

_ = TranslationStringFactory("hashinsight")


def safe_next(request, target: str | None) -> str:
    """Only same-site paths are followed after login or a language switch."""
    if target:
        parsed = urlparse(target)
        if (
            not parsed.scheme
            and not parsed.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return request.route_path("core.home")


@view_config(
    route_name="core.home",
    renderer="hashinsight_core:templates/home.jinja2",
    permission=CorePermission.HOME_VIEW,
)
def home(request):
    user = request.user
    if user is not None and user.customer_id is not None:
        # A customer's home is their portal when a plugin serves one (route name in settings).
        from pyramid.interfaces import IRoutesMapper

        name = request.registry.settings.get("web.customer_home_route", "hosting.portal.home")
        mapper = request.registry.queryUtility(IRoutesMapper)
        if name and mapper is not None and mapper.get_route(name) is not None:
            return HTTPSeeOther(request.route_path(name))
    tiles = [item for item in request.nav_items if item.route_name != "core.home"]
    return {"tiles": tiles}


@view_config(
    route_name="core.login",
    renderer="hashinsight_core:templates/login.jinja2",
    permission=CorePermission.HOME_VIEW,
    request_method="GET",
)
def login_form(request):
    notice = _("Your password was changed. Please log in.") if request.GET.get("changed") else None
    return {"email": "", "error": None, "next": request.GET.get("next", ""), "notice": notice}


@view_config(
    route_name="core.login",
    renderer="hashinsight_core:templates/login.jinja2",
    permission=CorePermission.HOME_VIEW,
    request_method="POST",
)
def login(request):
    email = request.POST.get("email", "")
    next_url = request.POST.get("next", "")
    try:
        user = accounts.authenticate(request, email, request.POST.get("password", ""))
    except accounts.TooManyAttempts as error:
        request.audit("core:login:throttled", payload={"email": email[:254]})
        request.response.status_int = 429
        request.response.headers["Retry-After"] = str(error.retry_after)
        return {"email": email, "next": next_url, "error": error.message}
    except accounts.LoginRefused as error:
        reason = error.message.interpolate() if hasattr(error.message, "interpolate") else ""
        request.audit("core:login:fail", payload={"email": email[:254], "reason": reason})
        request.response.status_int = 400
        return {"email": email, "next": next_url, "error": error.message}
    if mfa.is_enabled(request.dbsession, user):
        request.audit("core:login:password-ok", subject=("user", user.id), actor=user)
        # The password was right; the session starts only once the code is right too.
        response = HTTPSeeOther(request.route_path("core.login_code"))
        mfa.set_pending(request, response, user, next_url)
        return response
    response = HTTPSeeOther(safe_next(request, next_url))
    request.sessions.start(request, user, response)
    remember_language(request, user)
    request.audit("core:login:success", subject=("user", user.id), actor=user)
    return response


@view_config(
    route_name="core.login_code",
    renderer="hashinsight_core:templates/login_code.jinja2",
    permission=CorePermission.HOME_VIEW,
)
def login_code(request):
    pending = mfa.read_pending(request)
    user = request.dbsession.get(User, pending["uid"]) if pending else None
    if (
        user is None
        or user.security_stamp != pending["stamp"]
        or access_problem(user, utcnow().date())
    ):
        return HTTPSeeOther(request.route_path("core.login"))
    if request.method != "POST":
        return {"error": None}
    throttle = request.registry["login_throttle"]
    wait = throttle.retry_after(user.email, request.client_addr)
    if wait:
        error = accounts.TooManyAttempts(wait)
        request.response.status_int = 429
        request.response.headers["Retry-After"] = str(wait)
        return {"error": error.message}
    method = mfa.verify(request, user, request.POST.get("code", ""))
    if method is None:
        request.audit("core:login:code-fail", subject=("user", user.id), actor=user)
        throttle.failed(user.email, request.client_addr)
        request.response.status_int = 400
        return {"error": mfa.WRONG_CODE}
    throttle.reset(user.email)
    response = HTTPSeeOther(safe_next(request, pending.get("next")))
    response.delete_cookie(mfa.PENDING_COOKIE, path="/")
    request.sessions.start(request, user, response)
    remember_language(request, user)
    request.audit(
        "core:login:success", subject=("user", user.id), actor=user, payload={"second_step": method}
    )
    return response


@view_config(route_name="core.logout", request_method="POST", permission=CorePermission.HOME_VIEW)
def logout(request):
    response = HTTPSeeOther(request.route_path("core.home"))
    if request.user is not None:
        request.audit("core:session:logout", subject=("user", request.user.id))
    request.sessions.end(request, response)
    return response


@view_config(
    route_name="core.password_forgot",
    renderer="hashinsight_core:templates/password_forgot.jinja2",
    permission=CorePermission.HOME_VIEW,
)
def password_forgot(request):
    if request.method == "POST":
        user = accounts.request_password_reset(request, request.POST.get("email", ""))
        if user is not None:
            request.audit("core:user:password-link", subject=("user", user.id), actor=user)
        return {"sent": True}
    return {"sent": False}


def _set_password(request, purpose: str, title):
    token = request.matchdict["token"]
    values = {"title": title, "error": None}
    try:
        if request.method == "POST":
            user = accounts.reset_password(
                request,
                token,
                request.POST.get("password", ""),
                request.POST.get("confirm", ""),
                purpose,
            )
            request.audit(f"core:user:password-{purpose}", subject=("user", user.id), actor=user)
            return HTTPSeeOther(request.route_path("core.login", _query={"changed": "1"}))
        accounts.peek_token(request.dbsession, token, purpose)
    except accounts.InvalidLink as error:
        request.response.status_int = 400
        return {**values, "invalid": True, "error": error.message}
    except DomainError as error:
        request.response.status_int = error.status
        return {**values, "invalid": False, "error": error.message}
    return {**values, "invalid": False}


@view_config(
    route_name="core.password_reset",
    renderer="hashinsight_core:templates/password_set.jinja2",
    permission=CorePermission.HOME_VIEW,
)
def password_reset(request):
    return _set_password(request, "reset", _("Choose a new password"))


@view_config(
    route_name="core.invitation",
    renderer="hashinsight_core:templates/password_set.jinja2",
    permission=CorePermission.HOME_VIEW,
)
def invitation(request):
    return _set_password(request, "invite", _("Welcome! Choose your password"))


@view_config(route_name="core.language", permission=CorePermission.HOME_VIEW)
def set_language(request):
    code = request.matchdict["code"]
    available = request.registry.settings["i18n.available_locales"]
    referer = request.referer or ""
    target = urlparse(referer)
    back = (
        target.path + (f"?{target.query}" if target.query else "")
        if target.netloc == request.host
        else None
    )
    response = HTTPFound(safe_next(request, back))
    if code in available:
        if request.user is not None:
            request.user.locale = code  # mail to this account follows the choice
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", path="/")
    return response


def includeme(config):
    config.add_route("core.home", "/")
    config.add_route("core.login", "/login/")
    config.add_route("core.login_code", "/login/code/")
    config.add_route("core.logout", "/logout/")
    config.add_route("core.language", "/language/{code}")
    config.add_route("core.password_forgot", "/password/forgot/")
    config.add_route("core.password_reset", "/password/reset/{token}/")
    config.add_route("core.invitation", "/invitation/{token}/")
    config.scan(__name__)
