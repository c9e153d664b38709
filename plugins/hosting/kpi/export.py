"""CSV and Excel downloads of a KPI report: the rows of the page (one per group) and a total row,
from the same ``report.build`` answer the page and the API show. Ratios are written as
percentages (the page's unit) at full precision; text that a spreadsheet would run as a formula
is written as text.
"""

from __future__ import annotations

import csv
import io

# (heading, where the value is in a report row, scale)
COLUMNS: list[tuple[str, tuple[str, ...], float]] = [
    ("Group", ("label",), 1),
    ("Key", ("key",), 1),
    ("Miners", ("miners",), 1),
    ("Expected intervals", ("expected_intervals",), 1),
    ("Excused intervals", ("excused_intervals",), 1),
    ("Reachable uptime %", ("reachable_uptime",), 100),
    ("Reachable uptime excl. excused %", ("reachable_uptime_excl",), 100),
    ("Hashing uptime %", ("hashing_uptime",), 100),
    ("Hashing uptime excl. excused %", ("hashing_uptime_excl",), 100),
    ("Hashrate TH/s", ("hashrate_ths",), 1),
    ("Nominal TH/s", ("nominal_ths",), 1),
    ("Realized %", ("realized_ratio",), 100),
    ("J/TH", ("j_per_th",), 1),
    ("Energy kWh", ("energy_kwh",), 1),
    ("Capacity kWh", ("capacity_kwh",), 1),
    ("Capacity basis", ("capacity_basis",), 1),
    ("Energy of capacity %", ("energy_ratio",), 100),
    ("Healthy", ("health", "healthy"), 1),
    ("Degraded", ("health", "degraded"), 1),
    ("Offline", ("health", "offline"), 1),
    ("In repair", ("health", "in_repair"), 1),
]
TICKET_COLUMNS: list[tuple[str, tuple[str, ...], float]] = [
    ("Tickets opened", ("tickets", "opened"), 1),
    ("Tickets closed", ("tickets", "closed"), 1),
    ("MTTR hours", ("tickets", "mttr_hours"), 1),
    ("SLA breaches", ("tickets", "sla_breaches"), 1),
    ("Response breaches", ("tickets", "response_breaches"), 1),
    ("Resolution breaches", ("tickets", "resolution_breaches"), 1),
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _value(row: dict, path: tuple[str, ...], scale: float):
    value = row
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float) and scale != 1:
        return value * scale
    return value


def table(report: dict) -> dict:
    """``{"columns": [...], "rows": [[...], ...]}``: the groups, then the total."""
    columns = COLUMNS + (TICKET_COLUMNS if report.get("tickets_available") else [])
    rows = []
    for group in report["groups"]:
        rows.append([_value(group, path, scale) for _h, path, scale in columns])
    total = {**report["total"], "label": "Total", "key": ""}
    rows.append([_value(total, path, scale) for _h, path, scale in columns])
    return {"columns": [heading for heading, _p, _s in columns], "rows": rows}


def _safe_text(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.12g}"
    return _safe_text(value)


def to_csv(data: dict, period: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(data["columns"])
    for row in data["rows"]:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(data: dict, period: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("KPIs")
    sheet.freeze_panes = "A2"
    sheet.append(data["columns"])
    for row in data["rows"]:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text stays text, even "=1+1"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    about = book.create_sheet("Period")
    about.append(["From (UTC)", period["from"]])
    about.append(["To (UTC)", period["to"]])
    about.append(["Hours", period["hours"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
