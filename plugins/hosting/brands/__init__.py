"""Brands (white-label): name, logo, colours, contacts, e-mail look and legal footer, chosen by
the request's host name or the signed-in customer's brand. See docs/white-label.md.

The core asks for a request's brand through the ``hashinsight_brand`` hook (answered in
``plugins.hosting.hooks`` by :func:`brand_for_request`) and merges the answer over the
deployment's ``brand.*`` settings; mail to a customer takes :func:`brand_for_customer`.
"""

from __future__ import annotations

import logging

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.nav import NavItem

_ = TranslationStringFactory("hashinsight")
log = logging.getLogger(__name__)
CACHE_SECONDS = 30.0


def includeme(config):
    from plugins.hosting.brands.resolve import BrandCache

    settings = config.get_settings()
    ttl = float(settings.get("hosting.brands.cache_seconds", CACHE_SECONDS))
    config.registry["hosting.brands.cache"] = BrandCache(ttl)
    config.include("plugins.hosting.brands.views")


def permission_specs() -> list:
    from plugins.hosting.brands.permissions import permission_specs as specs

    return specs()


def nav_items(request) -> list:
    from plugins.hosting.brands.permissions import BrandPermission

    return [NavItem(_("Brands"), "hosting.brand.list", BrandPermission.MANAGE, "palette", 880)]


def periodic_tasks() -> list:
    return []


def api_paths() -> dict:
    """An OpenAPI fragment ``{"paths": {...}, "components": {...}}``."""
    return {"paths": {}, "components": {}}


def brand_for_request(request) -> dict | None:
    """The brand fields for this request, or None for the deployment default.

    A signed-in customer user gets the customer's brand whatever host name they use (so they
    never see another brand's name); others the brand of the Host header, else the brand
    marked default. A database problem falls back to the deployment default rather than
    breaking every page (error pages render the brand too).
    """
    import sqlalchemy as sa

    from plugins.hosting.brands.resolve import resolve_for_request

    try:
        return resolve_for_request(request)
    except sa.exc.SQLAlchemyError:
        log.exception("brand lookup failed; showing the deployment brand")
        return None


def brand_for_customer(request, customer_id: int | None) -> dict | None:
    """The brand of mail to a customer's users: theirs, else the default brand row.

    Returns the full brand (the deployment's settings merged under it), so the caller can pass
    it straight to ``request.send_mail(..., brand=...)`` whatever host the sender used.
    """
    from hashinsight_core.web import merge_brand
    from plugins.hosting.brands.resolve import resolve_for_customer

    return merge_brand(request.registry.settings, resolve_for_customer(request, customer_id))
