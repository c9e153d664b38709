"""CSV and Excel downloads of the tickets list: the tickets the list page shows for the same
filters, from the same query (``services.ticket_query`` through the scoped session, so an
account exports only what it may list), most urgent first, at most
``hosting.tickets.export_max`` rows.

Headings and labels are in the request's language; times are UTC ISO 8601. Text that a
spreadsheet would run as a formula gets a leading apostrophe (the KPI export's rule), in both
files, so the two hold the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.models import Customer, User
from plugins.hosting.kpi.export import _safe_text
from plugins.hosting.models import Miner, Site
from plugins.hosting.tickets import services
from plugins.hosting.tickets.config import ticket_config
from plugins.hosting.tickets.models import Ticket, TicketMiner

_ = TranslationStringFactory("hashinsight")

# (key, heading); "assignee" is for accounts that see internal fields only, like the list.
COLUMNS = [
    ("number", _("Number")),
    ("title", _("Title")),
    ("status", _("Status")),
    ("priority", _("Priority")),
    ("category", _("Category")),
    ("customer", _("Customer")),
    ("site", _("Site")),
    ("miners", _("Miners (serials)")),
    ("assignee", _("Assignee")),
    ("opened_at", _("Opened at (UTC)")),
    ("first_response_at", _("First response at (UTC)")),
    ("resolved_at", _("Resolved at (UTC)")),
    ("closed_at", _("Closed at (UTC)")),
    ("response_breached", _("Response SLA missed")),
    ("resolution_breached", _("Resolution SLA missed")),
    ("source", _("Source")),
]
STAFF_ONLY = {"assignee"}
# Ids per IN (...) when looking up miners and names: well under every database's limit.
CHUNK = 1000


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else ""


def _chunks(ids: list) -> list[list]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _lookup(db, ids: set, query) -> dict:
    """``{id: value}`` from ``query(chunk)`` rows ``(id, value)``, in chunks of ids."""
    out: dict = {}
    for chunk in _chunks(sorted(i for i in ids if i is not None)):
        out.update(db.execute(query(chunk)).tuples().all())
    return out


def _serials(db, ticket_ids: list[int]) -> dict[int, list[str]]:
    """The serials (or ``#id``) of each ticket's miners the account may see."""
    out: dict[int, list[str]] = {}
    for chunk in _chunks(ticket_ids):
        rows = db.execute(
            sa.select(TicketMiner.ticket_id, Miner.id, Miner.serial)
            .join(Miner, Miner.id == TicketMiner.miner_id)
            .where(TicketMiner.ticket_id.in_(chunk))
            .order_by(TicketMiner.ticket_id, Miner.id)
        )
        for ticket_id, miner_id, serial in rows:
            out.setdefault(ticket_id, []).append(serial or f"#{miner_id}")
    return out


def tickets(request, filters: dict) -> tuple[list[Ticket], int]:
    """(the first ``export_max`` tickets of the list, how many the list holds)."""
    limit = ticket_config(request).export_max
    return services.page_of_tickets(request, filters, limit, 0)


def table(request, rows: list[Ticket], labels: dict) -> dict:
    """``{"columns": [heading, ...], "rows": [[text, ...], ...]}`` in the request's language."""
    translate = request.localizer.translate
    staff = services.sees_internal(request)
    columns = [(key, heading) for key, heading in COLUMNS if staff or key not in STAFF_ONLY]
    db = request.dbsession
    sites = _lookup(
        db,
        {t.site_id for t in rows},
        lambda ids: sa.select(Site.id, Site.name).where(Site.id.in_(ids)),
    )
    customers = _lookup(
        db,
        {t.customer_id for t in rows},
        lambda ids: sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids)),
    )
    people = (
        _lookup(
            db,
            {t.assignee_id for t in rows},
            lambda ids: sa.select(User.id, sa.func.coalesce(User.name, User.email)).where(
                User.id.in_(ids)
            ),
        )
        if staff
        else {}
    )
    serials = _serials(db, [t.id for t in rows])
    yes, no = translate(_("Yes")), translate(_("No"))
    cache: dict = {}

    def label(kind: str, value: str) -> str:
        key = (kind, value)
        if key not in cache:
            cache[key] = translate(labels[kind][value]) if value in labels[kind] else value
        return cache[key]

    out = []
    for t in rows:
        values = {
            "number": t.number,
            "title": t.title,
            "status": label("status_labels", t.status),
            "priority": label("priority_labels", t.priority),
            "category": label("category_labels", t.category),
            "customer": customers.get(t.customer_id, ""),
            "site": sites.get(t.site_id, ""),
            "miners": ", ".join(serials.get(t.id, [])),
            "assignee": people.get(t.assignee_id, ""),
            "opened_at": _when(t.created_at),
            "first_response_at": _when(t.first_response_at),
            "resolved_at": _when(t.resolved_at),
            "closed_at": _when(t.closed_at),
            "response_breached": yes if t.response_breached else no,
            "resolution_breached": yes if t.resolution_breached else no,
            "source": label("source_labels", t.source),
        }
        out.append([_safe_text(values[key] or "") for key, _h in columns])
    return {"columns": [translate(heading) for _k, heading in columns], "rows": out}


def to_csv(data: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(data["columns"])
    writer.writerows(data["rows"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(data: dict, sheet_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name[:31])
    sheet.freeze_panes = "A2"
    sheet.append(data["columns"])
    for row in data["rows"]:
        cells = []
        for value in row:
            if value == "":
                cells.append(None)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text stays text, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
