from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from plugins.curtailment.permissions import CurtailmentPermission, permission_specs
from plugins.curtailment.schemas import API_PATHS

TITLE = "Curtailment"
REQUIRES: tuple[str, ...] = ("controlplane",)

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.curtailment")


@hookimpl
def hashinsight_models():
    return ["plugins.curtailment.models"]


@hookimpl
def hashinsight_permissions():
    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    return [
        NavItem(
            _("Curtailment"),
            "curtailment.price.list",
            CurtailmentPermission.PRICE_READ,
            "lightning-charge",
            50,
        )
    ]


@hookimpl
def hashinsight_api_paths():
    return API_PATHS
