"""The main menu: items from every enabled plugin, kept only where the user may go."""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("hashinsight")


@dataclass(frozen=True)
class NavItem:
    title: str  # a translation string
    route_name: str
    permission: str
    icon: str = "circle"  # a Bootstrap Icons name
    order: int = 100


def core_nav_items(request) -> list[NavItem]:
    from hashinsight_core.permissions import CorePermission

    return [
        NavItem(_("Home"), "core.home", CorePermission.HOME_VIEW, "house", 0),
        NavItem(
            _("Users"), "core.admin.user.list", CorePermission.USERS_MANAGE, "person-gear", 900
        ),
        NavItem(_("Roles"), "core.admin.role.list", CorePermission.ROLES_MANAGE, "key", 910),
    ]


def nav_items(request) -> list[NavItem]:
    items = core_nav_items(request)
    for plugin_items in request.registry.plugin_manager.hook.hashinsight_nav_items(request=request):
        items.extend(plugin_items or ())
    allowed = [item for item in items if request.has_permission(str(item.permission))]
    return sorted(allowed, key=lambda item: (item.order, item.route_name))


def includeme(config):
    config.add_request_method(nav_items, "nav_items", reify=True)
