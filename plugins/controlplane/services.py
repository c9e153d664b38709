"""Remote commands: asking for one, approving, signing, handing to devices, acknowledging,
checking the outcome, expiring.

Every status change goes through :func:`move` (a command) or :func:`move_targets` (its
miners): the state machine in :mod:`plugins.controlplane.states` says whether the move is
legal, and a conditional ``UPDATE … WHERE status = <the status we saw>`` applies it, so two
requests acting on one command at the same moment cannot both move it (the second one gets a
409). Approvals also lock the command row (``SELECT … FOR UPDATE`` on PostgreSQL) so the
approval count they read is the one that counts. Every command move is an audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

import jsonschema
import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, DomainError, InvalidInput
from hashinsight_core.openapi import DEFAULT_LIMIT, MAX_LIMIT
from plugins.controlplane.models import Approval, Command, CommandTarget, SitePolicy
from plugins.controlplane.schemas import COMMAND_PARAMS, COMMAND_TYPES, DEFAULT_RISKS, RISK_LEVELS
from plugins.controlplane.signing import signer
from plugins.controlplane.states import (
    ACK_STATUSES,
    DISPATCHABLE,
    EXPIRABLE,
    TARGET_TERMINAL,
    TARGET_TRANSITIONS,
    CommandStatus,
    IllegalTransition,
    TargetStatus,
    finished_status,
    is_terminal,
    target_status,
    transition,
)
from plugins.hosting.models import RETIRED, Miner, Site, Zone

log = logging.getLogger(__name__)
_ = TranslationStringFactory("hashinsight")

S = CommandStatus
T = TargetStatus

TTL_SETTING = "controlplane.command_ttl_minutes"
ACK_TIMEOUT_SETTING = "controlplane.ack_timeout_minutes"
OUTCOME_WINDOW_SETTING = "controlplane.outcome_window_minutes"
DEFAULT_TTL_MINUTES = 60
DEFAULT_ACK_TIMEOUT_MINUTES = 15
DEFAULT_OUTCOME_WINDOW_MINUTES = 10
MAX_TTL_MINUTES = 7 * 24 * 60  # a week: an order older than that is not what anyone meant now
MAX_TARGETS = 10_000
HOSTING_ROLES = frozenset({"owner", "admin"})
DEFAULT_APPROVER_ROLES = ("owner", "admin")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
SELECTORS = ("miner_ids", "zone_id", "customer_id", "model")


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class KeptConflict(Conflict):
    """A 409 whose writes must be kept (the command was rejected because it changed): views
    answer it without raising, so the transaction commits."""


def status_text(request, status) -> str:
    """A command status as the person reads it on the pages ("Done", "完成"), for messages."""
    from plugins.controlplane.views import STATUS_LABELS  # the views import this module

    label = STATUS_LABELS.get(status)
    return request.localizer.translate(label[0]) if label else str(status)


def _minutes(settings, key: str, default: int, highest: int) -> dt.timedelta:
    raw = settings.get(key, default)
    try:
        minutes = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{key} must be a whole number of minutes, not {raw!r}") from None
    if not 1 <= minutes <= highest:
        raise ValueError(f"{key} must be between 1 and {highest}, not {minutes}")
    return dt.timedelta(minutes=minutes)


def command_ttl(settings) -> dt.timedelta:
    """How long a new command waits to be carried out before it expires.

    Raises ``ValueError`` for a setting that is not a whole number of minutes in range; the
    plugin's ``includeme`` calls this once so a bad ini fails at start-up, not on first use.
    """
    return _minutes(settings, TTL_SETTING, DEFAULT_TTL_MINUTES, MAX_TTL_MINUTES)


def ack_timeout(settings) -> dt.timedelta:
    """How long a device may hold a miner's command without acknowledging it."""
    return _minutes(settings, ACK_TIMEOUT_SETTING, DEFAULT_ACK_TIMEOUT_MINUTES, 24 * 60)


def outcome_window(settings) -> dt.timedelta:
    """How long after an ack telemetry may take to show the effect."""
    return _minutes(settings, OUTCOME_WINDOW_SETTING, DEFAULT_OUTCOME_WINDOW_MINUTES, 24 * 60)


# --- params, policy, digest -----------------------------------------------------------------


def _params_error(error: jsonschema.ValidationError) -> InvalidInput:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {}))) or "nothing"
        field = ".".join(["params", *path, extra[0]]) if extra else "params"
        return InvalidInput(
            _(
                "${field} is not a setting of this command (allowed: ${allowed})",
                mapping={"field": field, "allowed": allowed},
            ),
            field,
        )
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        field = ".".join(["params", *path, *missing[:1]])
        return InvalidInput(
            _("${field} is required for this command", mapping={"field": field}), field
        )
    field = ".".join(["params", *path])
    if path == ["url"] and error.validator == "pattern":
        return InvalidInput(
            _(
                "${field} must look like stratum+tcp://pool.example.com:3333",
                mapping={"field": field},
            ),
            field,
        )
    if path == ["user"] and error.validator == "pattern":
        return InvalidInput(_("${field} must not contain spaces", mapping={"field": field}), field)
    # jsonschema words its own messages in English; they are shown as they come.
    return InvalidInput(
        _("${field}: ${problem}", mapping={"field": field, "problem": error.message}), field
    )


