from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from plugins.treasury.permissions import TreasuryPermission, permission_specs
from plugins.treasury.schemas import API_PATHS

TITLE = "Treasury"
REQUIRES: tuple[str, ...] = ()

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.treasury")


@hookimpl
def hashinsight_models():
    return ["plugins.treasury.models"]


@hookimpl
def hashinsight_permissions():
    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    return [
        NavItem(_("Treasury"), "treasury.entry.list", TreasuryPermission.ENTRY_READ, "safe", 60)
    ]


@hookimpl
def hashinsight_api_paths():
    return API_PATHS


@hookimpl
def hashinsight_reports():
    # Imported here: the report pulls in the models, which only the core should import (and
    # only for enabled plugins) through hashinsight_models.
    from plugins.treasury.reports import inventory_section

    return [inventory_section()]
