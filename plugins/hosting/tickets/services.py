"""Tickets as people and alerts change them: open, comment, change status, assign, bulk
actions, the SLA breach check, tickets from alerts (one per incident) and the repair log.

Everything goes through the request's session, so the account's ABAC scope applies: a
miner, ticket or customer the account cannot see is "no such …" here too. Every change is
audited and (for tickets) recorded as a :class:`TicketEvent`. Checks come first and raise
before anything is written; the request's transaction is rolled back on any error, so a
refused request never leaves half a change.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.i18n import problem_list
from hashinsight_core.models import Customer, User
from plugins.hosting import services as farm
from plugins.hosting.models import MAINTENANCE, RMA, TRANSITIONS, Miner, Site
from plugins.hosting.tickets import notify, sla
from plugins.hosting.tickets.config import ticket_config
from plugins.hosting.tickets.models import (
    ACTIVE_STATUSES,
    CATEGORIES,
    PRIORITIES,
    REPAIR_KINDS,
    SOURCES,
    STATUSES,
    RepairEntry,
    Ticket,
    TicketComment,
    TicketEvent,
    TicketMiner,
    ticket_number,
)
from plugins.hosting.tickets.permissions import TicketPermission
from plugins.hosting.tickets.workflow import check_transition

_ = TranslationStringFactory("hashinsight")

TITLE_MAX = 200
BODY_MAX = 10_000
NOTE_MAX = 500
MAX_MINERS = 500
REPAIR_TEXT_MAX = 100
REPAIR_NOTE_MAX = 1000


class TicketInvalid(InvalidInput):
    """Bad input: 422, nothing stored; ``problems`` lists (field, message)."""

    code = "invalid_ticket"

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(problem_list(problems), problems[0][0] if problems else None)
        self.problems = problems


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class BulkRefused(DomainError):
    """A bulk action with a ticket it cannot apply to: nothing was changed."""

    status = 409
    code = "bulk_refused"


# --- who is asking ----------------------------------------------------------------------------


def is_staff(request) -> bool:
    """Staff manage tickets; jobs (no user) act as staff."""
    if request.user is None:
        return True
    return bool(request.has_permission(TicketPermission.MANAGE))


def sees_internal(request) -> bool:
    """Internal comments and assignment are for accounts that belong to no customer."""
    user = request.user
    if user is None:
        return True
    return user.customer_id is None and user.role != "customer"


def _user_id(request) -> int | None:
    return request.user.id if request.user is not None else None


def _now(now) -> dt.datetime:
    return now or utcnow()


# --- small checks ----------------------------------------------------------------------------


def _text(value, field, problems, *, maximum, required=True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append((field, _("must be text")))
        return ""
    value = value.strip()
    if required and not value:
        problems.append((field, _("is required")))
    elif len(value) > maximum:
        problems.append((field, _("must be at most ${n} characters", mapping={"n": maximum})))
    return value


def one_of(choices):
    return _("must be one of ${choices}", mapping={"choices": ", ".join(choices)})


def _choice(value, field, choices, problems) -> str:
    if value not in choices:
        problems.append((field, one_of(choices)))
    return value


def _ids(value, field, problems, *, maximum) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63 for v in value
    ):
        problems.append((field, _("must be a list of ids")))
        return []
    if len(value) > maximum:
        problems.append((field, _("at most ${n}", mapping={"n": maximum})))
        return []
    return list(dict.fromkeys(value))


def _event(request, ticket: Ticket, kind: str, before="", after="", note="", *, internal=False):
    request.dbsession.add(
        TicketEvent(
            ticket_id=ticket.id,
            customer_id=ticket.customer_id,
            site_id=ticket.site_id,
            zone_id=ticket.zone_id,
            at=utcnow(),
            actor_id=_user_id(request),
            kind=kind,
            from_value=str(before or "")[:100],
            to_value=str(after or "")[:100],
            note=(note or "")[:NOTE_MAX],
            internal=internal,
        )
    )


def _audit(request, tag: str, ticket: Ticket, **payload) -> None:
    request.audit(tag, subject=("ticket", ticket.id), payload=payload)


# --- open -------------------------------------------------------------------------------------


def open_ticket(
    request,
    *,
    title,
    category,
    priority,
    body,
    miner_ids,
    customer_id=None,
    source=None,
    site_id=None,
    alert_rule_id: int | None = None,
    incident_key: str | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """A new ticket about ``miner_ids`` (all visible to the account, of one customer and one
    site); ``body`` becomes its first comment, visible to the customer.

    A customer account opens tickets for its own customer only; staff for any miner in their
    scope (the ticket takes the miners' customer, site and zone)."""
    db = request.dbsession
    now = _now(now)
    user = request.user
    problems: list[tuple[str, str]] = []
    title = _text(title, "title", problems, maximum=TITLE_MAX)
    category = _choice(category, "category", CATEGORIES, problems)
    priority = _choice(priority, "priority", PRIORITIES, problems)
    body = _text(body, "body", problems, maximum=BODY_MAX, required=False)
    ids = _ids(miner_ids, "miner_ids", problems, maximum=MAX_MINERS)
    customer_account = user is not None and not sees_internal(request)
    if source is None:
        source = "customer" if customer_account else "operator"
    _choice(source, "source", SOURCES, problems)
    if customer_account and source != "customer":
        problems.append(("source", _("must be customer")))

    miners = list(db.scalars(sa.select(Miner).where(Miner.id.in_(ids)))) if ids else []
    missing = sorted(set(ids) - {m.id for m in miners})
    if missing:
        problems.append(
            ("miner_ids", _("no such miner: ${ids}", mapping={"ids": ", ".join(map(str, missing))}))
        )
    owners = {m.customer_id for m in miners}
    if customer_account:
        if user.customer_id is None:
            problems.append(("customer_id", _("your account belongs to no customer")))
        elif customer_id not in (None, user.customer_id):
            problems.append(("customer_id", _("no such customer")))
        customer_id = user.customer_id
    elif miners:
        if len(owners) > 1:
            problems.append(("miner_ids", _("the miners belong to different customers")))
        elif customer_id is not None and owners != {customer_id}:
            problems.append(("customer_id", _("the miners belong to another customer")))
        else:
            customer_id = next(iter(owners))
    elif customer_id is not None:
        if not isinstance(customer_id, int) or db.get(Customer, customer_id) is None:
            problems.append(("customer_id", _("no such customer")))
    sites = {m.site_id for m in miners}
    zones = {m.zone_id for m in miners}
    zone_id = None
    if len(sites) > 1:
        problems.append(("miner_ids", _("the miners are in different sites; open one per site")))
    elif sites:
        site_id = next(iter(sites))
        zone_id = next(iter(zones)) if len(zones) == 1 else None
    elif site_id is not None:
        if not isinstance(site_id, int) or db.get(Site, site_id) is None:
            problems.append(("site_id", _("no such site")))
    elif user is not None and request.data_scope.limited_by_site:
        problems.append(("site_id", _("choose a site or a miner")))
    if problems:
        raise TicketInvalid(problems)

    ticket = Ticket(
        title=title,
        category=category,
        priority=priority,
        status="open",
        source=source,
        customer_id=customer_id,
        site_id=site_id,
        zone_id=zone_id,
        opened_by_id=_user_id(request),
        alert_rule_id=alert_rule_id,
        incident_key=incident_key,
        open_incident_key=incident_key,
        updated_at=now,
    )
    sla.start(ticket, ticket_config(request).sla, now)
    if source == "operator":
        sla.responded(ticket, now)  # staff opened it: nobody waits for a first answer
    db.add(ticket)
    db.flush()
    for miner in miners:
        db.add(TicketMiner(ticket_id=ticket.id, miner_id=miner.id))
    if body:
        db.add(_comment_row(request, ticket, body, internal=False, now=now))
    _event(request, ticket, "open", "", "open", source)
    _audit(
        request,
        "hosting:ticket:open",
        ticket,
        title=title,
        source=source,
        priority=priority,
        miners=[m.id for m in miners],
    )
    db.flush()
    if source != "customer":
        notify.ticket_opened(request, ticket, body)
    else:
        notify.customer_wrote(request, ticket, body, opened=True)
    return ticket


def _comment_row(request, ticket, body, *, internal, now, author_id=...) -> TicketComment:
    return TicketComment(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        site_id=ticket.site_id,
        zone_id=ticket.zone_id,
        author_id=_user_id(request) if author_id is ... else author_id,
        body=body,
        internal=internal,
        created_at=now,
    )


# --- comments ---------------------------------------------------------------------------------


def add_comment(
    request, ticket: Ticket, body, internal: bool = False, *, now: dt.datetime | None = None
) -> TicketComment:
    """A comment; staff's visible comment is a response (SLA), a customer's reply to a ticket
    waiting on it puts it back to work."""
    now = _now(now)
    staff = is_staff(request)
    if not isinstance(internal, bool):
        raise TicketInvalid([("internal", _("must be true or false"))])
    if internal and not sees_internal(request):
        raise NotAllowed(_("customers cannot write internal notes"), "internal")
    problems: list[tuple[str, str]] = []
    body = _text(body, "body", problems, maximum=BODY_MAX)
    if problems:
        raise TicketInvalid(problems)
    if not staff and ticket.status == "closed":
        raise BulkRefused(_("the ticket is closed; open a new ticket"), "status")
    comment = _comment_row(request, ticket, body, internal=internal, now=now)
    request.dbsession.add(comment)
    ticket.updated_at = now
    if staff and not internal and request.user is not None:
        sla.responded(ticket, now)
    if not staff and ticket.status in ("waiting_customer", "resolved"):
        # The customer answered (or came back): back to work, the clock runs again.
        _move(
            request,
            ticket,
            "in_progress" if ticket.status != "resolved" else "open",
            now=now,
            note="the customer replied",
            staff=False,
            notify_customer=False,
        )
    sla.check(ticket, now)
    request.dbsession.flush()
    _audit(request, "hosting:ticket:comment", ticket, comment=comment.id, internal=internal)
    if not internal:
        if staff:
            notify.staff_wrote(request, ticket, body)
        else:
            notify.customer_wrote(request, ticket, body)
    return comment


def visible_comments(request, ticket: Ticket) -> list[TicketComment]:
    """The ticket's comments, oldest first, without the internal ones for customers."""
    query = (
        sa.select(TicketComment)
        .where(TicketComment.ticket_id == ticket.id)
        .order_by(TicketComment.created_at, TicketComment.id)
    )
    if not sees_internal(request):
        query = query.where(TicketComment.internal.is_(False))
    return list(request.dbsession.scalars(query))


def history(request, ticket: Ticket) -> list[TicketEvent]:
    query = (
        sa.select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    if not sees_internal(request):
        query = query.where(TicketEvent.internal.is_(False))
    return list(request.dbsession.scalars(query))


def ticket_miners(request, ticket: Ticket) -> list[Miner]:
    return list(
        request.dbsession.scalars(
            sa.select(Miner)
            .join(TicketMiner, TicketMiner.miner_id == Miner.id)
            .where(TicketMiner.ticket_id == ticket.id)
            .order_by(Miner.id)
        )
    )


# --- status and assignment ----------------------------------------------------------------------


def _clean_status(status) -> str:
    if status not in STATUSES:
        raise TicketInvalid([("status", one_of(STATUSES))])
    return status


def _clean_note(note) -> str:
    problems: list[tuple[str, str]] = []
    note = _text(note, "note", problems, maximum=NOTE_MAX, required=False)
    if problems:
        raise TicketInvalid(problems)
    return note


def _move(request, ticket, status, *, now, note="", staff, notify_customer=True) -> None:
    """Apply a checked move: SLA clock, done times, incident key, history, audit, mail."""
    before = ticket.status
    sla.follow_status(ticket, status, now)
    if status == "resolved":
        ticket.resolved_at = now
    elif status == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = status
    if status in ACTIVE_STATUSES and ticket.incident_key and ticket.open_incident_key is None:
        # Reopened: it is the incident's ticket again, unless a newer one took over.
        taken = request.dbsession.scalar(
            sa.select(Ticket.id)
            .where(Ticket.open_incident_key == ticket.incident_key)
            .execution_options(unscoped=True)
        )
        if taken is None:
            ticket.open_incident_key = ticket.incident_key
    elif status not in ACTIVE_STATUSES:
        ticket.open_incident_key = None
    if staff and request.user is not None:
        sla.responded(ticket, now)
    sla.check(ticket, now)
    ticket.updated_at = now
    _event(request, ticket, "status", before, status, note)
    _audit(request, "hosting:ticket:status", ticket, before=before, after=status, note=note)
    if notify_customer:
        notify.status_changed(request, ticket, before, note, by_staff=staff)


def change_status(
    request, ticket: Ticket, status, note="", *, now: dt.datetime | None = None
) -> None:
    """Move ``ticket`` to ``status``: 409 naming what is allowed for an illegal move."""
    status = _clean_status(status)
    note = _clean_note(note)
    staff = is_staff(request)
    check_transition(ticket.status, status, staff=staff)
    _move(request, ticket, status, now=_now(now), note=note, staff=staff)


def _check_assignee(request, user_id) -> User | None:
    if user_id is None:
        return None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise TicketInvalid([("assignee_id", _("must be an account id or null"))])
    user = request.dbsession.get(User, user_id)
    if user is None or not user.is_active:
        raise TicketInvalid([("assignee_id", _("no such account"))])
    if user.customer_id is not None or user.role in ("customer", "viewer"):
        raise TicketInvalid([("assignee_id", _("tickets go to staff accounts only"))])
    return user


def assign(request, ticket: Ticket, user_id, *, now: dt.datetime | None = None) -> None:
    """Give the ticket to a staff account (None: to nobody). Staff only."""
    if not is_staff(request):
        raise NotAllowed(_("only staff assign tickets"))
    user = _check_assignee(request, user_id)
    _assign(request, ticket, user, _now(now))


def _assign(request, ticket, user, now) -> None:
    new = user.id if user is not None else None
    if new == ticket.assignee_id:
        return
    before = ticket.assignee_id
    ticket.assignee_id = new
    ticket.updated_at = now
    _event(request, ticket, "assign", before or "", new or "", internal=True)
    _audit(request, "hosting:ticket:assign", ticket, before=before, after=new)
    if user is not None and user.id != _user_id(request):
        notify.assigned(request, ticket, user)


def set_priority(request, ticket: Ticket, priority, *, now: dt.datetime | None = None) -> None:
    """A new priority: its SLA targets, counted from the opening."""
    if not is_staff(request):
        raise NotAllowed(_("only staff change the priority"))
    if priority not in PRIORITIES:
        raise TicketInvalid([("priority", one_of(PRIORITIES))])
    if priority == ticket.priority:
        return
    before = ticket.priority
    ticket.priority = priority
    sla.reprioritize(ticket, ticket_config(request).sla)
    sla.check(ticket, _now(now))
    ticket.updated_at = _now(now)
    _event(request, ticket, "priority", before, priority)
    _audit(request, "hosting:ticket:priority", ticket, before=before, after=priority)


# --- bulk ---------------------------------------------------------------------------------------

BULK_ACTIONS = ("assign", "status", "close")


def bulk(request, data, *, now: dt.datetime | None = None) -> list[Ticket]:
    """Assign, change the status of or close many tickets: all of them or none.

    ``data`` = ``{"ids": [...], "action": "assign"|"status"|"close", "assignee_id": …,
    "status": …, "note": …}``. Any ticket the action cannot apply to (missing, foreign, an
    illegal move) refuses the whole batch, naming each."""
    if not is_staff(request):
        raise NotAllowed(_("only staff use bulk actions"))
    if not isinstance(data, dict):
        raise TicketInvalid([("body", _("must be a JSON object"))])
    problems: list[tuple[str, str]] = []
    unknown = sorted(set(data) - {"ids", "action", "assignee_id", "status", "note"})
    for name in unknown:
        problems.append((name, _("is not a field of a bulk action")))
    action = _choice(data.get("action"), "action", BULK_ACTIONS, problems)
    ids = _ids(data.get("ids"), "ids", problems, maximum=ticket_config(request).bulk_max)
    if not ids and not any(f == "ids" for f, _ in problems):
        problems.append(("ids", _("choose at least one ticket")))
    note = _text(data.get("note"), "note", problems, maximum=NOTE_MAX, required=False)
    status = "closed" if action == "close" else data.get("status")
    if action == "status":
        _choice(status, "status", STATUSES, problems)
    if problems:
        raise TicketInvalid(problems)
    assignee = _check_assignee(request, data.get("assignee_id")) if action == "assign" else None
    tickets = list(request.dbsession.scalars(sa.select(Ticket).where(Ticket.id.in_(ids))))
    found = {t.id: t for t in tickets}
    refused = [(ticket_number(i), _("no such ticket")) for i in ids if i not in found]
    if action in ("status", "close"):
        for ticket_id in ids:
            ticket = found.get(ticket_id)
            if ticket is None:
                continue
            try:
                check_transition(ticket.status, status, staff=True)
            except DomainError as error:
                refused.append((ticket.number, error.message))
    if refused:
        message = _("nothing was changed: ${problems}", mapping={"problems": problem_list(refused)})
        raise BulkRefused(message, "ids")
    now = _now(now)
    ordered = [found[i] for i in ids]
    for ticket in ordered:
        if action == "assign":
            _assign(request, ticket, assignee, now)
        else:
            _move(request, ticket, status, now=now, note=note, staff=True)
    request.dbsession.flush()
    return ordered


# --- the SLA job ----------------------------------------------------------------------------------


def check_breaches(request, now: dt.datetime | None = None) -> int:
    """Set the breach flags of tickets whose due time passed; returns how many changed."""
    now = _now(now)
    db = request.dbsession
    due = sa.or_(
        sa.and_(Ticket.response_breached.is_(False), Ticket.response_due_at < now),
        sa.and_(Ticket.resolution_breached.is_(False), Ticket.resolution_due_at < now),
    )
    changed = 0
    tickets = list(db.scalars(sa.select(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES), due)))
    for ticket in tickets:
        response, resolution = ticket.response_breached, ticket.resolution_breached
        if sla.check(ticket, now):
            changed += 1
            missed = []
            if ticket.response_breached and not response:
                missed.append("response")
            if ticket.resolution_breached and not resolution:
                missed.append("resolution")
            _event(request, ticket, "sla", "", ",".join(missed), internal=True)
    return changed


# --- tickets from alerts ------------------------------------------------------------------------

ALERT_CATEGORIES = {
    "offline": "network",
    "low_hashrate": "hashboard",
    "high_temp": "overheating",
    "fan_failure": "fan",
    "board_missing": "hashboard",
    "pool_down": "pool",
    "reject_rate": "pool",
    "device_silent": "network",
}
ALERT_PRIORITIES = {"critical": "high", "warning": "normal", "info": "low"}


def incident_key(rule_id: int, subject_type: str, subject_id: int) -> str:
    return f"{rule_id}:{subject_type}:{subject_id}"


def tickets_for_alerts(request, evaluation, now: dt.datetime | None = None) -> dict:
    """For the alerts ``evaluation`` opened by rules with ``open_ticket``: one ticket per
    incident (rule and subject). While the incident's ticket is not resolved or closed, a new
    alert only adds an internal comment to it."""
    from plugins.hosting.alerts.models import Alert, AlertRule

    opened = getattr(evaluation, "opened", {}) or {}
    if not opened:
        return {"opened": 0, "commented": 0}
    db = request.dbsession
    now = _now(now or getattr(evaluation, "now", None))
    rules = list(
        db.scalars(
            sa.select(AlertRule).where(
                AlertRule.id.in_(list(opened)), AlertRule.open_ticket.is_(True)
            )
        )
    )
    result = {"opened": 0, "commented": 0}
    for rule in rules:
        alerts = list(
            db.scalars(sa.select(Alert).where(Alert.id.in_(opened[rule.id])).order_by(Alert.id))
        )
        for alert in alerts:
            key = incident_key(rule.id, alert.subject_type, alert.subject_id)
            text = (
                f"Alert #{alert.id} ({rule.name}, {alert.kind}) on {alert.subject_type} "
                f"{alert.subject_label}"
                + (f": {alert.value:.1f}" if alert.value is not None else "")
            )
            existing = db.scalar(sa.select(Ticket).where(Ticket.open_incident_key == key))
            if existing is not None:
                db.add(_comment_row(request, existing, "Again: " + text, internal=True, now=now))
                _event(request, existing, "alert", "", str(alert.id), internal=True)
                existing.updated_at = now
                result["commented"] += 1
                continue
            open_ticket(
                request,
                title=f"{rule.name}: {alert.subject_label}"[:TITLE_MAX],
                category=ALERT_CATEGORIES.get(alert.kind, "other"),
                priority=ALERT_PRIORITIES.get(alert.severity, "normal"),
                body=text,
                miner_ids=[alert.subject_id] if alert.subject_type == "miner" else [],
                customer_id=alert.customer_id,
                site_id=alert.site_id,
                source="alert",
                alert_rule_id=rule.id,
                incident_key=key,
                now=now,
            )
            result["opened"] += 1
    db.flush()
    return result


# --- repair log ----------------------------------------------------------------------------------

# What an entry does to the miner's status when the request names none.
REPAIR_STATUS = {"rma_sent": RMA, "rma_returned": MAINTENANCE}
REPAIR_MINER_STATUSES = ("maintenance", "rma", "installed", "online", "offline", "received")


def _move_miner(request, miner: Miner, target: str, note: str) -> None:
    """Through the farm's lifecycle (so MinerEvent history follows); an RMA of a running miner
    passes through maintenance, as it does on the floor."""
    if target == miner.status:
        return
    if target not in TRANSITIONS[miner.status] and MAINTENANCE in TRANSITIONS[miner.status]:
        if target in TRANSITIONS[MAINTENANCE]:
            farm.change_status(request, miner, MAINTENANCE, note)
    farm.change_status(request, miner, target, note)


def add_repair(request, miner: Miner, data, *, now: dt.datetime | None = None) -> RepairEntry:
    """A repair-log entry for ``miner``; ``rma_sent`` moves it to rma, ``rma_returned`` to
    maintenance, others only when ``miner_status`` says so."""
    if not isinstance(data, dict):
        raise TicketInvalid([("body", _("must be a JSON object"))])
    fields = {
        "kind",
        "part",
        "old_serial",
        "new_serial",
        "rma_number",
        "note",
        "ticket_id",
        "miner_status",
    }
    problems: list[tuple[str, str]] = [
        (name, "is not a field of a repair") for name in sorted(set(data) - fields)
    ]
    kind = _choice(data.get("kind"), "kind", REPAIR_KINDS, problems)
    texts = {
        name: _text(data.get(name), name, problems, maximum=REPAIR_TEXT_MAX, required=False)
        for name in ("part", "old_serial", "new_serial", "rma_number")
    }
    note = _text(data.get("note"), "note", problems, maximum=REPAIR_NOTE_MAX, required=False)
    if kind == "rma_sent" and not texts["rma_number"]:
        problems.append(("rma_number", _("an RMA needs its number")))
    if kind == "part_swap" and not texts["part"]:
        problems.append(("part", _("say which part was swapped")))
    if kind == "note" and not note:
        problems.append(("note", _("is required")))
    status = data.get("miner_status") or REPAIR_STATUS.get(kind)
    if status is not None:
        _choice(status, "miner_status", REPAIR_MINER_STATUSES, problems)
    ticket = None
    ticket_id = data.get("ticket_id")
    if ticket_id is not None:
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
            problems.append(("ticket_id", _("must be a ticket id")))
        else:
            ticket = request.dbsession.get(Ticket, ticket_id)
            if ticket is None:
                problems.append(("ticket_id", _("no such ticket")))
            elif ticket.customer_id != miner.customer_id:
                problems.append(("ticket_id", _("the ticket is about another customer's miners")))
    if problems:
        raise TicketInvalid(problems)
    now = _now(now)
    label = {"rma_sent": f"RMA {texts['rma_number']}", "part_swap": f"swap {texts['part']}"}
    if status is not None:
        _move_miner(request, miner, status, label.get(kind, kind))
    entry = RepairEntry(
        miner_id=miner.id,
        ticket_id=ticket.id if ticket else None,
        customer_id=miner.customer_id,
        site_id=miner.site_id,
        zone_id=miner.zone_id,
        kind=kind,
        note=note,
        at=now,
        by_id=_user_id(request),
        **texts,
    )
    db = request.dbsession
    db.add(entry)
    if ticket is not None:
        linked = db.get(TicketMiner, (ticket.id, miner.id))
        if linked is None:
            db.add(TicketMiner(ticket_id=ticket.id, miner_id=miner.id))
        _event(request, ticket, "repair", "", kind, label.get(kind, note[:100]))
        ticket.updated_at = now
    db.flush()
    request.audit(
        "hosting:repair:add",
        subject=("miner", miner.id),
        payload={"kind": kind, "ticket": entry.ticket_id, "miner_status": miner.status, **texts},
    )
    return entry


def repair_log(request, miner: Miner, limit: int = 200) -> dict:
    """The miner's tickets and repair entries, newest first."""
    db = request.dbsession
    tickets = list(
        db.scalars(
            sa.select(Ticket)
            .join(TicketMiner, TicketMiner.ticket_id == Ticket.id)
            .where(TicketMiner.miner_id == miner.id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
    )
    repairs = list(
        db.scalars(
            sa.select(RepairEntry)
            .where(RepairEntry.miner_id == miner.id)
            .order_by(RepairEntry.at.desc(), RepairEntry.id.desc())
            .limit(limit)
        )
    )
    return {"tickets": tickets, "repairs": repairs}


# --- lists ----------------------------------------------------------------------------------------

FILTERS = (
    "status",
    "priority",
    "category",
    "assignee_id",
    "site_id",
    "customer_id",
    "mine",
    "q",
    "breached",
)


def parse_filters(params, *, strict: bool) -> dict:
    """Filters of a list from query parameters (strict: 422 for a bad one, else ignored)."""
    problems: list[tuple[str, str]] = []
    out: dict = {}
    status = params.get("status") or "active"
    if status in (*STATUSES, "active", "all"):
        out["status"] = status
    else:
        problems.append(("status", _("unknown status")))
        out["status"] = "active"
    for name, choices in (("priority", PRIORITIES), ("category", CATEGORIES)):
        value = params.get(name)
        if value:
            if value in choices:
                out[name] = value
            else:
                problems.append((name, one_of(choices)))
    for name in ("assignee_id", "site_id", "customer_id"):
        value = params.get(name)
        if value:
            if value.isdigit() and len(value) < 12:
                out[name] = int(value)
            elif name == "assignee_id" and value == "none":
                out[name] = "none"
            else:
                problems.append((name, _("must be an id")))
    if params.get("mine") in ("1", "true", "on"):
        out["mine"] = True
    if params.get("breached") in ("1", "true", "on"):
        out["breached"] = True
    q = (params.get("q") or "").strip()
    if q:
        out["q"] = q[:100]
    if strict and problems:
        raise TicketInvalid(problems)
    return out


def ticket_query(request, filters: dict) -> sa.Select:
    query = sa.select(Ticket)
    status = filters.get("status", "active")
    if status == "active":
        query = query.where(Ticket.status.in_(ACTIVE_STATUSES))
    elif status != "all":
        query = query.where(Ticket.status == status)
    for name in ("priority", "category", "site_id", "customer_id"):
        if name in filters:
            query = query.where(getattr(Ticket, name) == filters[name])
    if sees_internal(request):
        if filters.get("assignee_id") == "none":
            query = query.where(Ticket.assignee_id.is_(None))
        elif "assignee_id" in filters:
            query = query.where(Ticket.assignee_id == filters["assignee_id"])
    if filters.get("mine") and request.user is not None:
        user_id = request.user.id
        if sees_internal(request):
            query = query.where(Ticket.assignee_id == user_id)
        else:
            query = query.where(Ticket.opened_by_id == user_id)
    if filters.get("breached"):
        query = query.where(sa.or_(Ticket.response_breached, Ticket.resolution_breached))
    q = filters.get("q")
    if q:
        number = q.upper().removeprefix("T-").lstrip("0")
        clauses = [Ticket.title.ilike(f"%{farm._like(q)}%", escape="\\")]
        if number.isdigit() and len(number) < 12:
            clauses.append(Ticket.id == int(number))
        query = query.where(sa.or_(*clauses))
    rank = sa.case({p: i for i, p in enumerate(reversed(PRIORITIES))}, value=Ticket.priority)
    return query.order_by(rank, Ticket.created_at.desc(), Ticket.id.desc())


def page_of_tickets(request, filters: dict, limit: int, offset: int) -> tuple[list[Ticket], int]:
    query = ticket_query(request, filters)
    total = request.dbsession.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    if offset >= total:
        return [], total
    return list(request.dbsession.scalars(query.limit(limit).offset(offset))), total


def parse_page(params) -> tuple[int, int]:
    def number(name, default, high):
        raw = params.get(name, "")
        if raw == "":
            return default
        if not raw.isdigit() or len(raw) > 12:
            raise TicketInvalid([(name, _("must be a whole number"))])
        return min(int(raw), high)

    limit = max(1, number("limit", 50, 200))
    return limit, number("offset", 0, 2**62)


def staff_accounts(request) -> list[tuple[int, str]]:
    """Accounts a ticket may be assigned to (id, name or e-mail)."""
    rows = request.dbsession.execute(
        sa.select(User.id, User.name, User.email)
        .where(
            User.is_active.is_(True),
            User.customer_id.is_(None),
            User.role.notin_(("customer", "viewer")),
        )
        .order_by(User.name, User.email)
        .limit(500)
    )
    return [(uid, name or email) for uid, name, email in rows]
