"""BTC inventory entries: the rules for adding them and reading the ledger they make."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput
from plugins.treasury import ledger
from plugins.treasury.models import Entry

_ = TranslationStringFactory("hashinsight")

FIRST_DAY = dt.date(2009, 1, 3)  # the genesis block: no BTC moved before it
MAX_BTC = Decimal(21_000_000)
# Far above any farm's trade, and small enough that SQLite (which keeps NUMERIC as a float)
# still holds every cent exactly.
MAX_USD = Decimal(1_000_000_000_000)
MAX_NOTE = 500
NEEDS_USD = (ledger.BOUGHT, ledger.SOLD)


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(
            _("${field} must be a date like 2024-04-20", mapping={"field": field}), field
        ) from None


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidInput(_("${field} must be a number", mapping={"field": field}), field)
    # A JSON number arrives as a float; str() gives the shortest text that round-trips, which
    # is what the client wrote (0.1 stays 0.1, not 0.1000000000000000055...).
    # Commas are refused rather than guessed: "1,5" is 1.5 to some people and 15 to others.
    text = str(value).strip() if value is not None else ""
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise InvalidInput(
            _(
                "${field} must be a number like 1234.56 (a dot, no commas)",
                mapping={"field": field},
            ),
            field,
        )
    return number


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def clean_entry(occurred_on: Any, kind: Any, btc: Any, usd: Any = None, note: Any = None) -> dict:
    """Check one entry's fields on their own; the ledger then checks it against the history."""
    occurred_on = _date(occurred_on, "occurred_on")
    latest = dt.date.today() + dt.timedelta(days=1)  # a farm east of the server is a day ahead
    if not FIRST_DAY <= occurred_on <= latest:
        raise InvalidInput(
            _(
                "occurred_on must be between ${first} and ${last} (not ${day})",
                mapping={"first": FIRST_DAY, "last": latest, "day": occurred_on},
            ),
            "occurred_on",
        )
    if kind not in ledger.KINDS:
        raise InvalidInput(_kind_message(kind), "kind")
    amount = _decimal(btc, "btc")
    if not 0 < amount <= MAX_BTC:
        raise InvalidInput(
            _("btc must be more than 0 and at most ${most}", mapping={"most": f"{MAX_BTC:,}"}),
            "btc",
        )
    if _places(amount) > 8:
        raise InvalidInput(_("btc can have at most 8 decimal places (1 satoshi)"), "btc")
    value = None if usd is None or str(usd).strip() == "" else _decimal(usd, "usd")
    if value is None and kind in NEEDS_USD:
        if kind == ledger.BOUGHT:
            message = _("usd is needed for a ${kind} entry: what was paid", mapping={"kind": kind})
        else:
            message = _(
                "usd is needed for a ${kind} entry: what was received", mapping={"kind": kind}
            )
        raise InvalidInput(message, "usd")
    if value is not None:
        if not 0 <= value < MAX_USD:
            raise InvalidInput(
                _("usd must be 0 or more and less than ${most}", mapping={"most": f"{MAX_USD:,}"}),
                "usd",
            )
        if _places(value) > 2:
            raise InvalidInput(_("usd can have at most 2 decimal places (cents)"), "usd")
    if note is not None and not isinstance(note, str):
        raise InvalidInput(_("note must be text"), "note")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(
            _("note must be at most ${most} characters", mapping={"most": MAX_NOTE}), "note"
        )
    return {
        "occurred_on": occurred_on,
        "kind": kind,
        "btc": amount,
        "usd": value,
        "note": note or None,
    }


def list_entries(dbsession, date_to: dt.date | None = None) -> list[Entry]:
    """Every entry up to ``date_to`` (all when None), in ledger order: by date, then as entered."""
    query = sa.select(Entry).order_by(Entry.occurred_on, Entry.id)
    if date_to is not None:
        query = query.where(Entry.occurred_on <= date_to)
    return list(dbsession.scalars(query))


def _kind_message(kind):
    return _(
        "kind must be one of ${kinds} (not '${kind}')",
        mapping={"kinds": ", ".join(ledger.KINDS), "kind": kind},
    )


def _overdrawn_message(error: ledger.Overdrawn, new: Entry | None = None, stored=False):
    entry = error.entry
    sale = entry.kind == ledger.SOLD
    values = {
        "btc": ledger.btc(entry.btc),
        "day": entry.occurred_on,
        "held": ledger.btc(error.held),
    }
    if stored:  # rows changed behind the app's back: no entry is being added
        if sale:
            text = _(
                "the stored entries do not add up: the sale of ${btc} BTC on ${day} is more "
                "than the ${held} BTC held on that day",
                mapping=values,
            )
        else:
            text = _(
                "the stored entries do not add up: the fee of ${btc} BTC on ${day} is more "
                "than the ${held} BTC held on that day",
                mapping=values,
            )
    elif entry is new and sale:
        text = _(
            "the sale of ${btc} BTC on ${day} is more than the ${held} BTC held on that day",
            mapping=values,
        )
    elif entry is new:
        text = _(
            "the fee of ${btc} BTC on ${day} is more than the ${held} BTC held on that day",
            mapping=values,
        )
    elif sale:
        text = _(
            "this entry would leave too little BTC for the sale of ${btc} BTC on ${day} "
            "(only ${held} BTC held then)",
            mapping=values,
        )
    else:
        text = _(
            "this entry would leave too little BTC for the fee of ${btc} BTC on ${day} "
            "(only ${held} BTC held then)",
            mapping=values,
        )
    return text


def build_ledger(dbsession, date_to: dt.date | None = None) -> ledger.Ledger:
    """The ledger of the stored entries up to ``date_to``."""
    try:
        return ledger.run(list_entries(dbsession, date_to))
    except ledger.Overdrawn as error:  # only if rows were changed behind the app's back
        raise InvalidInput(_overdrawn_message(error, stored=True), "btc") from None


def create_entry(
    request, occurred_on: Any, kind: Any, btc: Any, usd: Any = None, note: Any = None
) -> Entry:
    """Add an entry if the whole history still adds up with it; nothing is written otherwise."""
    entry = Entry(**clean_entry(occurred_on, kind, btc, usd, note))
    dbsession = request.dbsession
    # The new entry goes last among those of its date, as it will once stored (ids grow).
    history = list_entries(dbsession)
    try:
        ledger.run([*history, entry])
    except ledger.Overdrawn as error:
        raise InvalidInput(_overdrawn_message(error, entry), "btc") from None
    dbsession.add(entry)
    dbsession.flush()
    request.emit("treasury:entry:create", entry_id=entry.id)
    return entry


def find_steps(
    dbsession,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    kind: str | None = None,
) -> list[ledger.Step]:
    """Entries in ``date_from``..``date_to`` (both included), each with the position after it.

    The position needs every earlier entry, so the ledger always runs from the first one.
    """
    if kind is not None and kind not in ledger.KINDS:
        raise InvalidInput(_kind_message(kind), "kind")
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidInput(
            _(
                "date_from (${start}) is after date_to (${end})",
                mapping={"start": date_from, "end": date_to},
            ),
            "date_from",
        )

    return [
        step
        for step in build_ledger(dbsession, date_to).steps
        if (date_from is None or step.entry.occurred_on >= date_from)
        and (kind is None or step.entry.kind == kind)
    ]
