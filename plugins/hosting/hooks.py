from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from plugins.hosting.permissions import HostingPermission, permission_specs
from plugins.hosting.schemas import API_PATHS

TITLE = "Hosting"
REQUIRES: tuple[str, ...] = ()

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.hosting")


@hookimpl
def hashinsight_models():
    return ["plugins.hosting.models"]


@hookimpl
def hashinsight_permissions():
    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    return [NavItem(_("Sites"), "hosting.site.list", HostingPermission.SITE_READ, "building", 20)]


@hookimpl
def hashinsight_api_paths():
    return API_PATHS
