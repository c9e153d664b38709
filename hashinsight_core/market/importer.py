"""CSV import of daily BTC prices and difficulty history: check every row, then write all.

Price files have the header ``date,open,high,low,close,volume`` (``volume`` in BTC and
optional; other columns are ignored). Difficulty files have ``difficulty`` and ``height``
and/or ``date``. Row numbers in messages are the file's line numbers (the header is row 1),
so an editor jumps straight to them. Either every row is good and all are stored (a re-import
updates the rows it repeats), or nothing is stored and the first problems are listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from hashinsight_core.db import utcnow
from hashinsight_core.market import figures
from hashinsight_core.market.models import MarketDifficulty, MarketLatest, MarketPriceDaily

KINDS = ("price", "difficulty")
MAX_BYTES = 20_000_000
MAX_ROWS = 200_000
MAX_ERRORS = 10  # listed; the count says how many more there were
FIRST_DAY = dt.date(2009, 1, 3)  # the genesis block
PRICE_COLUMNS = ("date", "open", "high", "low", "close")
MAX_PRICE = 1e8
MAX_VOLUME = 1e12
CHUNK = 1000

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^\d+$")


class ImportFailed(Exception):
    """The file was refused; ``errors`` are lines like ``row 12, column close: ...``."""

    def __init__(self, errors: list[str], more: int = 0):
        self.errors = errors
        self.more = more
        text = "; ".join(errors) + (f"; and {more} more" if more else "")
        super().__init__(text)


@dataclass
class ImportResult:
    kind: str
    rows: int
    inserted: int
    updated: int
    first: str = ""
    last: str = ""
    seeded: list[str] = field(default_factory=list)  # latest figures set from the file

    def line(self) -> str:
        seeded = f"; latest {', '.join(self.seeded)} set from the file" if self.seeded else ""
        return (
            f"imported {self.rows} {self.kind} rows ({self.first} .. {self.last}): "
            f"{self.inserted} new, {self.updated} updated{seeded}"
        )


class _Errors:
    def __init__(self):
        self.items: list[str] = []
        self.count = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            where = ", ".join(
                part
                for part in (f"row {row}" if row else "", f"column {column}" if column else "")
                if part
            )
            self.items.append(f"{where}: {message}" if where else message)

    def raise_if_any(self) -> None:
        if self.count:
            raise ImportFailed(self.items, self.count - len(self.items))


def _reader(text: str, errors: _Errors, required_any: tuple[str, ...]):
    """(header -> index, rows as (line number, cells)); header problems raise at once."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ImportFailed([f"row 1: not a CSV header ({error})"]) from None
    if header is None or not any(cell.strip() for cell in header):
        raise ImportFailed(["the file is empty: expected a header row"])
    names = [cell.strip().lower() for cell in header]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in index:
            raise ImportFailed([f"row 1, column {name}: appears twice in the header"])
        if name:
            index[name] = position
    return index, names, reader


def _rows(reader, width: int, errors: _Errors):
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are allowed anywhere
            if len(cells) > width:
                errors.add(line, None, f"{len(cells)} values but the header has {width} columns")
                continue
            yield line, cells + [""] * (width - len(cells))
    except csv.Error as error:
        errors.add(reader.line_num, None, f"not valid CSV ({error})")


def _date(text: str, line: int, column: str, errors: _Errors, today: dt.date):
    text = text.strip()
    if not _DATE.match(text):
        errors.add(line, column, f"'{text[:30]}' is not a date like 2024-04-20")
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        errors.add(line, column, f"'{text}' is not a real date")
        return None
    if not FIRST_DAY <= day <= today:
        errors.add(line, column, f"{text} is outside {FIRST_DAY} .. {today}")
        return None
    return day