def validate_params(command_type: str, params) -> dict:
    """``params`` checked against the command type's JSON schema; InvalidInput (422) if not."""
    if command_type not in COMMAND_PARAMS:
        raise InvalidInput(
            _(
                "command_type must be one of ${types}",
                mapping={"types": ", ".join(COMMAND_TYPES)},
            ),
            "command_type",
        )
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise InvalidInput(_("params must be an object"), "params")
    validator = jsonschema.Draft7Validator(COMMAND_PARAMS[command_type])
    errors = sorted(validator.iter_errors(params), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise _params_error(errors[0])
    for key, value in params.items():
        if isinstance(value, bool) or (command_type == "switch_pool" and isinstance(value, float)):
            raise InvalidInput(
                _("params.${key} must be a whole number", mapping={"key": key}), f"params.{key}"
            )
        if isinstance(value, str) and _CONTROL_CHARS.search(value):
            raise InvalidInput(
                _("params.${key} must be one line of text", mapping={"key": key}), f"params.{key}"
            )
    if command_type == "set_pool":
        try:
            urlsplit(params["url"]).port  # noqa: B018 - raises ValueError above 65535
        except ValueError:
            raise InvalidInput(_("params.url has a port above 65535"), "params.url") from None
    return dict(params)


def digest_of(command_type: str, params: dict, miner_ids) -> str:
    """SHA-256 of the canonical (type, params, sorted target miner ids): what an approval is
    for. Any change to one of them is another command that needs its own approvals."""
    body = {"type": command_type, "params": params, "miners": sorted(int(m) for m in miner_ids)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Policy:
    risks: dict
    approver_roles: tuple[str, ...]
    allow_unsigned: bool

    def risk(self, command_type: str) -> str:
        return self.risks.get(command_type) or DEFAULT_RISKS.get(command_type, "high")


def policy_for(dbsession, site_id: int) -> Policy:
    row = dbsession.scalar(
        sa.select(SitePolicy).where(SitePolicy.site_id == site_id).execution_options(unscoped=True)
    )
    if row is None:
        return Policy({}, DEFAULT_APPROVER_ROLES, False)
    return Policy(
        dict(row.risks or {}),
        tuple(row.approver_roles or DEFAULT_APPROVER_ROLES),
        bool(row.allow_unsigned),
    )


def set_policy(request, site: Site, body) -> Policy:
    """Change a site's command policy (a partial update); audited."""
    from hashinsight_core.security import BUILTIN_ROLES

    if not isinstance(body, dict):
        raise InvalidInput(_("the body must be an object"))
    unknown = set(body) - {"risks", "approver_roles", "allow_unsigned"}
    if unknown:
        first = sorted(unknown)[0]
        raise InvalidInput(_("unknown field ${field}", mapping={"field": first}), first)
    row = request.dbsession.get(SitePolicy, site.id)
    if row is None:
        row = SitePolicy(site_id=site.id, risks={}, approver_roles=[], allow_unsigned=False)
        request.dbsession.add(row)
    if "risks" in body:
        risks = body["risks"]
        if not isinstance(risks, dict):
            raise InvalidInput(_("risks must be an object of command type -> level"), "risks")
        for name, level in risks.items():
            if name not in COMMAND_TYPES:
                raise InvalidInput(
                    _("risks: unknown command type ${name}", mapping={"name": repr(name)}),
                    "risks",
                )
            if level not in RISK_LEVELS:
                raise InvalidInput(
                    _("risks.${name} must be low, medium or high", mapping={"name": name}),
                    "risks",
                )
        row.risks = {**(row.risks or {}), **risks}
    if "approver_roles" in body:
        roles = body["approver_roles"]
        if (
            not isinstance(roles, list)
            or not roles
            or not all(isinstance(r, str) and r in BUILTIN_ROLES for r in roles)
            or "viewer" in roles
        ):
            raise InvalidInput(
                _("approver_roles must list one or more of owner, admin, operator, customer"),
                "approver_roles",
            )
        row.approver_roles = sorted(set(roles))
    if "allow_unsigned" in body:
        if not isinstance(body["allow_unsigned"], bool):
            raise InvalidInput(_("allow_unsigned must be true or false"), "allow_unsigned")
        row.allow_unsigned = body["allow_unsigned"]
    request.dbsession.flush()
    request.audit(
        "controlplane:policy:update",
        subject=("site", site.id),
        payload={
            "risks": row.risks,
            "approver_roles": row.approver_roles,
            "allow_unsigned": row.allow_unsigned,
        },
    )
    return policy_for(request.dbsession, site.id)


def policy_dict(site_id: int, policy: Policy) -> dict:
    return {
        "site_id": site_id,
        "risks": {t: policy.risk(t) for t in COMMAND_TYPES},
        "approver_roles": list(policy.approver_roles),
        "allow_unsigned": policy.allow_unsigned,
    }


def requester_slot(user, customer_id: int | None) -> str:
    """The side a requester speaks for: the hosting provider, the owning customer, or none."""
    if user is None:
        return ""
    if user.role in HOSTING_ROLES:
        return "hosting"
    if customer_id is not None and user.customer_id == customer_id:
        return "customer"
    return ""


def required_slots(risk: str, customer_id: int | None, requested_as: str = "") -> list[str]:
    """The approvals needed from people other than the requester."""
    if risk == "low":
        return []
    if risk == "medium":
        return ["approver"]
    slots = ["customer", "hosting"] if customer_id is not None else ["hosting", "hosting"]
    if requested_as in slots:
        slots.remove(requested_as)  # the request is that side's consent
    return slots


# --- the one place where statuses change ----------------------------------------------------

_STAMP = {S.APPROVED: "approved_at", S.DISPATCHED: "dispatched_at"}


def move(request, command: Command, target: CommandStatus, reason: str = "", actor=None) -> None:
    """Move ``command`` to ``target``: legal per the state machine, and only if nobody moved
    it since we read it (else 409). Audited as ``controlplane:command:<target>``."""
    current = command.status
    try:
        new = transition(current, target)
    except IllegalTransition:
        values = {
            "current": status_text(request, current),
            "target": status_text(request, target),
        }
        if is_terminal(current):
            message = _(
                "a command that is already ${current} cannot change any more", mapping=values
            )
        else:
            message = _("a command cannot go from ${current} to ${target}", mapping=values)
        raise Conflict(message, "status") from None

    now = utcnow()
    values = {"status": new.value, "updated_at": now}
    if reason:
        values["status_reason"] = reason[:500]
    if new in _STAMP:
        values[_STAMP[new]] = now
    if is_terminal(new):
        values["finished_at"] = now
    result = request.dbsession.execute(
        sa.update(Command)
        .where(Command.id == command.id, Command.status == current)
        .values(**values)
        .execution_options(synchronize_session=False, unscoped=True)
    )
    if result.rowcount != 1:
        raise Conflict(
            _(
                "command ${id} was changed by someone else at the same moment; reload it",
                mapping={"id": command.id},
            ),
            "status",
        )
    for key, value in values.items():
        sa.orm.attributes.set_committed_value(command, key, value)
    request.audit(
        f"controlplane:command:{new.value.lower()}",
        subject=("command", command.id),
        payload={"from": str(current), "to": new.value, "reason": reason[:500]},
        actor=actor,
    )
    request.emit(
        f"controlplane:command:{new.value.lower()}",
        command_id=command.id,
        site_id=command.site_id,
        status=new.value,
    )


def move_targets(request, command_id: int, new: TargetStatus, ids=None, **values) -> list[int]:
    """Move the miners of a command (all, or ``ids``) that may legally go to ``new``; returns
    the ids moved. Miners whose status has no edge to ``new`` are left as they are."""
    sources = sorted(s.value for s, exits in TARGET_TRANSITIONS.items() if new in exits)
    statement = sa.update(CommandTarget).where(
        CommandTarget.command_id == command_id, CommandTarget.status.in_(sources)
    )
    if ids is not None:
        statement = statement.where(CommandTarget.id.in_(list(ids)))
    # RETURNING: the rows this statement really moved (a row another transaction moved first
    # no longer matches the WHERE once its lock is released, and is not counted).
    result = request.dbsession.execute(
        statement.values(status=new.value, **values)
        .returning(CommandTarget.id)
        .execution_options(synchronize_session="fetch", unscoped=True)
    )
    return sorted(row[0] for row in result)


# --- creating -----------------------------------------------------------------------------


def resolve_targets(request, site_id: int, target) -> tuple[dict, list[Miner]]:
    """The miners a selector names right now, through the account's data scope (a miner the
    account cannot see is "not found", never "forbidden")."""
    if target is None:
        raise InvalidInput(
            _("target is required: one of miner_ids, zone_id, customer_id or model"), "target"
        )
    if not isinstance(target, dict):
        raise InvalidInput(_("target must be an object"), "target")
    given = [k for k in SELECTORS if target.get(k) not in (None, "", [])]
    extra = set(target) - set(SELECTORS)
    if extra:
        raise InvalidInput(
            _("target.${key} is not a way to choose miners", mapping={"key": sorted(extra)[0]}),
            "target",
        )
    if len(given) != 1:
        raise InvalidInput(
            _("target must name exactly one of miner_ids, zone_id, customer_id or model"), "target"
        )
    kind = given[0]
    value = target[kind]
    query = sa.select(Miner).where(Miner.site_id == site_id, Miner.status != RETIRED)
    if kind == "miner_ids":
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63 for v in value
        ):
            raise InvalidInput(
                _("target.miner_ids must be a list of miner ids"), "target.miner_ids"
            )
        if len(value) > MAX_TARGETS:
            raise InvalidInput(
                _("at most ${count} miners per command", mapping={"count": MAX_TARGETS}),
                "target.miner_ids",
            )
        value = sorted(set(value))
        query = query.where(Miner.id.in_(value))
    elif kind in ("zone_id", "customer_id"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(
                _("target.${key} must be a whole number", mapping={"key": kind}), f"target.{kind}"
            )
        query = query.where(getattr(Miner, kind) == value)
    else:
        if not isinstance(value, str) or len(value) > 100:
            raise InvalidInput(_("target.model must be a model name"), "target.model")
        query = query.where(Miner.model_name == value.strip())
    miners = list(request.dbsession.scalars(query.order_by(Miner.id).limit(MAX_TARGETS + 1)))
    if kind == "miner_ids":
        missing = sorted(set(value) - {m.id for m in miners})
        if missing:
            raise InvalidInput(
                _(
                    "miner ${miner} is not a working miner of site ${site}",
                    mapping={"miner": missing[0], "site": site_id},
                ),
                "target.miner_ids",
            )
    if not miners:
        raise InvalidInput(_("no miner of this site matches the target"), "target")
    if len(miners) > MAX_TARGETS:
        raise InvalidInput(
            _("more than ${count} miners match; narrow the target", mapping={"count": MAX_TARGETS}),
            "target",
        )
    return {kind: value}, miners


def create_command(
    request, site_id, command_type: str, params=None, reason: str = "", target=None, retry_of=None
) -> Command:
    """Record a command and its miners; PENDING, then PENDING_APPROVAL or (low risk) APPROVED."""
    try:
        site_id = int(site_id)
    except (TypeError, ValueError):
        raise InvalidInput(_("site_id must be a whole number"), "site_id") from None
    params = validate_params(command_type, params)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise InvalidInput(_("reason must be at most 500 characters"), "reason")
    dbsession = request.dbsession
    if not 0 < site_id < 2**63 or dbsession.get(Site, site_id) is None:
        raise InvalidInput(_("there is no site with id ${id}", mapping={"id": site_id}), "site_id")
    selector, miners = resolve_targets(request, site_id, target)
    policy = policy_for(dbsession, site_id)
    risk = policy.risk(command_type)
    owners = {m.customer_id for m in miners}
    customer_id = owners.pop() if len(owners) == 1 else None
    if risk == "high" and len(owners | {customer_id}) > 1:
        raise InvalidInput(
            _(
                "a high-risk command must target the miners of one customer (each customer "
                "approves for their own miners); split it per customer"
            ),
            "target",
        )
    user = request.user
    requested_as = requester_slot(user, customer_id) if risk == "high" else ""
    now = utcnow()
    command = Command(
        site_id=site_id,
        command_type=command_type,
        params=params,
        status=S.PENDING.value,
        requested_by_id=user.id if user is not None else None,
        reason=reason,
        expires_at=now + command_ttl(request.registry.settings),
        customer_id=customer_id,
        selector=selector,
        risk=risk,
        required=required_slots(risk, customer_id, requested_as),
        requester_role=requested_as,
        digest=digest_of(command_type, params, [m.id for m in miners]),
        retry_of_id=retry_of,
        created_at=now,
        updated_at=now,
    )
    dbsession.add(command)
    dbsession.flush()
    dbsession.add_all(
        CommandTarget(
            command_id=command.id,
            miner_id=m.id,
            site_id=m.site_id,
            zone_id=m.zone_id,
            customer_id=m.customer_id,
            miner_key=m.miner_key or "",
            serial=m.serial or "",
            status=T.PENDING.value,
            deliveries=0,
            result_code="",
            result_message="",
            error_class="",
            outcome="",
            outcome_note="",
            signature="",
        )
        for m in miners
    )
    dbsession.flush()
    request.audit(
        "controlplane:command:request",
        subject=("command", command.id),
        payload={
            "type": command_type,
            "params": params,
            "site": site_id,
            "target": selector,
            "miners": len(miners),
            "risk": risk,
            "digest": command.digest,
            "retry_of": retry_of,
        },
    )
    request.emit(
        "controlplane:command:request",
        command_id=command.id,
        site_id=site_id,
        command_type=command_type,
    )
    if risk == "low":
        approve_now(request, command, "low risk: no approval needed")
    else:
        move(request, command, S.PENDING_APPROVAL, f"needs {risk}-risk approval")
        notify_approvers(request, command, len(miners))
    return command


MAX_NOTIFIED = 50
MAIL_TEMPLATE = "plugins.controlplane:templates/mail/approve.txt.jinja2"


def notify_approvers(request, command: Command, miners: int) -> int:
    """E-mail the people whose approval would count, with a link to the command's page (they
    log in to decide: the link itself grants nothing). Sent after the commit."""
    from hashinsight_core.models import User
    from hashinsight_core.scoping import scope_for_user

    dbsession = request.dbsession
    policy = policy_for(dbsession, command.site_id)
    candidates = dbsession.scalars(
        sa.select(User)
        .where(User.is_active.is_(True), User.id != (command.requested_by_id or -1))
        .order_by(User.id)
        .limit(1000)
    )
    requester = request.user
    who = (requester.name or requester.email) if requester is not None else "HashInsight"
    sent = 0
    for user in candidates:
        if slot_for(user, command, policy, []) is None:
            continue
        if not scope_for_user(dbsession, user).allows_site(command.site_id):
            continue
        request.send_mail(
            user.email,
            _(
                "Approval needed: ${what} (command #${id})",
                mapping={"what": command.command_type, "id": command.id},
            ),
            MAIL_TEMPLATE,
            {
                "user": user,
                "requester": who,
                "what": command.command_type,
                "miners": miners,
                "reason": command.reason,
                "link": request.route_url("controlplane.command.detail", command_id=command.id),
                "expires": command.expires_at.strftime("%Y-%m-%d %H:%M"),
            },
        )
        sent += 1
        if sent >= MAX_NOTIFIED:
            break
    return sent


# --- approving ------------------------------------------------------------------------------


def load_for_update(request, command_id: int) -> Command:
    """The command (through the caller's scope: a foreign one is 404), row-locked until the
    transaction ends, so decisions on one command are taken one after the other."""
    command = request.dbsession.scalar(
        sa.select(Command)
        .where(Command.id == int(command_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if command is None:
        raise NotFound(_("there is no command with id ${id}", mapping={"id": command_id}))
    return command


def target_ids(dbsession, command_id: int) -> list[int]:
    return list(
        dbsession.scalars(
            sa.select(CommandTarget.miner_id)
            .where(CommandTarget.command_id == command_id)
            .execution_options(unscoped=True)
        )
    )


def digest_holds(dbsession, command: Command) -> bool:
    """Do the stored type, params and miners still hash to the approved digest?"""
    current = digest_of(
        command.command_type, command.params or {}, target_ids(dbsession, command.id)
    )
    return current == command.digest


def approvals_of(dbsession, command_id: int) -> list[Approval]:
    return list(
        dbsession.scalars(
            sa.select(Approval)
            .where(Approval.command_id == command_id)
            .order_by(Approval.id)
            .execution_options(unscoped=True)
        )
    )


def requirements_met(command: Command, approvals: list[Approval]) -> bool:
    """Approvals for this exact digest, by people other than the requester, fill every slot."""
    valid = [
        a
        for a in approvals
        if a.decision == "approve"
        and a.digest == command.digest
        and a.user_id is not None
        and a.user_id != command.requested_by_id
    ]
    if len({a.user_id for a in valid}) != len(valid):
        return False
    have = Counter("approver" if command.risk == "medium" else a.role for a in valid)
    need = Counter(command.required or [])
    return all(have[slot] >= count for slot, count in need.items())


def slot_for(user, command: Command, policy: Policy, approvals: list[Approval]) -> str | None:
    """The approval slot ``user`` would fill now, or None if they may not approve this."""
    if command.risk == "medium":
        if user.role in policy.approver_roles or (
            user.role in HOSTING_ROLES and "owner" in policy.approver_roles
        ):
            return user.role
        return None
    filled = Counter(a.role for a in approvals if a.decision == "approve")
    open_slots = Counter(command.required or []) - filled
    is_customer = user.customer_id is not None and user.customer_id == command.customer_id
    if is_customer and open_slots["customer"] > 0 and user.role not in HOSTING_ROLES:
        return "customer"
    if user.role in HOSTING_ROLES and open_slots["hosting"] > 0:
        return "hosting"
    return None


def decide(request, command_id: int, decision: str, reason: str = "") -> Command:
    """One person's approval or rejection; may move the command to APPROVED or REJECTED."""
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise InvalidInput(_("reason must be at most 500 characters"), "reason")
    if decision == "reject" and not reason:
        raise InvalidInput(_("say why the command is rejected"), "reason")
    user = request.user
    if user is None:
        raise Forbidden(_("log in to approve commands"))
    command = load_for_update(request, command_id)
    if command.status != S.PENDING_APPROVAL:
        raise Conflict(
            _(
                "command ${id} is ${status}; only a command waiting for approval "
                "can be approved or rejected",
                mapping={"id": command.id, "status": status_text(request, command.status)},
            ),
            "status",
        )
    if command.requested_by_id == user.id:
        raise Forbidden(_("no one approves or rejects their own request"), "user")
    approvals = approvals_of(request.dbsession, command.id)
    if any(a.user_id == user.id for a in approvals):
        raise Conflict(_("you have already decided on this command"), "user")
    policy = policy_for(request.dbsession, command.site_id)
    slot = slot_for(user, command, policy, approvals)
    if slot is None:
        needed = {"needed": ", ".join(command.required or []), "risk": command.risk}
        if decision == "reject":
            message = _(
                "your role cannot reject this ${risk}-risk command (needed: ${needed})",
                mapping=needed,
            )
        else:
            message = _(
                "your role cannot approve this ${risk}-risk command (needed: ${needed})",
                mapping=needed,
            )
        raise Forbidden(message, "user")
    if not digest_holds(request.dbsession, command):
        move(request, command, S.REJECTED, "the command changed after it was requested")
        move_targets(request, command.id, T.CANCELLED)
        raise KeptConflict(_("the command changed after it was requested; ask for it again"))
    approval = Approval(
        command_id=command.id,
        site_id=command.site_id,
        customer_id=command.customer_id,
        user_id=user.id,
        role=slot,
        decision=decision,
        reason=reason,
        digest=command.digest,
        at=utcnow(),
    )
    request.dbsession.add(approval)
    request.dbsession.flush()
    request.audit(
        f"controlplane:command:{decision}",
        subject=("command", command.id),
        payload={"slot": slot, "digest": command.digest, "reason": reason},
    )
    if decision == "reject":
        move(request, command, S.REJECTED, reason)
        move_targets(request, command.id, T.CANCELLED)
    elif requirements_met(command, [*approvals, approval]):
        approve_now(request, command, "approved by " + ", ".join(command.required or []))
    return command


def approve_now(request, command: Command, reason: str) -> None:
    """APPROVED, and every miner's wire command signed with the approvals that allowed it."""
    move(request, command, S.APPROVED, reason)
    sign_targets(request, command)


def wire_command(command: Command, target: CommandTarget, approvals, site, zone) -> dict:
    """A miner's command as devices fetch it (docs/controlplane.md); the signature covers
    every field listed in ``edge_collector.signing.SIGNED_FIELDS``."""
    issued = target.issued_at or command.approved_at or utcnow()
    return {
        "id": str(target.id),
        "command_id": command.id,
        "site_id": str(command.site_id),
        "site_name": site.name if site is not None else "",
        "zone_id": str(target.zone_id),
        "zone_name": zone.name if zone is not None else "",
        "miner_key": target.miner_key,
        "miner_id": target.miner_id,
        "action": command.command_type,
        "params": dict(command.params or {}),
        "issued_at": issued.isoformat() + "Z",
        "expires_at": command.expires_at.isoformat() + "Z",
        "digest": command.digest,
        "risk": command.risk,
        "customer_id": command.customer_id,
        "requested_by": command.requested_by_id,
        "requester_role": command.requester_role or "",
        "approvals": [
            {
                "user_id": a.user_id,
                "role": a.role,
                "digest": a.digest,
                "at": a.at.isoformat() + "Z",
            }
            for a in approvals
            if a.decision == "approve"
        ],
    }


def _places(dbsession, targets):
    zone_ids = {t.zone_id for t in targets}
    zones = {
        z.id: z
        for z in dbsession.scalars(
            sa.select(Zone).where(Zone.id.in_(zone_ids)).execution_options(unscoped=True)
        )
    }
    return zones


def sign_targets(request, command: Command) -> None:
    dbsession = request.dbsession
    targets = list(
        dbsession.scalars(
            sa.select(CommandTarget)
            .where(CommandTarget.command_id == command.id)
            .execution_options(unscoped=True)
        )
    )
    approvals = approvals_of(dbsession, command.id)
    site = dbsession.scalar(
        sa.select(Site).where(Site.id == command.site_id).execution_options(unscoped=True)
    )
    zones = _places(dbsession, targets)
    key = signer(request)
    now = utcnow()
    for target in targets:
        target.issued_at = now
        target.signature = key.sign(
            wire_command(command, target, approvals, site, zones.get(target.zone_id))
        )
    dbsession.flush()


# --- cancelling and retrying ----------------------------------------------------------------


def cancel_command(request, command_id: int, reason: str = "") -> Command:
    """Call back a command that has not finished; 409 if it already finished."""
    command = load_for_update(request, command_id)
    if is_terminal(command.status):
        raise Conflict(
            _(
                "command ${id} is already ${status}; only a command that has not "
                "finished can be cancelled",
                mapping={"id": command.id, "status": status_text(request, command.status)},
            ),
            "status",
        )
    move(request, command, S.CANCELLED, (reason or "").strip() or "cancelled")
    move_targets(request, command.id, T.CANCELLED)
    return command


def retry_command(request, command_id: int, reason: str = "") -> Command:
    """A new command of the same type and params for the miners that did not succeed (it
    needs its own approvals: its miners differ, so its digest does)."""
    command = request.dbsession.get(Command, int(command_id))
    if command is None:
        raise NotFound(_("there is no command with id ${id}", mapping={"id": command_id}))
    if not is_terminal(command.status):
        raise Conflict(_("only a finished command can be retried"), "status")
    failed = list(
        request.dbsession.scalars(
            sa.select(CommandTarget.miner_id).where(
                CommandTarget.command_id == command.id,
                CommandTarget.status.in_([T.FAILED, T.REJECTED, T.EXPIRED, T.CANCELLED]),
            )
        )
    )
    if not failed:
        raise Conflict(_("every miner of this command succeeded; nothing to retry"), "status")
    return create_command(
        request,
        command.site_id,
        command.command_type,
        dict(command.params or {}),
        (reason or "").strip() or f"retry of command {command.id}",
        {"miner_ids": sorted(failed)},
        retry_of=command.id,
    )


# --- reading --------------------------------------------------------------------------------


def command_query(
    status: str | None = None, site_id: int | None = None, awaiting: bool = False
) -> sa.Select:
    """Commands newest first, only those of ``status`` / at ``site_id`` when given."""
    query = sa.select(Command)
    if awaiting:
        status = S.PENDING_APPROVAL.value
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
    """One page of :func:`command_query`, and how many match in all."""
    limit = min(max(1, int(limit)), MAX_LIMIT)
    offset = max(0, int(offset))
    query = command_query(status, site_id)
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if offset >= total:
        return [], int(total or 0)
    rows = dbsession.scalars(query.limit(limit).offset(offset))
    return list(rows), int(total or 0)


def target_counts(dbsession, command_ids) -> dict[int, dict[str, int]]:
    """command id -> {miner status: count}, in one query."""
    counts: dict[int, dict[str, int]] = {cid: {} for cid in command_ids}
    if not counts:
        return counts
    rows = dbsession.execute(
        sa.select(CommandTarget.command_id, CommandTarget.status, sa.func.count())
        .where(CommandTarget.command_id.in_(list(counts)))
        .group_by(CommandTarget.command_id, CommandTarget.status)
        .execution_options(unscoped=True)
    )
    for command_id, status, count in rows:
        counts[command_id][status] = count
    return counts


def command_detail(request, command: Command) -> dict:
    dbsession = request.dbsession
    targets = list(
        dbsession.scalars(
            sa.select(CommandTarget)
            .where(CommandTarget.command_id == command.id)
            .order_by(CommandTarget.id)
        )
    )
    body = command.as_dict(target_counts(dbsession, [command.id])[command.id])
    body["targets"] = [t.as_dict() for t in targets]
    body["approvals"] = [a.as_dict() for a in approvals_of(dbsession, command.id)]
    body["confirmed"] = (
        bool(targets)
        and all(t.outcome == "confirmed" for t in targets if t.status == T.COMPLETED)
        and any(t.status == T.COMPLETED for t in targets)
    )
    return body


# --- devices: fetch and acknowledge ---------------------------------------------------------


class DeviceProblem(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _unscoped(query):
    return query.execution_options(unscoped=True)


def fetch_for_device(request, device, *, signed_only: bool, limit: int = 100) -> list[dict]:
    """The approved work for the miners of ``device``'s zone, as wire commands.

    A miner's command is handed out until the device acknowledges it (the device ignores a
    repeat by its id). ``signed_only``: our collector's endpoint serves unsigned commands only
    where the site allows them; the legacy endpoints (which cannot check signatures) serve
    anything only where the site allows unsigned commands.
    """
    dbsession = request.dbsession
    now = utcnow()
    policy = policy_for(dbsession, device.site_id)
    if not signed_only and not policy.allow_unsigned:
        return []
    query = (
        sa.select(CommandTarget, Command)
        .join(Command, Command.id == CommandTarget.command_id)
        .where(
            CommandTarget.site_id == device.site_id,
            CommandTarget.zone_id == device.zone_id,
            CommandTarget.status.in_([T.PENDING.value, T.DISPATCHED.value]),
            Command.status.in_(sorted(s.value for s in DISPATCHABLE)),
            Command.expires_at > now,
        )
        .order_by(CommandTarget.id)
        .limit(max(1, min(int(limit), 500)))
    )
    rows = dbsession.execute(_unscoped(query)).all()
    commands: dict[int, Command] = {}
    by_command: dict[int, list[CommandTarget]] = {}
    for target, command in rows:
        if not target.signature and not policy.allow_unsigned:
            continue  # no key when it was approved, and the site wants signatures
        commands[command.id] = command
        by_command.setdefault(command.id, []).append(target)
    out = []
    site = dbsession.scalar(_unscoped(sa.select(Site).where(Site.id == device.site_id)))
    zone = dbsession.scalar(_unscoped(sa.select(Zone).where(Zone.id == device.zone_id)))
    for command_id, targets in by_command.items():
        command = commands[command_id]
        if not digest_holds(dbsession, command):
            # Changed in the database after approval: it must not run anywhere.
            move(request, command, S.FAILED, "the command changed after approval", _device(device))
            move_targets(
                request,
                command.id,
                T.FAILED,
                error_class="tampered",
                result_message="the command changed after approval",
            )
            continue
        approvals = approvals_of(dbsession, command.id)
        # Already with this device (not acknowledged yet): handed out again, same id. Already
        # with another device of the zone: not this one's. Pending: claimed by a conditional
        # UPDATE, so of two devices polling at once exactly one gets each miner.
        mine = [t for t in targets if t.status == T.DISPATCHED and t.device_id == device.id]
        fresh = [t.id for t in targets if t.status == T.PENDING]
        claimed = []
        if fresh:
            claimed = move_targets(
                request,
                command.id,
                T.DISPATCHED,
                fresh,
                dispatched_at=now,
                device_id=device.id,
            )
        serve = mine + [t for t in targets if t.id in set(claimed)]
        if not serve:
            continue
        dbsession.execute(
            _unscoped(
                sa.update(CommandTarget)
                .where(CommandTarget.id.in_([t.id for t in serve]))
                .values(deliveries=CommandTarget.deliveries + 1)
                .execution_options(synchronize_session=False)
            )
        )
        if command.status == S.APPROVED:
            try:
                move(request, command, S.DISPATCHED, "fetched by a device", _device(device))
            except Conflict:
                pass  # another device of the zone moved it a moment ago
        if claimed:
            request.audit(
                "controlplane:command:deliver",
                subject=("command", command.id),
                payload={"targets": claimed, "zone": device.zone_id, "device": device.id},
                actor=_device(device),
            )
        for target in serve:
            body = wire_command(command, target, approvals, site, zone)
            body["signature"] = target.signature
            out.append(body)
    return out


def _device(device):
    return ("device", device.id)


def _snapshot(value, name: str):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DeviceProblem(422, "bad_ack", f"{name} must be an object")
    if len(json.dumps(value, default=str)) > 8192:
        raise DeviceProblem(413, "too_large", f"{name} is over 8 KiB")
    return value


def _text(body: dict, key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise DeviceProblem(422, "bad_ack", f"{key} must be text")
    return str(value)[:limit]


def acknowledge(request, device, target_id: str, body) -> dict:
    """A device's report for one miner of a command. A repeat changes nothing."""
    if not isinstance(body, dict):
        raise DeviceProblem(400, "bad_body", "the body must be a JSON object")
    try:
        ident = int(str(target_id))
        if not 0 < ident < 2**63:
            raise ValueError
    except ValueError:
        raise DeviceProblem(404, "not_found", f"there is no command {target_id}") from None
    dbsession = request.dbsession
    target = dbsession.scalar(
        _unscoped(sa.select(CommandTarget).where(CommandTarget.id == ident).with_for_update())
    )
    if target is None:
        raise DeviceProblem(404, "not_found", f"there is no command {target_id}")
    if target.site_id != device.site_id or target.zone_id != device.zone_id:
        request.audit(
            "controlplane:command:foreign_ack",
            subject=("command", target.command_id),
            payload={"target": target.id, "device_zone": device.zone_id},
            actor=_device(device),
        )
        raise DeviceProblem(403, "zone_mismatch", "this command is for another zone")
    raw_status = body.get("status")
    if raw_status == "duplicate":
        return {"ok": True, "duplicate": True, "status": target.status}
    try:
        status = target_status(raw_status) if isinstance(raw_status, str) else None
    except ValueError:
        status = None
    if status not in ACK_STATUSES:
        raise DeviceProblem(
            422, "bad_ack", "status must be one of completed, failed, skipped, rejected"
        )
    miner = body.get("miner_id")
    if miner not in (None, "") and str(miner) not in {str(target.miner_id), target.serial}:
        raise DeviceProblem(422, "wrong_miner", "miner_id is not the miner of this command")
    key = body.get("miner_key")
    if key not in (None, "") and target.miner_key and key != target.miner_key:
        raise DeviceProblem(422, "wrong_miner", "miner_key is not the miner of this command")
    before = _snapshot(body.get("before"), "before")
    after = _snapshot(body.get("after"), "after")
    duration = body.get("duration_ms")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 0 <= duration < 2**31
    ):
        raise DeviceProblem(422, "bad_ack", "duration_ms must be a whole number of milliseconds")
    if target.status in TARGET_TERMINAL:
        return {"ok": True, "duplicate": True, "status": target.status}
    if target.status != T.DISPATCHED:
        raise DeviceProblem(409, "not_dispatched", "this command was not handed out yet")
    if target.device_id is not None and target.device_id != device.id:
        raise DeviceProblem(409, "other_device", "this command was handed to another device")
    command = dbsession.scalar(
        _unscoped(sa.select(Command).where(Command.id == target.command_id).with_for_update())
    )
    now = utcnow()
    message = _text(body, "result_message", 500) or _text(body, "message", 500)
    moved = move_targets(
        request,
        command.id,
        status,
        [target.id],
        acked_at=now,
        device_id=device.id,
        result_code=_text(body, "result_code", 64) or status.value,
        result_message=message,
        error_class=_text(body, "error_class", 32),
        duration_ms=duration,
        before=before,
        after=after,
        outcome="waiting" if status == T.COMPLETED and _checkable(command) else "",
    )
    if not moved:
        return {"ok": True, "duplicate": True, "status": target.status}
    request.audit(
        "controlplane:command:ack",
        subject=("command", command.id),
        payload={"target": target.id, "miner": target.miner_id, "status": status.value},
        actor=_device(device),
    )
    dbsession.refresh(target)
    if target.outcome == "waiting":
        check_outcome(request, command, target, now)
    finish_if_done(request, command, _device(device))
    return {"ok": True, "duplicate": False, "status": status.value}


def finish_if_done(request, command: Command, actor=None) -> None:
    if command.status != S.DISPATCHED:
        return
    statuses = list(
        request.dbsession.scalars(
            _unscoped(sa.select(CommandTarget.status).where(CommandTarget.command_id == command.id))
        )
    )
    final = finished_status(statuses)
    if final is not None:
        counts = Counter(statuses)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        move(request, command, final, summary, actor)


# --- outcome from telemetry -----------------------------------------------------------------

CHECKABLE = frozenset({"sleep", "wake", "reboot", "set_pool"})


def _checkable(command: Command) -> bool:
    return command.command_type in CHECKABLE


def check_outcome(request, command: Command, target: CommandTarget, now=None) -> str:
    """confirmed / unconfirmed / waiting, from the miner's newest telemetry after dispatch."""
    from plugins.hosting.telemetry.models import TelemetryLive

    now = now or utcnow()
    live = request.dbsession.scalar(
        _unscoped(sa.select(TelemetryLive).where(TelemetryLive.miner_id == target.miner_id))
    )
    since = target.dispatched_at or target.acked_at or now
    verdict, note = "waiting", "no telemetry since the command yet"
    if live is not None and live.ts >= since:
        nominal = live.nominal_ths or 0.0
        hashrate = live.hashrate_ths
        kind = command.command_type
        if kind == "sleep":
            ok = live.online and hashrate is not None and hashrate <= max(0.5, 0.02 * nominal)
            note = f"hashrate {hashrate} TH/s after sleep"
        elif kind == "wake":
            ok = live.online and bool(hashrate) and hashrate > max(0.0, 0.05 * nominal)
            note = f"hashrate {hashrate} TH/s after wake"
        elif kind == "reboot":
            elapsed = (live.ts - since).total_seconds()
            ok = live.online and live.uptime_s is not None and live.uptime_s <= elapsed + 60
            note = f"uptime {live.uptime_s} s, {int(elapsed)} s after the reboot was sent"
        else:  # set_pool
            ok = live.pool_url == (command.params or {}).get("url")
            note = f"pool {live.pool_url or '?'}"
        if ok:
            verdict = "confirmed"
    if verdict == "waiting" and target.acked_at is not None:
        if now - target.acked_at >= outcome_window(request.registry.settings):
            verdict = "unconfirmed"
            if live is None or live.ts < since:
                note = "no telemetry arrived after the command"
    if verdict != target.outcome or note != target.outcome_note:
        request.dbsession.execute(
            _unscoped(
                sa.update(CommandTarget)
                .where(CommandTarget.id == target.id)
                .values(outcome=verdict, outcome_note=note[:200])
                .execution_options(synchronize_session="fetch")
            )
        )
        if verdict != "waiting":
            request.audit(
                f"controlplane:command:{verdict}",
                subject=("command", command.id),
                payload={"target": target.id, "miner": target.miner_id, "note": note[:200]},
                actor=("system", ""),
            )
    return verdict


# --- the periodic job -----------------------------------------------------------------------


def expire_commands(request) -> int:
    """Every minute: expire what nobody carried out in time, fail what a device took but never
    acknowledged, finish commands whose miners are all done, check outcomes. Idempotent: a
    second run finds nothing more to do. Returns how many commands it moved."""
    dbsession = request.dbsession
    settings = request.registry.settings
    now = utcnow()
    moved = 0
    rows = dbsession.scalars(
        _unscoped(
            sa.select(Command)
            .where(
                Command.status.in_(sorted(s.value for s in EXPIRABLE | {S.DISPATCHED})),
                Command.expires_at <= now,
            )
            .order_by(Command.id)
            # A row a decision is holding right now is left for the next run, a minute later.
            .with_for_update(skip_locked=True)
        )
    ).all()
    for command in rows:
        move_targets(request, command.id, T.EXPIRED, result_message="not fetched in time")
        if command.status in EXPIRABLE:
            move(request, command, S.EXPIRED, "nobody carried it out in time", ("system", ""))
            moved += 1
    late = utcnow() - ack_timeout(settings)
    stale = dbsession.execute(
        _unscoped(
            sa.select(CommandTarget.id, CommandTarget.command_id).where(
                CommandTarget.status == T.DISPATCHED.value, CommandTarget.dispatched_at <= late
            )
        )
    ).all()
    for target_id, command_id in stale:
        move_targets(
            request,
            command_id,
            T.FAILED,
            [target_id],
            error_class="timeout",
            result_code="timeout",
            result_message="the device did not acknowledge in time",
        )
    open_dispatched = dbsession.scalars(
        _unscoped(sa.select(Command).where(Command.status == S.DISPATCHED.value))
    ).all()
    for command in open_dispatched:
        before = command.status
        finish_if_done(request, command, ("system", ""))
        moved += command.status != before
    waiting = dbsession.execute(
        _unscoped(
            sa.select(CommandTarget, Command)
            .join(Command, Command.id == CommandTarget.command_id)
            .where(CommandTarget.outcome == "waiting")
        )
    ).all()
    for target, command in waiting:
        check_outcome(request, command, target, now)
    if moved:
        log.info("moved %d remote command(s) on schedule", moved)
    return moved


def load_page_commands(dbsession, commands):
    """Each command's miner counts (one query) for a list page."""
    return target_counts(dbsession, [c.id for c in commands])
