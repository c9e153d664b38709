"""Device endpoints for commands: our collector's, and the legacy collector contract.

::

    GET  /api/v1/edge/commands              -> 200 {"commands": [...]}          (ours)
    POST /api/v1/edge/commands/{id}/ack     -> 200 {"ok", "duplicate", "status"}
    GET  /api/edge/v1/commands/poll         -> 200 {"commands": [...]} | 204     (legacy)
    GET  /api/collector/commands/pending    -> 200 {"success": true, "commands": [...]}
    POST /api/edge/v1/commands/{id}/ack     -> 200 {"success": true, ...}
    POST /api/collector/commands/{id}/result

Authentication, quota and "last seen" are hosting's (``plugins.hosting.edge_views``); a
device sees and acknowledges only its own zone's miners.
"""

from __future__ import annotations

import json

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from plugins.controlplane import services
from plugins.hosting.edge_views import EdgeProblem, authenticate, throttle, touch
from plugins.hosting.permissions import HostingPermission

MAX_ACK_BYTES = 64 * 1024


def _limit(request) -> int:
    try:
        return max(1, min(500, int(request.GET.get("limit", 100))))
    except ValueError:
        raise EdgeProblem(400, "bad_limit", "limit must be a whole number") from None


def _device(request, *, legacy: bool):
    device = authenticate(request, legacy=legacy)
    throttle(request, device)
    touch(request, device, None)
    return device


def _body(request) -> dict:
    if request.content_length is not None and request.content_length > MAX_ACK_BYTES:
        raise EdgeProblem(413, "too_large", f"the body is over {MAX_ACK_BYTES} bytes")
    raw = request.body_file_seekable.read(MAX_ACK_BYTES + 1)
    if len(raw) > MAX_ACK_BYTES:
        raise EdgeProblem(413, "too_large", f"the body is over {MAX_ACK_BYTES} bytes")
    try:
        body = json.loads(raw or b"null", parse_constant=_no_constant)
    except ValueError as error:
        raise EdgeProblem(400, "bad_json", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise EdgeProblem(400, "bad_body", "the body must be a JSON object")
    return body


def _no_constant(name):
    raise ValueError(f"{name} is not a number")


def _error(request, problem, *, legacy: bool):
    request.response.status_int = problem.status
    if getattr(problem, "retry_after", None) is not None:
        request.response.headers["Retry-After"] = str(problem.retry_after)
    if legacy:
        return {"success": False, "error": problem.message, "code": problem.code}
    return {"error": {"code": problem.code, "message": problem.message}}


def _legacy_shape(command: dict) -> dict:
    """The legacy collector's fields (it cannot check signatures, so none are sent)."""
    return {
        "command_id": int(command["id"]),
        "miner_id": command["miner_id"],
        "miner_key": command["miner_key"],
        "command": command["action"],
        "params": command["params"],
        "site_id": int(command["site_id"]),
        "zone_id": int(command["zone_id"]),
        "expires_at": command["expires_at"],
        "issued_at": command["issued_at"],
    }


@view_config(
    route_name="controlplane.edge.poll",
    request_method="GET",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def poll(request):
    try:
        device = _device(request, legacy=False)
        commands = services.fetch_for_device(
            request, device, signed_only=True, limit=_limit(request)
        )
    except EdgeProblem as problem:
        return _error(request, problem, legacy=False)
    return {"commands": commands}


def _ack(request, *, legacy: bool):
    try:
        device = _device(request, legacy=legacy)
        result = services.acknowledge(
            request, device, request.matchdict["target_id"], _body(request)
        )
    except (EdgeProblem, services.DeviceProblem) as problem:
        return _error(request, problem, legacy=legacy)
    if legacy:
        return {"success": True, **result}
    return result


@view_config(
    route_name="controlplane.edge.ack",
    request_method="POST",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def ack(request):
    return _ack(request, legacy=False)


@view_config(
    route_name="controlplane.edge.legacy_poll",
    request_method="GET",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def legacy_poll(request):
    try:
        device = _device(request, legacy=True)
        commands = services.fetch_for_device(
            request, device, signed_only=False, limit=_limit(request)
        )
    except EdgeProblem as problem:
        return _error(request, problem, legacy=True)
    if not commands:
        return HTTPNoContent()
    return {"commands": [_legacy_shape(c) for c in commands]}


@view_config(
    route_name="controlplane.edge.legacy_pending",
    request_method="GET",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def legacy_pending(request):
    try:
        device = _device(request, legacy=True)
        commands = services.fetch_for_device(
            request, device, signed_only=False, limit=_limit(request)
        )
    except EdgeProblem as problem:
        return _error(request, problem, legacy=True)
    return {"success": True, "commands": [_legacy_shape(c) for c in commands]}


@view_config(
    route_name="controlplane.edge.legacy_ack",
    request_method="POST",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
@view_config(
    route_name="controlplane.edge.legacy_result",
    request_method="POST",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def legacy_ack(request):
    return _ack(request, legacy=True)
