"""The command centre (pages) and the operators' JSON API. Thin: parse, call a service, render."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core.errors import fresh_transaction
from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.openapi import paginate
from plugins.controlplane import services
from plugins.controlplane.models import Command
from plugins.controlplane.permissions import ControlplanePermission
from plugins.controlplane.schemas import COMMAND_TYPES, WORK_MODES
from plugins.controlplane.signing import signer
from plugins.controlplane.states import TERMINAL, CommandStatus, TargetStatus
from plugins.hosting.models import Miner, Zone
from plugins.hosting.services import list_sites

_ = TranslationStringFactory("hashinsight")
LIST_TEMPLATE = "plugins.controlplane:templates/controlplane/commands.jinja2"
DETAIL_TEMPLATE = "plugins.controlplane:templates/controlplane/command.jinja2"
PER_PAGE = 50

S = CommandStatus
T = TargetStatus
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
TARGET_LABELS = {
    T.PENDING: (_("Waiting"), "text-bg-secondary"),
    T.DISPATCHED: (_("Sent"), "text-bg-primary"),
    T.COMPLETED: (_("Done"), "text-bg-success"),
    T.FAILED: (_("Failed"), "text-bg-danger"),
    T.SKIPPED: (_("Skipped"), "text-bg-secondary"),
    T.REJECTED: (_("Refused by the device"), "text-bg-danger"),
    T.EXPIRED: (_("Expired"), "text-bg-dark"),
    T.CANCELLED: (_("Cancelled"), "text-bg-secondary"),
}
OUTCOME_LABELS = {
    "waiting": (_("Checking"), "text-bg-secondary"),
    "confirmed": (_("Confirmed"), "text-bg-success"),
    "unconfirmed": (_("Not confirmed"), "text-bg-warning"),
}
COMMAND_LABELS = {
    "reboot": _("Restart"),
    "sleep": _("Sleep"),
    "wake": _("Wake up"),
    "set_work_mode": _("Set work mode"),
    "set_pool": _("Change pool"),
    "switch_pool": _("Switch pool"),
}
RISK_LABELS = {
    "low": (_("Low risk"), "text-bg-secondary"),
    "medium": (_("Medium risk"), "text-bg-warning"),
    "high": (_("High risk"), "text-bg-danger"),
}
SLOT_LABELS = {
    "approver": _("an approver"),
    "customer": _("the customer"),
    "hosting": _("the hosting provider"),
}
WORK_MODE_LABELS = {"low": _("Low power"), "normal": _("Normal"), "high": _("High performance")}
TARGET_KINDS = ("miner_ids", "zone_id", "customer_id", "model")
FORM_FIELDS = (
    "site_id",
    "command_type",
    "mode",
    "pool_url",
    "pool_user",
    "pool_index",
    "target_kind",
    "miner_ids",
    "zone_id",
    "customer_id",
    "model",
    "reason",
)


def form_params(command_type: str, form: dict) -> dict:
    """The form's fields for this command type, shaped like the API's ``params``."""
    if command_type == "set_work_mode":
        return {"mode": form["mode"]}
    if command_type == "set_pool":
        return {"url": form["pool_url"].strip(), "user": form["pool_user"].strip()}
    if command_type == "switch_pool":
        try:
            return {"index": int(form["pool_index"])}
        except ValueError:
            raise InvalidInput(
                _("the pool number must be a whole number"), "params.index"
            ) from None
    return {}


def form_target(form: dict) -> dict:
    kind = form["target_kind"] or "miner_ids"
    if kind not in TARGET_KINDS:
        raise InvalidInput(_("choose which miners the command is for"), "target")
    value = (form.get(kind) or "").strip()
    if kind == "model":
        return {"model": value}
    try:
        if kind == "miner_ids":
            numbers = [int(v) for v in value.replace(",", " ").split()]
            return {"miner_ids": numbers}
        return {kind: int(value)}
    except ValueError:
        raise InvalidInput(_("miner, zone and customer ids are whole numbers"), "target") from None


def _int(value, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


def labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "target_labels": TARGET_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "command_labels": COMMAND_LABELS,
        "risk_labels": RISK_LABELS,
        "slot_labels": SLOT_LABELS,
        "work_mode_labels": WORK_MODE_LABELS,
        "terminal": {s.value for s in TERMINAL},
    }


def page_data(request, error=None, form=None) -> dict:
    status = request.GET.get("status") or None
    if status not in {s.value for s in CommandStatus}:
        status = None
    # The page's links count pages (?page=2); the service takes limit/offset like the API.
    page = _int(request.GET.get("page"), 1)
    commands, total = services.list_commands(
        request.dbsession, status=status, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    zones = list(request.dbsession.scalars(sa.select(Zone).order_by(Zone.site_id, Zone.name)))
    models = sorted(
        {m for m in request.dbsession.scalars(sa.select(Miner.model_name).distinct()) if m}
    )
    return {
        "commands": commands,
        "counts": services.target_counts(request.dbsession, [c.id for c in commands]),
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
        "status_filter": status,
        "statuses": list(CommandStatus),
        "command_types": COMMAND_TYPES,
        "work_modes": WORK_MODES,
        "sites": list_sites(request.dbsession),
        "zones": zones,
        "models": models,
        "error": error,
        "form": form or {},
        **labels(),
    }


@view_config(
    route_name="controlplane.command.list",
    renderer=LIST_TEMPLATE,
    request_method="GET",
    permission=ControlplanePermission.COMMAND_READ,
)
def command_list(request):
    return page_data(request)


@view_config(
    route_name="controlplane.command.list",
    renderer=LIST_TEMPLATE,
    request_method="POST",
    permission=ControlplanePermission.COMMAND_REQUEST,
)
def command_create_form(request):
    form = {k: request.POST.get(k, "") for k in FORM_FIELDS}
    try:
        command = services.create_command(
            request,
            form["site_id"],
            form["command_type"],
            form_params(form["command_type"], form),
            form["reason"],
            form_target(form),
        )
    except DomainError as error:
        fresh_transaction(request)  # nothing of a refused request is kept
        request.response.status_int = error.status
        message = request.localizer.translate(error.message)
        return page_data(request, error=message, form=form)
    return HTTPSeeOther(request.route_path("controlplane.command.detail", command_id=command.id))


def detail_data(request, command: Command, error=None) -> dict:
    detail = services.command_detail(request, command)
    user = request.user
    approvals = services.approvals_of(request.dbsession, command.id)
    can_decide = (
        command.status == S.PENDING_APPROVAL
        and user is not None
        and user.id != command.requested_by_id
        and not any(a.user_id == user.id for a in approvals)
        and services.slot_for(
            user, command, services.policy_for(request.dbsession, command.site_id), approvals
        )
        is not None
    )
    return {
        "command": command,
        "detail": detail,
        "can_decide": can_decide,
        "error": error,
        **labels(),
    }


@view_config(
    route_name="controlplane.command.detail",
    renderer=DETAIL_TEMPLATE,
    request_method="GET",
    permission=ControlplanePermission.COMMAND_READ,
)
def command_detail_page(request):
    return detail_data(request, request.context.object)


def _page_action(request, action):
    command = request.context.object
    command_id = command.id
    try:
        result = action(command)
    except DomainError as error:
        if not isinstance(error, services.KeptConflict):
            fresh_transaction(request)  # nothing of a refused action is kept
        command = request.dbsession.get(Command, command_id)
        request.dbsession.refresh(command)
        request.response.status_int = error.status
        message = request.localizer.translate(error.message)
        request.override_renderer = DETAIL_TEMPLATE
        return detail_data(request, command, error=message)
    target = result if isinstance(result, Command) else command
    return HTTPSeeOther(request.route_path("controlplane.command.detail", command_id=target.id))


@view_config(
    route_name="controlplane.command.approve",
    renderer=DETAIL_TEMPLATE,
    request_method="POST",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def command_approve_form(request):
    reason = request.POST.get("reason", "")
    return _page_action(request, lambda c: services.decide(request, c.id, "approve", reason))


@view_config(
    route_name="controlplane.command.reject",
    renderer=DETAIL_TEMPLATE,
    request_method="POST",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def command_reject_form(request):
    reason = request.POST.get("reason", "")
    return _page_action(request, lambda c: services.decide(request, c.id, "reject", reason))


@view_config(
    route_name="controlplane.command.cancel",
    renderer=DETAIL_TEMPLATE,
    request_method="POST",
    permission=ControlplanePermission.COMMAND_CANCEL,
)
def command_cancel_form(request):
    reason = request.POST.get("reason", "")
    return _page_action(request, lambda c: services.cancel_command(request, c.id, reason))


@view_config(
    route_name="controlplane.command.retry",
    renderer=DETAIL_TEMPLATE,
    request_method="POST",
    permission=ControlplanePermission.COMMAND_REQUEST,
)
def command_retry_form(request):
    return _page_action(request, lambda c: services.retry_command(request, c.id))


# --- JSON API -------------------------------------------------------------------------------


@view_config(
    route_name="controlplane.api.command.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=ControlplanePermission.COMMAND_READ,
)
def api_command_list(request):
    query = request.openapi.parameters.query
    commands = services.command_query(
        status=query.get("status"),
        site_id=query.get("site_id"),
        awaiting=bool(query.get("awaiting_approval")),
    )
    page = paginate(request, commands, Command.as_dict)
    counts = services.target_counts(request.dbsession, [c["id"] for c in page["items"]])
    for item in page["items"]:
        item["miners"] = counts[item["id"]]
    return page


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
        body.get("target"),
    )
    request.response.status_int = 201
    return services.command_detail(request, command)


@view_config(
    route_name="controlplane.api.command.item",
    request_method="GET",
    renderer="json",
    permission=ControlplanePermission.COMMAND_READ,
)
def api_command_item(request):
    return services.command_detail(request, request.context.object)


def _reason(request) -> str:
    try:
        body = request.json_body if request.body else {}
    except ValueError:
        raise InvalidInput(_("the body must be JSON")) from None
    if not isinstance(body, dict):
        raise InvalidInput(_("the body must be a JSON object"))
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise InvalidInput(_("reason must be text"), "reason")
    return reason


def _api_action(request, action):
    command = request.context.object
    try:
        result = action(command, _reason(request))
    except services.KeptConflict as error:
        request.response.status_int = error.status
        message = request.localizer.translate(error.message)
        return {"error": {"code": error.code, "message": message}}
    if isinstance(result, Command) and result.id != command.id:
        request.response.status_int = 201
        return services.command_detail(request, result)
    request.dbsession.refresh(command)
    return services.command_detail(request, command)


@view_config(
    route_name="controlplane.api.command.approve",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def api_command_approve(request):
    return _api_action(request, lambda c, r: services.decide(request, c.id, "approve", r))


@view_config(
    route_name="controlplane.api.command.reject",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def api_command_reject(request):
    return _api_action(request, lambda c, r: services.decide(request, c.id, "reject", r))


@view_config(
    route_name="controlplane.api.command.cancel",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_CANCEL,
)
def api_command_cancel(request):
    return _api_action(request, lambda c, r: services.cancel_command(request, c.id, r))


@view_config(
    route_name="controlplane.api.command.retry",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_REQUEST,
)
def api_command_retry(request):
    return _api_action(request, lambda c, r: services.retry_command(request, c.id, r))


@view_config(
    route_name="controlplane.api.policy",
    request_method="GET",
    renderer="json",
    permission=ControlplanePermission.POLICY_READ,
)
def api_policy(request):
    site = request.context.object
    return services.policy_dict(site.id, services.policy_for(request.dbsession, site.id))


@view_config(
    route_name="controlplane.api.policy",
    request_method="PUT",
    renderer="json",
    permission=ControlplanePermission.POLICY_EDIT,
)
def api_policy_update(request):
    site = request.context.object
    try:
        body = request.json_body
    except ValueError:
        raise InvalidInput(_("the body must be JSON")) from None
    return services.policy_dict(site.id, services.set_policy(request, site, body))


@view_config(
    route_name="controlplane.api.signing_key",
    request_method="GET",
    renderer="json",
    permission=ControlplanePermission.COMMAND_READ,
)
def api_signing_key(request):
    key = signer(request)
    return {
        "algorithm": "ed25519",
        "signing": key.can_sign,
        "key_id": key.key_id,
        "public_key": key.public_key_text,
    }
