"""Ticket figures of a KPI report: opened, closed, mean time to repair, SLA breaches.

Read from the tickets part (``plugins.hosting.tickets.models``: ``Ticket``, ``TicketMiner``)
through the scoped session. The KPI pages must work without it (a deployment that has not
migrated the tickets tables yet, or a build without the part), so ``figures`` answers None
when the tickets are not there.

- *opened*: tickets created in the period;
- *closed*: tickets resolved in the period (``resolved_at``, or ``closed_at`` for a ticket
  closed without being resolved first);
- *MTTR*: mean of ``resolved_at − created_at`` over the tickets resolved in the period, hours;
- *SLA breaches*: tickets opened in the period whose response or resolution SLA was breached
  (``response_breaches`` and ``resolution_breaches`` count each; ``sla_breaches`` a ticket once).

Grouped by the ticket's site, zone or customer; by model through the ticket's miners (a ticket
about miners of two models counts for both).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from plugins.hosting.kpi.engine import Filters
from plugins.hosting.kpi.period import Period
from plugins.hosting.models import Miner


def _models():
    try:
        from plugins.hosting.tickets.models import Ticket, TicketMiner
    except ImportError:  # the tickets part is not in this build
        return None
    return Ticket, TicketMiner


def available(db) -> bool:
    models = _models()
    if models is None:
        return False
    return sa.inspect(db.get_bind()).has_table(models[0].__tablename__)


def empty() -> dict:
    return {
        "opened": 0,
        "closed": 0,
        "mttr_hours": None,
        "response_breaches": 0,
        "resolution_breaches": 0,
        "sla_breaches": 0,
    }


def figures(db, period: Period, group_by: str, filters: Filters) -> dict | None:
    """``{"total": {...}, "groups": {key: {...}}}``, or None without the tickets tables."""
    if not available(db):
        return None
    ticket, ticket_miner = _models()
    done = sa.func.coalesce(ticket.resolved_at, ticket.closed_at)
    columns = [
        ticket.id,
        ticket.created_at,
        ticket.resolved_at,
        done,
        ticket.response_breached,
        ticket.resolution_breached,
    ]
    by_model = group_by == "model" or filters.group == "model"
    if by_model:
        statement = (
            sa.select(*columns, Miner.model_name)
            .join(ticket_miner, ticket_miner.ticket_id == ticket.id)
            .join(Miner, Miner.id == ticket_miner.miner_id)
            .distinct()
        )
    else:
        statement = sa.select(*columns, getattr(ticket, f"{group_by}_id"))
    statement = statement.where(
        ticket.created_at < period.end,
        sa.or_(ticket.created_at >= period.start, done >= period.start),
    )
    if filters.site_id is not None:
        statement = statement.where(ticket.site_id == filters.site_id)
    if filters.group is not None:
        column = (
            Miner.model_name if filters.group == "model" else getattr(ticket, f"{filters.group}_id")
        )
        statement = statement.where(
            column.is_(None) if filters.key is None else column == filters.key
        )
    if by_model and group_by != "model":
        # Drill-down into a model, grouped by a place: the key is the ticket's place.
        statement = statement.add_columns(getattr(ticket, f"{group_by}_id"))
    total, groups = _Acc(), {}
    seen: set[int] = set()
    for row in db.execute(statement):
        key = row[-1]
        if group_by == "model":
            key = key or ""
        acc = groups.setdefault(key, _Acc())
        acc.add(row, period)
        if row[0] not in seen:  # a ticket counts once in the total, whatever its models
            seen.add(row[0])
            total.add(row, period)
    return {"total": total.result(), "groups": {k: a.result() for k, a in groups.items()}}


class _Acc:
    def __init__(self):
        self.data = empty()
        self.repair = dt.timedelta()
        self.repaired = 0

    def add(self, row, period: Period) -> None:
        _id, created, resolved, done, response_breached, resolution_breached = row[:6]
        if period.start <= created < period.end:
            self.data["opened"] += 1
            self.data["response_breaches"] += int(bool(response_breached))
            self.data["resolution_breaches"] += int(bool(resolution_breached))
            self.data["sla_breaches"] += int(bool(response_breached or resolution_breached))
        if done is not None and period.start <= done < period.end:
            self.data["closed"] += 1
        if resolved is not None and period.start <= resolved < period.end:
            self.repair += resolved - created
            self.repaired += 1

    def result(self) -> dict:
        data = dict(self.data)
        if self.repaired:
            data["mttr_hours"] = self.repair.total_seconds() / 3600 / self.repaired
        return data
