from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from plugins.crm.permissions import CrmPermission, permission_specs
from plugins.crm.schemas import API_PATHS

TITLE = "CRM"
REQUIRES: tuple[str, ...] = ()

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.crm")


@hookimpl
def hashinsight_models():
    return ["plugins.crm.models"]


@hookimpl
def hashinsight_permissions():
    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    return [NavItem(_("Customers"), "crm.customer.list", CrmPermission.CUSTOMER_READ, "people", 30)]


@hookimpl
def hashinsight_api_paths():
    return API_PATHS
