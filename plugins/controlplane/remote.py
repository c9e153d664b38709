"""The legacy ``/api/remote/*`` adapter: the older remote API's operations mapped onto the
control plane's services (docs/controlplane.md has the mapping table).

Every answer, errors included, carries ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and a
``Link`` to the successor, so old clients can find out they should move. Bodies keep the old
shape: ``{"success": true, ...}`` or ``{"success": false, "error", "code"}``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from email.utils import formatdate

import sqlalchemy as sa
from pyramid.events import NewResponse
from pyramid.exceptions import ConfigurationError
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError, InvalidInput
from plugins.controlplane import services
from plugins.controlplane.models import Command
from plugins.controlplane.permissions import ControlplanePermission
from plugins.controlplane.portal import _live_for, miner_dict
from plugins.hosting.models import Miner
from plugins.hosting.permissions import HostingPermission

_ = TranslationStringFactory("hashinsight")

PREFIX = "/api/remote/"
DEPRECATED_SETTING = "controlplane.remote_deprecated_on"
SUNSET_SETTING = "controlplane.remote_sunset_on"
DEFAULT_DEPRECATED = "2026-12-01"
DEFAULT_SUNSET = "2027-06-30"
SUCCESSORS = {
    "miners": "/api/v1/portal/miners",
    "commands": "/api/v1/portal/commands",
}
MAX_LIST = 200


def _day(settings, key, default) -> dt.date:
    raw = settings.get(key, default)
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ConfigurationError(f"{key} must be a date like 2027-06-30, not {raw!r}") from None


def deprecation_headers(settings) -> dict[str, str]:
    deprecated = _day(settings, DEPRECATED_SETTING, DEFAULT_DEPRECATED)
    sunset = _day(settings, SUNSET_SETTING, DEFAULT_SUNSET)
    epoch = calendar.timegm(sunset.timetuple())
    return {
        "Deprecation": f"@{calendar.timegm(deprecated.timetuple())}",
        "Sunset": formatdate(epoch, usegmt=True),
    }


def _add_headers(event) -> None:
    request = event.request
    if not request.path.startswith(PREFIX):
        return
    headers = request.registry["controlplane.remote_headers"]
    resource = request.path[len(PREFIX) :].split("/", 1)[0]
    successor = SUCCESSORS.get(resource, "/api/v1/portal/commands")
    event.response.headers.update(headers)
    event.response.headers["Link"] = (
        f'<{successor}>; rel="successor-version", </docs/api/>; rel="deprecation"'
    )


def _fail(request, error: DomainError) -> dict:
    request.response.status_int = error.status
    message = request.localizer.translate(error.message)  # plain strings pass through
    return {"success": False, "error": message, "code": error.code}


def _body(request) -> dict:
    try:
        body = request.json_body if request.body else {}
    except ValueError:
        raise InvalidInput(_("the body must be JSON")) from None
    if not isinstance(body, dict):
        raise InvalidInput(_("the body must be a JSON object"))
    return body


@view_config(
    route_name="controlplane.remote.miners",
    request_method="GET",
    renderer="json",
    permission=HostingPermission.MINER_READ,
)
def miners(request):
    rows = list(request.dbsession.scalars(sa.select(Miner).order_by(Miner.id).limit(MAX_LIST)))
    live = _live_for(request.dbsession, [m.id for m in rows])
    return {"success": True, "miners": [miner_dict(m, live.get(m.id)) for m in rows]}


@view_config(
    route_name="controlplane.remote.commands",
    request_method="GET",
    renderer="json",
    permission=ControlplanePermission.COMMAND_READ,
)
def commands(request):
    rows = list(request.dbsession.scalars(services.command_query().limit(MAX_LIST)))
    counts = services.target_counts(request.dbsession, [c.id for c in rows])
    return {"success": True, "commands": [c.as_dict(counts[c.id]) for c in rows]}


@view_config(
    route_name="controlplane.remote.commands",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_REQUEST,
)
def command_create(request):
    """Old body: ``{"command", "miner_ids" | "miner_id", "site_id", "params", "reason"}``."""
    try:
        body = _body(request)
        ids = body.get("miner_ids")
        if ids is None and body.get("miner_id") is not None:
            ids = [body["miner_id"]]
        command = services.create_command(
            request,
            body.get("site_id"),
            body.get("command") or body.get("command_type") or "",
            body.get("params") or {},
            body.get("reason") or "",
            {"miner_ids": ids} if ids is not None else None,
        )
    except DomainError as error:
        from hashinsight_core.errors import fresh_transaction

        fresh_transaction(request)  # nothing of a refused request is kept
        return _fail(request, error)
    request.response.status_int = 201
    return {"success": True, "command": services.command_detail(request, command)}


@view_config(
    route_name="controlplane.remote.command",
    request_method="GET",
    renderer="json",
    permission=ControlplanePermission.COMMAND_READ,
)
def command(request):
    return {"success": True, "command": services.command_detail(request, request.context.object)}


def _act(request, action):
    command = request.context.object
    try:
        reason = _body(request).get("reason") or ""
        if not isinstance(reason, str):
            raise InvalidInput(_("reason must be text"), "reason")

        action(command.id, reason)
    except services.KeptConflict as error:
        return _fail(request, error)
    except DomainError as error:
        from hashinsight_core.errors import fresh_transaction

        fresh_transaction(request)
        return _fail(request, error)
    command = request.dbsession.get(Command, command.id)
    request.dbsession.refresh(command)
    return {"success": True, "command": services.command_detail(request, command)}


@view_config(
    route_name="controlplane.remote.approve",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def approve(request):
    return _act(request, lambda cid, reason: services.decide(request, cid, "approve", reason))


@view_config(
    route_name="controlplane.remote.reject",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def reject(request):
    return _act(request, lambda cid, reason: services.decide(request, cid, "reject", reason))


@view_config(
    route_name="controlplane.remote.cancel",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_CANCEL,
)
def cancel(request):
    return _act(request, lambda cid, reason: services.cancel_command(request, cid, reason))


def includeme(config):
    from hashinsight_core.scoping import object_factory

    config.registry["controlplane.remote_headers"] = deprecation_headers(config.get_settings())
    command = object_factory(Command, "command_id")
    config.add_route("controlplane.remote.miners", "/api/remote/miners")
    config.add_route("controlplane.remote.commands", "/api/remote/commands")
    config.add_route(
        "controlplane.remote.command", "/api/remote/commands/{command_id}", factory=command
    )
    for action in ("approve", "reject", "cancel"):
        config.add_route(
            f"controlplane.remote.{action}",
            f"/api/remote/commands/{{command_id}}/{action}",
            factory=command,
        )
    config.add_subscriber(_add_headers, NewResponse)
    config.scan("plugins.controlplane.remote")
