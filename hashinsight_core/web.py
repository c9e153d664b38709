"""The web shell: static assets, brand, template globals and security headers."""

from __future__ import annotations

from pathlib import Path

from pyramid.events import BeforeRender, NewResponse
from pyramid.response import FileResponse, Response

from hashinsight_core.i18n import LANGUAGE_NAMES
from hashinsight_core.permissions import CorePermission

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def brand(request) -> dict:
    settings = request.registry.settings
    return {
        "name": settings["brand.name"],
        "logo": settings.get("brand.logo") or None,
        "primary_color": settings["brand.primary_color"],
        "background_color": settings["brand.background_color"],
        "support_email": settings["brand.support_email"],
    }


def brand_css(request):
    b = request.brand
    css = f":root{{--hi-accent:{b['primary_color']};--hi-bg:{b['background_color']};}}\n"
    response = Response(css, content_type="text/css", charset="utf-8")
    response.cache_control.max_age = 300
    return response


def favicon(request):
    # Browsers ask for /favicon.ico on their own (e.g. for JSON pages); answer with the logo.
    path = Path(__file__).parent / "static" / "img" / "favicon.svg"
    response = FileResponse(str(path), request=request, content_type="image/svg+xml")
    response.cache_control.max_age = 86400
    return response


def add_globals(event: BeforeRender) -> None:
    request = event.get("request")
    if request is None:
        return
    event.setdefault("brand", request.brand)
    event.setdefault("languages", LANGUAGE_NAMES)
    event.setdefault("locale", request.locale_name)


def security_headers(event: NewResponse) -> None:
    headers = event.response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if not event.request.path.startswith("/docs/api/"):
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)


def includeme(config):
    import re

    color = re.compile(r"^#[0-9a-fA-F]{3,8}$")
    settings = config.get_settings()
    for key in ("brand.primary_color", "brand.background_color"):
        if not color.match(settings[key]):
            from pyramid.exceptions import ConfigurationError

            raise ConfigurationError(
                f"{key} must be a hex colour like #f7931a, not {settings[key]!r}"
            )
    config.add_request_method(brand, "brand", reify=True)
    # Each area serves its files under /static/<area>/ ("core" for the shell).
    config.add_static_view("static/core", "hashinsight_core:static", cache_max_age=3600)
    config.add_route("core.brand_css", "/brand.css")
    config.add_view(brand_css, route_name="core.brand_css", permission=CorePermission.HOME_VIEW)
    config.add_route("core.favicon", "/favicon.ico")
    config.add_view(favicon, route_name="core.favicon", permission=CorePermission.HOME_VIEW)
    config.add_subscriber(add_globals, BeforeRender)
    config.add_subscriber(security_headers, NewResponse)