def _number(text: str, line: int, column: str, errors: _Errors, low: float, high: float):
    text = text.strip()
    if not _DECIMAL.match(text):
        errors.add(line, column, f"'{text[:30]}' is not a number")
        return None
    value = float(text)
    if not math.isfinite(value) or not low <= value <= high:
        errors.add(line, column, f"{text} is outside {low:g} .. {high:g}")
        return None
    return value


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise ImportFailed([f"the file is larger than {MAX_BYTES // 1_000_000} MB"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportFailed([f"the file is not UTF-8 text (byte {error.start})"]) from None


def parse_price(data: bytes | str, today: dt.date | None = None) -> list[dict]:
    """Rows of a price CSV as dicts for ``core_market_price_daily``; ImportFailed if any is bad."""
    today = today or utcnow().date()
    errors = _Errors()
    index, names, reader = _reader(_decode(data), errors, PRICE_COLUMNS)
    missing = [c for c in PRICE_COLUMNS if c not in index]
    if missing:
        raise ImportFailed(
            [
                f"row 1, column {missing[0]}: missing from the header "
                "(expected date,open,high,low,close,volume)"
            ]
        )
    out: list[dict] = []
    seen: dict[dt.date, int] = {}
    for line, cells in _rows(reader, len(names), errors):
        if len(out) >= MAX_ROWS:
            raise ImportFailed([f"more than {MAX_ROWS} rows: split the file"])
        day = _date(cells[index["date"]], line, "date", errors, today)
        values = {}
        for column in ("open", "high", "low", "close"):
            values[column] = _number(cells[index[column]], line, column, errors, 1e-9, MAX_PRICE)
        volume = None
        if "volume" in index and cells[index["volume"]].strip():
            volume = _number(cells[index["volume"]], line, "volume", errors, 0.0, MAX_VOLUME)
        if day is not None:
            if day in seen:
                errors.add(line, "date", f"{day} is also on row {seen[day]}")
                continue
            seen[day] = line
        if day is None or any(v is None for v in values.values()):
            continue
        o, h, lo, c = values["open"], values["high"], values["low"], values["close"]
        if h < max(o, c, lo):
            errors.add(line, "high", f"{h:g} is below open, low or close")
            continue
        if lo > min(o, c):
            errors.add(line, "low", f"{lo:g} is above open or close")
            continue
        out.append({"date": day, **values, "volume": volume})
    errors.raise_if_any()
    if not out:
        raise ImportFailed(["the file has a header but no rows"])
    return out


def parse_difficulty(data: bytes | str, today: dt.date | None = None) -> list[dict]:
    """Rows of a difficulty CSV (``difficulty`` with ``height`` and/or ``date``)."""
    today = today or utcnow().date()
    errors = _Errors()
    index, names, reader = _reader(_decode(data), errors, ("difficulty",))
    if "difficulty" not in index:
        raise ImportFailed(["row 1, column difficulty: missing from the header"])
    if "height" not in index and "date" not in index:
        raise ImportFailed(["row 1: the header needs a height column, a date column or both"])
    spec = figures.FIGURES["difficulty"]
    out: list[dict] = []
    heights: dict[int, int] = {}
    days: dict[dt.date, int] = {}
    for line, cells in _rows(reader, len(names), errors):
        if len(out) >= MAX_ROWS:
            raise ImportFailed([f"more than {MAX_ROWS} rows: split the file"])
        height = day = None
        bad = False
        if "height" in index and cells[index["height"]].strip():
            text = cells[index["height"]].strip()
            if not _INTEGER.match(text) or int(text) > figures.FIGURES["block_height"].maximum:
                errors.add(line, "height", f"'{text[:30]}' is not a block height")
                bad = True
            else:
                height = int(text)
                if height in heights:
                    errors.add(line, "height", f"{height} is also on row {heights[height]}")
                    bad = True
                heights.setdefault(height, line)
        if "date" in index and cells[index["date"]].strip():
            day = _date(cells[index["date"]], line, "date", errors, today)
            bad = bad or day is None
            if day is not None:
                if day in days:
                    errors.add(line, "date", f"{day} is also on row {days[day]}")
                    bad = True
                days.setdefault(day, line)
        value = _number(
            cells[index["difficulty"]], line, "difficulty", errors, spec.minimum, spec.maximum
        )
        if height is None and day is None and not bad:
            errors.add(line, "height" if "height" in index else "date", "needs a height or a date")
            bad = True
        if bad or value is None:
            continue
        out.append({"height": height, "date": day, "difficulty": value, "line": line})
    errors.raise_if_any()
    if not out:
        raise ImportFailed(["the file has a header but no rows"])
    return out


# --- writing ----------------------------------------------------------------------------------


def _seed_latest(dbsession, name: str, value: float, as_of: dt.datetime) -> bool:
    """Make an imported value the latest one when nothing newer is stored (offline farms)."""
    row = dbsession.get(MarketLatest, name)
    # Newer values always win; at the same moment a corrected file replaces an earlier import.
    if row is not None and (row.as_of > as_of or (row.as_of == as_of and row.source != "import")):
        return False
    if row is None:
        row = MarketLatest(figure=name)
        dbsession.add(row)
    row.value, row.source, row.as_of, row.fetched_at = value, "import", as_of, utcnow()
    row.last_error = row.error_at = None
    return True


def _chunks(items: list) -> list[list]:
    return [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]


def store_price(dbsession, rows: list[dict], source: str = "import") -> ImportResult:
    from hashinsight_core.market.service import upsert

    now = utcnow()
    days = [r["date"] for r in rows]
    existing = 0
    for start in range(0, len(days), CHUNK):
        part = days[start : start + CHUNK]
        existing += dbsession.scalar(
            sa.select(sa.func.count()).where(MarketPriceDaily.date.in_(part))
        )
    payload = [{**r, "source": source, "updated_at": now} for r in rows]
    for start in range(0, len(payload), CHUNK):
        upsert(dbsession, MarketPriceDaily, payload[start : start + CHUNK], ["date"])
    newest = max(rows, key=lambda r: r["date"])
    # The close of a day is the price at its end.
    end_of_day = dt.datetime.combine(newest["date"] + dt.timedelta(days=1), dt.time())
    seeded = (
        ["price_usd"]
        if _seed_latest(dbsession, "price_usd", newest["close"], min(end_of_day, now))
        else []
    )
    return ImportResult(
        "price", len(rows), len(rows) - existing, existing, str(min(days)), str(max(days)), seeded
    )


def store_difficulty(dbsession, rows: list[dict], source: str = "import") -> ImportResult:
    from hashinsight_core.market.service import upsert

    now = utcnow()
    by_height = [r for r in rows if r["height"] is not None]
    by_date = [r for r in rows if r["height"] is None]
    # A date already stored under another height would break the one-row-per-date rule:
    # say so by row, instead of letting the database refuse the whole import.
    dated = {r["date"]: r for r in by_height if r["date"] is not None}
    clashes = []
    days = list(dated)
    for start in range(0, len(days), CHUNK):
        query = sa.select(MarketDifficulty.date, MarketDifficulty.height).where(
            MarketDifficulty.date.in_(days[start : start + CHUNK]),
            MarketDifficulty.height.is_not(None),
        )
        for day, height in dbsession.execute(query):
            if height != dated[day]["height"]:
                clashes.append(
                    f"row {dated[day]['line']}, column date: {day} is stored for height {height}"
                )
    if clashes:
        raise ImportFailed(clashes[:MAX_ERRORS], max(0, len(clashes) - MAX_ERRORS))
    heights = [r["height"] for r in by_height]
    date_only = [r["date"] for r in by_date]
    existing = sum(
        dbsession.scalar(sa.select(sa.func.count()).where(column.in_(part)))
        for column, keys in ((MarketDifficulty.height, heights), (MarketDifficulty.date, date_only))
        for part in _chunks(keys)
    )
    # Rows stored by date alone that now arrive with their height become that row.
    for part in _chunks(days):
        dbsession.execute(
            sa.delete(MarketDifficulty).where(
                MarketDifficulty.height.is_(None), MarketDifficulty.date.in_(part)
            )
        )
    for start in range(0, len(by_height), CHUNK):
        payload = [
            {
                "height": r["height"],
                "date": r["date"],
                "difficulty": r["difficulty"],
                "source": source,
                "updated_at": now,
            }
            for r in by_height[start : start + CHUNK]
        ]
        upsert(dbsession, MarketDifficulty, payload, ["height"])
    for start in range(0, len(by_date), CHUNK):
        payload = [
            {"date": r["date"], "difficulty": r["difficulty"], "source": source, "updated_at": now}
            for r in by_date[start : start + CHUNK]
        ]
        upsert(dbsession, MarketDifficulty, payload, ["date"])
    seeded = []
    dated_rows = [r for r in rows if r["date"] is not None]
    if dated_rows:
        newest = max(dated_rows, key=lambda r: (r["date"], r["height"] or 0))
        as_of = min(dt.datetime.combine(newest["date"], dt.time()), now)
        if _seed_latest(dbsession, "difficulty", newest["difficulty"], as_of):
            seeded.append("difficulty")
        if newest["height"] is not None and _seed_latest(
            dbsession, "block_height", float(newest["height"]), as_of
        ):
            seeded.append("block_height")
    first = min(rows, key=lambda r: (r["height"] is None, r["height"] or 0, str(r["date"])))
    last = max(rows, key=lambda r: (r["height"] is not None, r["height"] or 0, str(r["date"])))

    def label(r):
        return f"height {r['height']}" if r["height"] is not None else str(r["date"])

    return ImportResult(
        "difficulty", len(rows), len(rows) - existing, existing, label(first), label(last), seeded
    )


def import_csv(dbsession, data: bytes | str, kind: str, today: dt.date | None = None):
    """Check and store one file; ImportFailed (nothing written) or an ImportResult."""
    if kind == "price":
        return store_price(dbsession, parse_price(data, today))
    if kind == "difficulty":
        return store_difficulty(dbsession, parse_difficulty(data, today))
    raise ImportFailed([f"kind: use one of {', '.join(KINDS)}"])
