"""The customer portal: a customer's miners, tickets, alerts, notification preferences and
Portal API tokens, mobile first. See docs/white-label.md.
"""

from __future__ import annotations

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.nav import NavItem

_ = TranslationStringFactory("hashinsight")
TOPICS = ("tickets", "alerts")


def includeme(config):
    config.include("plugins.hosting.portal.views")


def permission_specs() -> list:
    from plugins.hosting.portal.permissions import permission_specs as specs

    return specs()


def nav_items(request) -> list:
    """ "My farm", for customer accounts only (owners hold every permission, but their home is
    the whole farm, not the portal)."""
    from plugins.hosting.portal.permissions import PortalPermission

    user = request.user
    if user is None or user.customer_id is None:
        return []
    return [NavItem(_("My farm"), "hosting.portal.home", PortalPermission.VIEW, "grid", 1)]


def periodic_tasks() -> list:
    return []


def api_paths() -> dict:
    """An OpenAPI fragment ``{"paths": {...}, "components": {...}}``."""
    return {"paths": {}, "components": {}}


def wants_mail(request, user_id: int | None, topic: str) -> bool:
    """Whether the account wants e-mail about ``topic`` ("tickets" or "alerts"); True when it
    never chose (and for mail to an address with no account, ``user_id`` None)."""
    from plugins.hosting.portal.services import wants_mail as lookup

    return lookup(request.dbsession, user_id, topic)
