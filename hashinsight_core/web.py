"""The web shell: static assets, brand, template globals and security headers.

The brand (white-label look) of a request is the deployment default (``brand.*`` settings)
merged with what a plugin answers through the ``hashinsight_brand`` hook (the hosting plugin
chooses one by host name or by the signed-in customer). See docs/white-label.md.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pyramid.events import BeforeRender, NewResponse
from pyramid.exceptions import ConfigurationError
from pyramid.response import FileResponse, Response

from hashinsight_core.i18n import LANGUAGE_NAMES
from hashinsight_core.permissions import CorePermission

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)

# Only hex colours: a colour goes into CSS (/brand.css) and into e-mail, so anything else
# ("red;}body{display:none") could change far more than a colour.
COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
COLOR_KEYS = ("primary_color", "background_color")
BRAND_KEYS = (
    "name",
    "logo",
    "favicon",
    "primary_color",
    "background_color",
    "support_email",
    "support_phone",
    "support_url",
    "legal_footer",
    "mail_footer",
)
DEFAULT_FAVICON = "hashinsight_core:static/img/favicon.svg"


def is_color(value) -> bool:
    return isinstance(value, str) and bool(COLOR.match(value))


def default_brand(settings) -> dict:
    """The deployment's own brand, from the ``brand.*`` settings (checked at start-up)."""
    return {
        "id": None,
        "name": settings["brand.name"],
        "logo": settings.get("brand.logo") or None,
        # None: the shell's own icon (the layout serves it from the static files).
        "favicon": settings.get("brand.favicon") or None,
        "primary_color": settings["brand.primary_color"],
        "background_color": settings["brand.background_color"],
        "support_email": settings.get("brand.support_email") or "",
        "support_phone": settings.get("brand.support_phone") or "",
        "support_url": settings.get("brand.support_url") or "",
        "legal_footer": settings.get("brand.legal_footer") or "",
        "mail_footer": settings.get("brand.mail_footer") or "",
        # An absolute logo URL for e-mail (mail clients cannot load relative ones).
        "mail_logo": _absolute(settings.get("brand.logo")),
    }


def _absolute(url) -> str | None:
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def merge_brand(settings, answer: dict | None) -> dict:
    """The default brand with a plugin's ``answer`` laid over it.

    A plugin's brand replaces every text field it gives, even with an empty value: a brand
    with no legal footer must not show the deployment's (which names another company). Only
    colours that are not valid hex fall back to the default, and a missing favicon to the
    shell's icon.
    """
    merged = default_brand(settings)
    if not answer:
        return merged
    for key, value in answer.items():
        if key in COLOR_KEYS and not is_color(value):
            continue
        if key in ("name", "favicon") and not value:
            continue
        merged[key] = value
    if "mail_logo" not in answer:
        merged["mail_logo"] = _absolute(merged.get("logo"))
    return merged


def brand(request) -> dict:
    """This request's brand: the default merged with the first plugin that answers."""
    hook = request.registry.plugin_manager.hook.hashinsight_brand
    answer = hook(request=request)
    return merge_brand(request.registry.settings, answer)


# Shell rules that belong with the brand's look (kept here so the layout's brand parts need no
# inline styles, which the Content-Security-Policy forbids).
BRAND_RULES = (
    ".hi-legal{white-space:pre-line;}"
    ".hi-login-logo{max-height:64px;max-width:100%;}"
    ".hi-brand-logo{max-height:28px;max-width:160px;}\n"
)


def brand_css_text(b: dict) -> str:
    colors = f":root{{--hi-accent:{b['primary_color']};--hi-bg:{b['background_color']};}}\n"
    return colors + BRAND_RULES


def brand_css_url(request) -> str:
    """/brand.css with a version of its content: a brand change (or another brand on this
    host or account) is a new URL, so browsers never show a stale or foreign colour."""
    version = hashlib.sha256(brand_css_text(request.brand).encode()).hexdigest()[:12]
    return request.route_path("core.brand_css", _query={"v": version})


def favicon_url(request) -> str:
    return request.brand.get("favicon") or request.static_path(DEFAULT_FAVICON)


def brand_css(request):
    response = Response(brand_css_text(request.brand), content_type="text/css", charset="utf-8")
    # The answer depends on the host name and the signed-in account: private, short-lived,
    # and varying by both (the versioned URL of the layout does the rest).
    response.cache_control.private = True
    response.cache_control.max_age = 300
    response.vary = ("Host", "Cookie")
    return response


def favicon(request):
    # Browsers ask for /favicon.ico on their own (e.g. for JSON pages); answer with the brand's
    # icon when it has one, else the shell's logo.
    url = request.brand.get("favicon")
    if url and url.startswith("/") and not url.startswith("//"):
        from pyramid.httpexceptions import HTTPFound

        response = HTTPFound(location=url)
        response.cache_control.private = True
        response.cache_control.max_age = 300
        response.vary = ("Host", "Cookie")
        return response
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


def check_brand_settings(settings) -> None:
    """Refuse to start with a colour that is not hex (it would be written into CSS)."""
    for key in ("brand.primary_color", "brand.background_color"):
        if not is_color(settings[key]):
            raise ConfigurationError(
                f"{key} must be a hex colour like #f7931a, not {settings[key]!r}"
            )


def includeme(config):
    check_brand_settings(config.get_settings())
    config.add_request_method(brand, "brand", reify=True)
    config.add_request_method(brand_css_url, "brand_css_url", reify=True)
    config.add_request_method(favicon_url, "favicon_url", reify=True)
    # Each area serves its files under /static/<area>/ ("core" for the shell).
    config.add_static_view("static/core", "hashinsight_core:static", cache_max_age=3600)
    config.add_route("core.brand_css", "/brand.css")
    config.add_view(brand_css, route_name="core.brand_css", permission=CorePermission.HOME_VIEW)
    config.add_route("core.favicon", "/favicon.ico")
    config.add_view(favicon, route_name="core.favicon", permission=CorePermission.HOME_VIEW)
    config.add_subscriber(add_globals, BeforeRender)
    config.add_subscriber(security_headers, NewResponse)
