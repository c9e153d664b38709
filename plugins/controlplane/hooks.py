from huey import crontab
from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from hashinsight_core.tasks import PeriodicTask
from plugins.controlplane.permissions import ControlplanePermission, permission_specs
from plugins.controlplane.schemas import API_PATHS

TITLE = "Control plane"
REQUIRES: tuple[str, ...] = ("hosting",)

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.controlplane")


@hookimpl
def hashinsight_models():
    return ["plugins.controlplane.models"]


@hookimpl
def hashinsight_permissions():
    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    return [
        NavItem(
            _("Command centre"),
            "controlplane.command.list",
            ControlplanePermission.COMMAND_READ,
            "terminal",
            40,
        )
    ]


@hookimpl
def hashinsight_periodic_tasks():
    # Imported here, not at the top: loading the plugin must not import its models.
    from plugins.controlplane.services import expire_commands

    return [PeriodicTask(crontab(minute="*"), expire_commands, "controlplane.expire_commands")]


@hookimpl
def hashinsight_api_paths():
    return API_PATHS
