"""The "BTC inventory" report section: the period's entries and a totals row."""

from __future__ import annotations

import datetime as dt

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.reports import ReportSection
from plugins.treasury import ledger, services
from plugins.treasury.permissions import TreasuryPermission

_ = TranslationStringFactory("hashinsight")

# Also used by the page, so a kind reads the same everywhere.
KIND_LABELS = {
    ledger.MINED: _("Mined"),
    ledger.BOUGHT: _("Bought"),
    ledger.SOLD: _("Sold"),
    ledger.FEE: _("Fee"),
}
COLUMNS = [
    _("Date"),
    _("Type"),
    _("BTC in"),
    _("BTC out"),
    _("USD"),
    _("Realized profit/loss (USD)"),
    _("Balance (BTC)"),
]


def build_inventory(request, period: tuple[dt.date | None, dt.date | None]) -> dict:
    """Rows for the entries of ``period`` (both days included), then one totals row.

    Values stay typed (``date``, ``Decimal``, ``None`` for empty) so a spreadsheet gets numbers;
    text is already in the reader's language. The totals row sums BTC in, BTC out and realized
    profit/loss over the period and ends with the balance at the end of the period (which
    counts every entry before it too). USD is not totalled: it mixes paid, received and
    market values.
    """
    date_from, date_to = period
    translate = request.localizer.translate
    result = services.build_ledger(request.dbsession, date_to)
    steps = [s for s in result.steps if date_from is None or s.entry.occurred_on >= date_from]
    rows: list[list] = []
    total_in = total_out = realized = ledger.ZERO
    for step in steps:
        entry = step.entry
        incoming = entry.kind in ledger.IN_KINDS
        amount = ledger.btc(entry.btc)
        rows.append(
            [
                entry.occurred_on,
                translate(KIND_LABELS[entry.kind]),
                amount if incoming else None,
                None if incoming else amount,
                None if entry.usd is None else ledger.usd(entry.usd),
                step.realized_pl_usd,
                ledger.btc(step.balance_btc),
            ]
        )
        if incoming:
            total_in += amount
        else:
            total_out += amount
        realized += step.realized_pl_usd or ledger.ZERO
    closing = ledger.btc(result.summary.balance_btc)
    rows.append([translate(_("Total")), "", total_in, total_out, None, realized, closing])
    return {"columns": [translate(c) for c in COLUMNS], "rows": rows}


def inventory_section() -> ReportSection:
    return ReportSection(
        name="treasury.inventory",
        title=_("BTC inventory"),
        permission=TreasuryPermission.ENTRY_READ,
        build=build_inventory,
    )
