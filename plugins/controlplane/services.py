"""Remote commands: asking for one, listing, cancelling, and expiring the stale ones.

Every change of ``Command.status`` goes through :func:`plugins.controlplane.states.transition`,
so the rules of the state machine hold for the page, the API and the background job alike.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from urllib.parse import urlsplit

import jsonschema
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, DomainError, InvalidInput
from hashinsight_core.openapi import DEFAULT_LIMIT, MAX_LIMIT
from plugins.controlplane.models import Command
from plugins.controlplane.schemas import COMMAND_PARAMS, COMMAND_TYPES
from plugins.controlplane.states import (
    EXPIRABLE,
    CommandStatus,
    IllegalTransition,
    is_terminal,
    transition,
)
from plugins.hosting.models import Site

log = logging.getLogger(__name__)

TTL_SETTING = "controlplane.command_ttl_minutes"
DEFAULT_TTL_MINUTES = 60
MAX_TTL_MINUTES = 7 * 24 * 60  # a week: an order older than that is not what anyone meant now
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class NotFound(DomainError):
    status = 404
    code = "not_found"


def command_ttl(settings) -> dt.timedelta:
    """How long a new command waits to be carried out before it expires.

    Raises ``ValueError`` for a setting that is not a whole number of minutes in range; the
    plugin's ``includeme`` calls this once so a bad ini fails at start-up, not on first use.
    """
    raw = settings.get(TTL_SETTING, DEFAULT_TTL_MINUTES)
    try:
        minutes = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{TTL_SETTING} must be a whole number of minutes, not {raw!r}") from None
    if not 1 <= minutes <= MAX_TTL_MINUTES:
        raise ValueError(f"{TTL_SETTING} must be between 1 and {MAX_TTL_MINUTES}, not {minutes}")
    return dt.timedelta(minutes=minutes)


def _params_error(error: jsonschema.ValidationError) -> InvalidInput:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {}))) or "nothing"
        field = ".".join(["params", *path, extra[0]]) if extra else "params"
        return InvalidInput(f"{field} is not a setting of this command (allowed: {allowed})", field)
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        field = ".".join(["params", *path, *missing[:1]])
        return InvalidInput(f"{field} is required for this command", field)
    field = ".".join(["params", *path])
    if path == ["url"] and error.validator == "pattern":
        return InvalidInput(f"{field} must look like stratum+tcp://pool.example.com:3333", field)
    if path == ["user"] and error.validator == "pattern":
        return InvalidInput(f"{field} must not contain spaces", field)
    return InvalidInput(f"{field}: {error.message}", field)


def validate_params(command_type: str, params) -> dict:
    """``params`` checked against the command type's JSON schema; InvalidInput (422) if not."""
    if command_type not in COMMAND_PARAMS:
        raise InvalidInput(
            f"command_type must be one of {', '.join(COMMAND_TYPES)}", "command_type"
        )
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise InvalidInput("params must be an object", "params")
    validator = jsonschema.Draft7Validator(COMMAND_PARAMS[command_type])
    errors = sorted(validator.iter_errors(params), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise _params_error(errors[0])
    for key, value in params.items():
        if isinstance(value, str) and _CONTROL_CHARS.search(value):
            raise InvalidInput(f"params.{key} must be one line of text", f"params.{key}")
    if command_type == "set_pool":
        try:
            urlsplit(params["url"]).port  # noqa: B018 - raises ValueError above 65535
        except ValueError:
            raise InvalidInput("params.url has a port above 65535", "params.url") from None
    return dict(params)


def create_command(request, site_id, command_type: str, params=None, reason: str = "") -> Command:
    """Record a new command: PENDING, expiring ``controlplane.command_ttl_minutes`` from now."""
    try:
        site_id = int(site_id)
    except (TypeError, ValueError):
        raise InvalidInput("site_id must be a whole number", "site_id") from None
    params = validate_params(command_type, params)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise InvalidInput("reason must be at most 500 characters", "reason")
    dbsession = request.dbsession
    if dbsession.get(Site, site_id) is None:
        raise InvalidInput(f"there is no site with id {site_id}", "site_id")
    now = utcnow()
    user = request.user
    command = Command(
        site_id=site_id,
        command_type=command_type,
        params=params,
        status=CommandStatus.PENDING.value,
        requested_by_id=user.id if user is not None else None,
        reason=reason,
        expires_at=now + command_ttl(request.registry.settings),
        created_at=now,
        updated_at=now,
    )
    dbsession.add(command)
    dbsession.flush()
    request.emit(
        "controlplane:command:request",
        command_id=command.id,
        site_id=site_id,
        command_type=command_type,
    )
    return command


def command_query(status: str | None = None, site_id: int | None = None) -> sa.Select:
    """Commands newest first, only those of ``status`` / at ``site_id`` when given."""
    query = sa.select(Command)
    if status:
        query = query.where(Command.status == CommandStatus(status).value)
    if site_id is not None:
        query = query.where(Command.site_id == int(site_id))
    return query.order_by(Command.created_at.desc(), Command.id.desc())


def list_commands(
    dbsession,
    status: str | None = None,
    site_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> tuple[list[Command], int]:
    """One page of :func:`command_query` (with each command's site and requester loaded), and
    how many match in all."""
    limit = min(max(1, int(limit)), MAX_LIMIT)
    offset = max(0, int(offset))
    query = command_query(status, site_id)
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if offset >= total:
        return [], int(total or 0)
    rows = dbsession.scalars(
        query.options(selectinload(Command.site), selectinload(Command.requested_by))
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


def cancel_command(request, command_id: int) -> Command:
    """Move a command that has not finished to CANCELLED; 409 if it already finished."""
    # FOR UPDATE: a cancel and the expiry job touching one command wait for each other, so
    # the second one sees the first one's result instead of overwriting it (PostgreSQL).
    command = request.dbsession.scalar(
        sa.select(Command).where(Command.id == int(command_id)).with_for_update()
    )
    if command is None:
        raise NotFound(f"there is no command with id {command_id}")
    if is_terminal(command.status):
        raise Conflict(
            f"command {command.id} is already {command.status}; only a command that has not "
            "finished can be cancelled",
            "status",
        )
    try:
        command.status = transition(command.status, CommandStatus.CANCELLED).value
    except IllegalTransition as error:
        raise Conflict(str(error), "status") from None
    request.dbsession.flush()
    user = request.user
    request.emit(
        "controlplane:command:cancel",
        command_id=command.id,
        site_id=command.site_id,
        by_user_id=user.id if user is not None else None,
    )
    return command


def expire_commands(request) -> int:
    """The periodic job: every open command past ``expires_at`` becomes EXPIRED.

    Only commands that were never handed to a device (PENDING, PENDING_APPROVAL, APPROVED)
    expire. Running it again changes nothing, because EXPIRED is final. Returns how many
    commands it expired.
    """
    now = utcnow()
    rows = request.dbsession.scalars(
        sa.select(Command)
        .where(Command.status.in_(sorted(s.value for s in EXPIRABLE)), Command.expires_at <= now)
        .order_by(Command.id)
        # A row a cancel is holding right now is left for the next run, a minute later.
        .with_for_update(skip_locked=True)
    ).all()
    for command in rows:
        command.status = transition(command.status, CommandStatus.EXPIRED).value
    request.dbsession.flush()
    for command in rows:
        request.emit("controlplane:command:expire", command_id=command.id, site_id=command.site_id)
    if rows:
        log.info("expired %d remote command(s)", len(rows))
    return len(rows)
