from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from plugins.intelligence.permissions import IntelligencePermission, permission_specs
from plugins.intelligence.schemas import API_PATHS

TITLE = "Intelligence"
REQUIRES: tuple[str, ...] = ()

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.intelligence")


@hookimpl
def hashinsight_permissions():
    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    return [
        NavItem(
            _("Market analysis"),
            "intelligence.indicator.page",
            IntelligencePermission.INDICATOR_READ,
            "graph-up-arrow",
            70,
        )
    ]


@hookimpl
def hashinsight_api_paths():
    return API_PATHS
