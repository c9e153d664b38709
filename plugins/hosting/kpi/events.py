"""Recording excused events: checks, create, update, delete, each audited.

Who may record what (docs/kpi.md, "Excused events"):

- staff with ``hosting:excused:write`` (admin, operator): any kind, at the sites and zones
  their account reaches (a zone-limited operator only events limited to its zones);
- a customer account (``hosting:excused:pause`` without ``hosting:excused:write``): only a
  *customer pause* of its own miners — the customer is set to its own, every listed miner
  must be its own. It may change or delete only its own pauses. A pause the customer asked
  for is downtime the provider should not answer for, and the customer is the one who knows.

Bad input is one 422 naming the field; nothing is stored on any error.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, DomainError, InvalidInput
from hashinsight_core.models import Customer
from plugins.hosting.kpi.models import CUSTOMER_PAUSE, EVENT_KINDS, ExcusedEvent, ExcusedEventMiner
from plugins.hosting.kpi.permissions import KpiPermission as P
from plugins.hosting.models import Miner, Site, Zone

_ = TranslationStringFactory("hashinsight")

MAX_NOTE = 500
MAX_MINERS = 10_000
FIELDS = {"kind", "site_id", "zone_id", "customer_id", "miner_ids", "starts_at", "ends_at", "note"}


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


def _moment(value, name: str) -> dt.datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            _("${name} must be a date and time like 2026-12-01T08:00:00Z", mapping={"name": name}),
            name,
        )
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            _("${name} must be a date and time like 2026-12-01T08:00:00Z", mapping={"name": name}),
            name,
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    if not dt.datetime(2000, 1, 1) <= moment < dt.datetime(2200, 1, 1):
        raise InvalidInput(_("${name} is out of range", mapping={"name": name}), name)
    return moment.replace(microsecond=0)


def _optional_id(value, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise InvalidInput(_("${name} must be a whole number", mapping={"name": name}), name)
    return value


def _miner_ids(value) -> list[int]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or len(value) > MAX_MINERS:
        raise InvalidInput(
            _("miner_ids must be a list of at most ${count} ids", mapping={"count": MAX_MINERS}),
            "miner_ids",
        )
    return sorted({_optional_id(v, "miner_ids") for v in value} - {None})


def clean(data: dict, current: dict | None = None) -> dict:
    """Checked values of ``data`` over ``current`` (for an update), or InvalidInput."""
    if not isinstance(data, dict):
        raise InvalidInput(_("the body must be a JSON object"), "body")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InvalidInput(_("unknown field: ${field}", mapping={"field": unknown[0]}), unknown[0])
    values = dict(current or {})
    if "kind" in data or current is None:
        kind = data.get("kind")
        if kind not in EVENT_KINDS:
            raise InvalidInput(
                _("kind must be one of ${choices}", mapping={"choices": ", ".join(EVENT_KINDS)}),
                "kind",
            )
        values["kind"] = kind
    if "site_id" in data or current is None:
        values["site_id"] = _optional_id(data.get("site_id"), "site_id")
        if values["site_id"] is None:
            raise InvalidInput(_("site_id is required"), "site_id")
    for name in ("zone_id", "customer_id"):
        if name in data:
            values[name] = _optional_id(data[name], name)
        values.setdefault(name, None)
    if "miner_ids" in data:
        values["miner_ids"] = _miner_ids(data["miner_ids"])
    values.setdefault("miner_ids", [])
    if "starts_at" in data or current is None:
        values["starts_at"] = _moment(data.get("starts_at"), "starts_at")
        if values["starts_at"] is None:
            raise InvalidInput(_("starts_at is required"), "starts_at")
    if "ends_at" in data:
        values["ends_at"] = _moment(data["ends_at"], "ends_at")
    values.setdefault("ends_at", None)
    if values["ends_at"] is not None and values["ends_at"] <= values["starts_at"]:
        raise InvalidInput(_("ends_at must be after starts_at"), "ends_at")
    if "note" in data:
        note = data["note"]
        if note is None:
            note = ""
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise InvalidInput(
                _("note must be text of at most ${limit} characters", mapping={"limit": MAX_NOTE}),
                "note",
            )
        values["note"] = note.strip()
    values.setdefault("note", "")
    return values


def _is_staff(request) -> bool:
    return bool(request.has_permission(P.EXCUSED_WRITE))


def _check(request, values: dict) -> None:
    """The places, customer and miners exist for the account and fit together."""
    db = request.dbsession
    scope = request.data_scope
    if not _is_staff(request):
        own = request.user.customer_id if request.user else None
        if own is None:
            raise NotAllowed(_("only staff may record excused events"))
        if values["kind"] != CUSTOMER_PAUSE:
            raise NotAllowed(_("customers may record only a customer pause"), "kind")
        if values["customer_id"] not in (None, own):
            raise InvalidInput(_("no such customer"), "customer_id")
        values["customer_id"] = own
    site = db.get(Site, values["site_id"])
    if site is None:
        raise InvalidInput(_("no such site"), "site_id")
    if values["zone_id"] is not None:
        zone = db.get(Zone, values["zone_id"])
        if zone is None or zone.site_id != site.id:
            raise InvalidInput(_("no such zone at this site"), "zone_id")
    if _is_staff(request) and not scope.allows_zone(site.id, values["zone_id"]):
        raise InvalidInput(_("choose a zone you look after"), "zone_id")
    if values["customer_id"] is not None and db.get(Customer, values["customer_id"]) is None:
        raise InvalidInput(_("no such customer"), "customer_id")
    if values["miner_ids"]:
        found = db.execute(
            sa.select(Miner.id, Miner.site_id, Miner.zone_id, Miner.customer_id).where(
                Miner.id.in_(values["miner_ids"])
            )
        ).all()
        known = {row.id: row for row in found}
        for miner_id in values["miner_ids"]:
            row = known.get(miner_id)
            if (
                row is None
                or row.site_id != site.id
                or values["zone_id"] not in (None, row.zone_id)
                or values["customer_id"] not in (None, row.customer_id)
            ):
                raise InvalidInput(
                    _("miner ${id} is not at this place", mapping={"id": miner_id}), "miner_ids"
                )


def _may_change(request, event: ExcusedEvent) -> None:
    if _is_staff(request):
        if not request.data_scope.allows_zone(event.site_id, event.zone_id):
            raise NotAllowed(_("this event covers places you do not look after"))
        return
    own = request.user.customer_id if request.user else None
    if event.kind != CUSTOMER_PAUSE or own is None or event.customer_id != own:
        raise NotAllowed(_("you may change only your own customer pauses"))


def _set_miners(event: ExcusedEvent, miner_ids: list[int]) -> None:
    wanted = set(miner_ids)
    event.miner_links = [link for link in event.miner_links if link.miner_id in wanted]
    have = {link.miner_id for link in event.miner_links}
    for miner_id in sorted(wanted - have):
        event.miner_links.append(ExcusedEventMiner(miner_id=miner_id))


def _values_of(event: ExcusedEvent) -> dict:
    return {
        "kind": event.kind,
        "site_id": event.site_id,
        "zone_id": event.zone_id,
        "customer_id": event.customer_id,
        "miner_ids": event.miner_ids,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "note": event.note,
    }


def _audit_payload(values: dict) -> dict:
    return {
        k: (v.isoformat() + "Z" if isinstance(v, dt.datetime) else v)
        for k, v in values.items()
        if k != "miner_ids"
    } | {"miners": len(values.get("miner_ids") or [])}


def _mark_days(request, *ranges) -> None:
    """Mark the UTC days these event ranges touch for the KPI rollup to recompute; reports
    read them from the 5-minute rows meanwhile (the mark commits with the change)."""
    from plugins.hosting.kpi.rollup import event_days, mark_days

    now = utcnow()
    days = {d for start, end in ranges for d in event_days(start, end, now)}
    mark_days(request.dbsession.connection(), days)


def create(request, data: dict) -> ExcusedEvent:
    values = clean(data)
    _check(request, values)
    db = request.dbsession
    event = ExcusedEvent(
        created_by=request.user.id if request.user else None,
        **{k: v for k, v in values.items() if k != "miner_ids"},
    )
    _set_miners(event, values["miner_ids"])
    db.add(event)
    db.flush()
    _mark_days(request, (event.starts_at, event.ends_at))
    request.audit(
        "hosting:excused:create",
        subject=("excused_event", event.id),
        payload=_audit_payload(values),
    )
    return event


def update(request, event: ExcusedEvent, data: dict) -> ExcusedEvent:
    _may_change(request, event)
    if event.deleted_at is not None:
        raise Conflict(_("this event was deleted"))
    current = _values_of(event)
    values = clean(data, current)
    _check(request, values)
    changed = sorted(k for k, v in values.items() if current.get(k) != v)
    for key, value in values.items():
        if key != "miner_ids":
            setattr(event, key, value)
    _set_miners(event, values["miner_ids"])
    request.dbsession.flush()
    if set(changed) - {"note", "kind"}:
        _mark_days(
            request, (current["starts_at"], current["ends_at"]), (event.starts_at, event.ends_at)
        )
    if changed:
        request.audit(
            "hosting:excused:update",
            subject=("excused_event", event.id),
            payload={"changed": changed},
        )
    return event


def delete(request, event: ExcusedEvent) -> None:
    """Mark the event deleted (it stops counting; the row stays). Deleting twice is a no-op."""
    _may_change(request, event)
    if event.deleted_at is not None:
        return
    event.deleted_at = utcnow()
    event.deleted_by = request.user.id if request.user else None
    request.dbsession.flush()
    _mark_days(request, (event.starts_at, event.ends_at))
    request.audit(
        "hosting:excused:delete",
        subject=("excused_event", event.id),
        payload=_audit_payload(_values_of(event)),
    )


def may_change(request, event: ExcusedEvent) -> bool:
    if event.deleted_at is not None:
        return False
    try:
        _may_change(request, event)
    except NotAllowed:
        return False
    return True


def page(db, *, site_id=None, kind=None, limit=50, offset=0) -> tuple[list[ExcusedEvent], int]:
    """Events the session may see (not deleted), newest first."""
    statement = sa.select(ExcusedEvent).where(ExcusedEvent.deleted_at.is_(None))
    if site_id is not None:
        statement = statement.where(ExcusedEvent.site_id == site_id)
    if kind is not None:
        statement = statement.where(ExcusedEvent.kind == kind)
    total = db.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = db.scalars(
        statement.order_by(ExcusedEvent.starts_at.desc(), ExcusedEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
