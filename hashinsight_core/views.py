"""The shell's own pages: home, log in / out, language switch."""

from __future__ import annotations

from urllib.parse import urlparse

from pyramid.httpexceptions import HTTPFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core import accounts
from hashinsight_core.exceptions import DomainError
from hashinsight_core.i18n import LOCALE_COOKIE
from hashinsight_core.permissions import CorePermission

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
        request.response.status_int = 429
        request.response.headers["Retry-After"] = str(error.retry_after)
        return {"email": email, "next": next_url, "error": error.message}
    except accounts.LoginRefused as error:
        request.response.status_int = 400
        return {"email": email, "next": next_url, "error": error.message}
    response = HTTPSeeOther(safe_next(request, next_url))
    request.sessions.start(request, user, response)
    return response


@view_config(route_name="core.logout", request_method="POST", permission=CorePermission.HOME_VIEW)
def logout(request):
    response = HTTPSeeOther(request.route_path("core.home"))
    request.sessions.end(request, response)
    return response


@view_config(
    route_name="core.password_forgot",
    renderer="hashinsight_core:templates/password_forgot.jinja2",
    permission=CorePermission.HOME_VIEW,
)
def password_forgot(request):
    if request.method == "POST":
        accounts.request_password_reset(request, request.POST.get("email", ""))
        return {"sent": True}
    return {"sent": False}


def _set_password(request, purpose: str, title):
    token = request.matchdict["token"]
    values = {"title": title, "error": None}
    try:
        if request.method == "POST":
            accounts.reset_password(
                request,
                token,
                request.POST.get("password", ""),
                request.POST.get("confirm", ""),
                purpose,
            )
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
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", path="/")
    return response


def includeme(config):
    config.add_route("core.home", "/")
    config.add_route("core.login", "/login/")
    config.add_route("core.logout", "/logout/")
    config.add_route("core.language", "/language/{code}")
    config.add_route("core.password_forgot", "/password/forgot/")
    config.add_route("core.password_reset", "/password/reset/{token}/")
    config.add_route("core.invitation", "/invitation/{token}/")
    config.scan(__name__)
