"""Themed error pages for people and ``{"error": {...}}`` bodies for the JSON API."""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPException, HTTPFound, HTTPNotFound, HTTPServerError
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import IntegrityError

from hashinsight_core.exceptions import DomainError
from hashinsight_core.i18n import translate

log = logging.getLogger(__name__)
_ = TranslationStringFactory("hashinsight")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}

TITLES = {
    403: _("You cannot open this page"),
    404: _("Page not found"),
    500: _("Something went wrong on our side"),
}


def wants_json(request) -> bool:
    from hashinsight_core.security import uses_token

    if request.path.startswith("/api/") or uses_token(request):
        return True
    offers = request.accept.acceptable_offers(["text/html", "application/json"])
    return bool(offers) and offers[0][0] == "application/json"


def fresh_transaction(request) -> None:
    """Abort the failed transaction and open a clean one, so the error page can still read
    the database (PostgreSQL refuses every query in a transaction that hit an error)."""
    request.tm.abort()
    request.tm.begin()
    for name in ("session_and_user", "user", "nav_items"):  # reified from the old transaction
        request.__dict__.pop(name, None)


def error_response(request, status: int, message: str, code: str | None = None, details=None):
    if wants_json(request):
        body = {"error": {"code": code or CODES.get(status, "error"), "message": message}}
        if details:
            body["error"]["details"] = details
        response = request.response
        response.status_int = status
        response.json_body = body
        response.content_type = "application/json"
        return response
    response = render_to_response(
        "hashinsight_core:templates/error.jinja2",
        {
            "status": status,
            "title": TITLES.get(status, _("Something is not right")),
            "message": message,
        },
        request=request,
    )
    response.status_int = status
    return response


@notfound_view_config()
def not_found(exc, request):
    message = request.localizer.translate(_("There is nothing at this address."))
    # The router's own 404 carries the path as its detail; a view's 404 carries a message.
    if isinstance(exc, HTTPNotFound) and exc.detail and exc.detail != request.path_info:
        message = str(exc.detail)
    return error_response(request, 404, message)


@forbidden_view_config()
def forbidden(exc, request):
    if request.user is None and not wants_json(request):
        return HTTPFound(request.route_url("core.login", _query={"next": request.path_qs}))
    message = request.localizer.translate(_("Your account is not allowed to do this."))
    if request.user is None:
        return error_response(request, 401, request.localizer.translate(_("Please log in.")))
    return error_response(request, 403, message)


@exception_view_config(HTTPException)
def http_exception(exc, request):
    if exc.status_int < 400:
        return exc
    return error_response(
        request,
        exc.status_int,
        str(exc.detail or exc.explanation or exc.title),
        code=getattr(exc, "error_code", None),
        details=getattr(exc, "details", None),
    )


@exception_view_config(DomainError)
def domain_error(exc, request):
    message = translate(request, exc.message)  # plain strings pass through
    details = [{"field": exc.field, "message": message}] if exc.field else None
    return error_response(request, exc.status, message, code=exc.code, details=details)


@exception_view_config(IntegrityError)
def integrity_error(exc, request):
    # Services check uniqueness first; this catches the race where two requests pass that
    # check together and the database's constraint decides. The transaction is rolled back.
    log.info("integrity error on %s %s: %s", request.method, request.path, exc.orig)
    fresh_transaction(request)
    message = request.localizer.translate(
        _("This conflicts with something saved at the same moment. Please reload and try again.")
    )
    return error_response(request, 409, message, code="conflict")


@exception_view_config(Exception)
def server_error(exc, request):
    log.exception("unhandled error on %s %s", request.method, request.path)
    fresh_transaction(request)
    message = request.localizer.translate(
        _("The error has been logged. Please try again in a moment.")
    )
    return error_response(request, HTTPServerError.code, message)


def includeme(config):
    config.scan(__name__)
