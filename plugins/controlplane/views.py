from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError
from hashinsight_core.openapi import paginate
from plugins.controlplane import services
from plugins.controlplane.models import Command
from plugins.controlplane.permissions import ControlplanePermission
from plugins.controlplane.schemas import COMMAND_TYPES, POWER_MODES
from plugins.controlplane.states import TERMINAL, CommandStatus
from plugins.hosting.services import list_sites

_ = TranslationStringFactory("hashinsight")
TEMPLATE = "plugins.controlplane:templates/controlplane/commands.jinja2"
PER_PAGE = 50

S = CommandStatus
# Words farm staff use, and a Bootstrap colour for each status badge.
STATUS_LABELS = {
    S.PENDING: (_("Waiting"), "text-bg-secondary"),
    S.PENDING_APPROVAL: (_("Needs approval"), "text-bg-warning"),
    S.APPROVED: (_("Approved"), "text-bg-info"),
    S.DISPATCHED: (_("Sent to miners"), "text-bg-primary"),
    S.COMPLETED: (_("Done"), "text-bg-success"),
    S.REJECTED: (_("Rejected"), "text-bg-danger"),
    S.EXPIRED: (_("Expired"), "text-bg-dark"),
    S.FAILED: (_("Failed"), "text-bg-danger"),
    S.CANCELLED: (_("Cancelled"), "text-bg-secondary"),
}
COMMAND_LABELS = {
    "reboot": _("Restart"),
    "sleep": _("Sleep"),
    "wake": _("Wake up"),
    "set_power_mode": _("Set power mode"),
    "set_pool": _("Change pool"),
}
POWER_MODE_LABELS = {"eco": _("Eco"), "normal": _("Normal"), "turbo": _("Turbo")}
FORM_FIELDS = ("site_id", "command_type", "mode", "pool_url", "pool_user", "reason")


def form_params(command_type: str, form: dict) -> dict:
    """The form's fields for this command type, shaped like the API's ``params``."""
    if command_type == "set_power_mode":
        return {"mode": form["mode"]}
    if command_type == "set_pool":
        return {"url": form["pool_url"].strip(), "user": form["pool_user"].strip()}
    return {}


def _int(value, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


def page_data(request, error=None, form=None) -> dict:
    status = request.GET.get("status") or None
    if status not in {s.value for s in CommandStatus}:
        status = None
    # The page's links count pages (?page=2); the service takes limit/offset like the API.
    page = _int(request.GET.get("page"), 1)
    commands, total = services.list_commands(
        request.dbsession, status=status, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    return {
        "commands": commands,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
        "status_filter": status,
        "statuses": list(CommandStatus),
        "status_labels": STATUS_LABELS,
        "terminal": {s.value for s in TERMINAL},
        "command_types": COMMAND_TYPES,
        "command_labels": COMMAND_LABELS,
        "power_modes": POWER_MODES,
        "power_mode_labels": POWER_MODE_LABELS,
        "sites": list_sites(request.dbsession),
        "error": error,
        "form": form or {},
    }


@view_config(
    route_name="controlplane.command.list",
    renderer=TEMPLATE,
    request_method="GET",
    permission=ControlplanePermission.COMMAND_READ,
)
def command_list(request):
    return page_data(request)


@view_config(
    route_name="controlplane.command.list",
    renderer=TEMPLATE,
    request_method="POST",
    permission=ControlplanePermission.COMMAND_REQUEST,
)
def command_create_form(request):
    form = {k: request.POST.get(k, "") for k in FORM_FIELDS}
    try:
        services.create_command(
            request,
            form["site_id"],
            form["command_type"],
            form_params(form["command_type"], form),
            form["reason"],
        )
    except DomainError as error:
        request.response.status_int = error.status
        return page_data(request, error=error.message, form=form)
    return HTTPSeeOther(request.route_path("controlplane.command.list"))


@view_config(
    route_name="controlplane.command.cancel",
    renderer=TEMPLATE,
    request_method="POST",
    permission=ControlplanePermission.COMMAND_CANCEL,
)
def command_cancel_form(request):
    try:
        services.cancel_command(request, int(request.matchdict["command_id"]))
    except DomainError as error:
        request.response.status_int = error.status
        return page_data(request, error=error.message)
    return HTTPSeeOther(request.route_path("controlplane.command.list"))


@view_config(
    route_name="controlplane.api.command.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=ControlplanePermission.COMMAND_READ,
)
def api_command_list(request):
    query = request.openapi.parameters.query
    commands = services.command_query(status=query.get("status"), site_id=query.get("site_id"))
    return paginate(request, commands, Command.as_dict)


@view_config(
    route_name="controlplane.api.command.collection",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=ControlplanePermission.COMMAND_REQUEST,
)
def api_command_create(request):
    body = request.openapi.body
    command = services.create_command(
        request,
        body["site_id"],
        body["command_type"],
        body.get("params") or {},
        body.get("reason", ""),
    )
    request.response.status_int = 201
    return command.as_dict()


@view_config(
    route_name="controlplane.api.command.cancel",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=ControlplanePermission.COMMAND_CANCEL,
)
def api_command_cancel(request):
    command = services.cancel_command(request, int(request.matchdict["command_id"]))
    return command.as_dict()
