"""Batch calculation: many scenarios in one vectorized run, from a grid (models x BTC prices x
electricity rates), a JSON list, or an uploaded CSV / Excel file; answers as a JSON table,
CSV or Excel. Nothing is stored: the file is read in memory and forgotten.

Every row is checked first (row and column in each message, as a spreadsheet counts them);
one bad row refuses the whole batch, so a table never silently misses scenarios.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from pyramid.i18n import TranslationString, TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput
from plugins.calculator import catalogue, engine, services
from plugins.calculator.services import COMMON, MARKET, MINER, Limit, ModelIndex

MAX_ROWS = 10_000  # scenarios in one batch (a grid, a list or a file)
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # an .xlsx is a zip: refuse a bomb before opening it
MAX_COLUMNS = 64
MAX_PROBLEMS = 25
MAX_GRID_VALUES = 200  # models, prices or rates in one grid axis

TEXT_COLUMNS = ("label", "model", "mode")
NUMBER_COLUMNS = ("model_id", *MINER, *COMMON, *(n for n in MARKET if n != "network_hashrate_ths"))
FILE_COLUMNS = (*TEXT_COLUMNS, *NUMBER_COLUMNS)
MODEL_ID = Limit(1, 2**31 - 1, whole=True)

# The table: what identifies each scenario, then what came out.
INPUT_COLUMNS = (
    "row",
    "label",
    "model",
    "mode",
    "hashrate_ths",
    "power_w",
    "quantity",
    "btc_price_usd",
    "electricity_usd_per_kwh",
    "difficulty",
    "block_height",
)
OUTPUT_COLUMNS = (
    "btc_per_day",
    "revenue_usd_per_day",
    "power_cost_usd_per_day",
    "hosting_usd_per_day",
    "costs_usd_per_day",
    "profit_usd_per_day",
    "profit_usd_per_month",
    "margin",
    "hashprice_usd_per_th_day",
    "cost_per_btc_usd",
    "break_even_usd_per_kwh",
    "break_even_btc_price_usd",
    "efficiency_j_per_th",
    "static_payback_days",
)
COLUMNS = (*INPUT_COLUMNS, *OUTPUT_COLUMNS)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheets run a text cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_ = TranslationStringFactory("hashinsight")


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: int | None  # 0-based position in the file
    name: str | None  # the column's name
    message: str | TranslationString
    # The message starts with the column's name, left out because the place names it.
    bare: bool = False

    def text(self, translate=catalogue.english) -> str:
        """Where and what, in the language of ``translate`` (``request.localizer.translate``)."""
        where = []
        if self.row is not None:
            where.append(translate(_("row ${row}", mapping={"row": self.row})))
        if self.column is not None:
            letter = column_letter(self.column)
            where.append(
                translate(
                    _("column ${letter} (${name})", mapping={"letter": letter, "name": self.name})
                )
            )
        elif self.name:
            where.append(translate(_("column ${column}", mapping={"column": self.name})))
        message = translate(self.message)
        if self.bare:
            message = message.lstrip(" :：")
        return catalogue.placed(where, message, translate)

    def __str__(self) -> str:
        return self.text()

    def as_dict(self, translate=catalogue.english) -> dict:
        out = {"row": self.row, "field": self.name, "message": self.text(translate)}
        if self.column is not None:
            out["column"] = column_letter(self.column)
        return out


class BatchError(InvalidInput):
    """A batch that cannot run; ``problems`` point at rows and columns (422). The JSON answer
    uses ``text(request.localizer.translate)`` and the problems one by one."""

    def __init__(self, problems: list[Problem], more: bool = False):
        self.problems = problems
        self.more = more
        first = problems[0]
        if len(problems) == 1 and not more and first.row is None and not first.name:
            message = first.message  # translatable as it is
        else:
            message = catalogue.summary(problems, more)
        super().__init__(message, first.name or "file")

    def text(self, translate=catalogue.english) -> str:
        return catalogue.summary(self.problems, self.more, translate)


def without_field(message, name: str | None) -> tuple:
    """(message, bare): a row's message without the column name it starts with."""
    if not name:
        return message, False
    if isinstance(message, TranslationString):
        mapping = message.mapping or {}
        if message.startswith("${field}") and mapping.get("field") == name:
            return _(message, mapping={**mapping, "field": ""}), True
        return message, False
    for start in (name + " ", name + ": "):
        if message.startswith(start):
            return message[len(start) :], False
    return message, False


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as a spreadsheet labels its columns)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def fail(message, row: int | None = None, name: str | None = None) -> BatchError:

    return BatchError([Problem(row, None, name, message)])


# --------------------------------------------------------------------------------------------
# Reading files


def read_file(data: bytes) -> tuple[list[str], list[tuple[int, list]]]:
    """(header names, [(row number, cells)]) from CSV or .xlsx bytes; the header is row 1."""
    if len(data) > MAX_FILE_BYTES:
        raise fail(
            _(
                "the file is ${size} bytes; the limit is ${limit} bytes "
                "(at most ${rows} scenarios): split it",
                mapping={
                    "size": f"{len(data):,}",
                    "limit": f"{MAX_FILE_BYTES:,}",
                    "rows": f"{MAX_ROWS:,}",
                },
            )
        )
    if not data.strip():
        raise fail(_("the file is empty; the first row must name the columns"))
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise fail(_("this is an old Excel file (.xls): save it as .xlsx or as CSV UTF-8"))
    else:
        rows = _csv_rows(data)
    header, body = None, []
    for number, cells in rows:
        if header is None:
            header = _header(cells)
            continue
        if all(_blank(c) for c in cells):
            continue  # blank lines, e.g. at the end
        if len(body) >= MAX_ROWS:
            raise fail(
                _(
                    "more than ${most} scenarios: split the file",
                    mapping={"most": f"{MAX_ROWS:,}"},
                ),
                number,
            )
        body.append((number, list(cells)))
    if header is None:
        raise fail(_("the file is empty; the first row must name the columns"))
    if not body:
        raise fail(_("the file has no scenarios, only the header"))
    return header, body


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise fail(_("the file is not UTF-8 text: save it as 'CSV UTF-8'"), row) from None
    if "\x00" in text:
        raise fail(_("the file contains NUL bytes: is it CSV?"))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error as error:
        raise fail(
            _("the CSV is malformed: ${error}", mapping={"error": error}), reader.line_num + 1
        ) from None
    return rows


def _xlsx_rows(data: bytes):
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > 1000 or sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
                raise fail(_("the workbook unpacks to more than 64 MB: split it"))
    except zipfile.BadZipFile:
        raise fail(_("the file is not a readable Excel workbook (.xlsx)")) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure to read an uploaded file is the file's fault
        raise fail(_("the file is not a readable Excel workbook (.xlsx)")) from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), 1):
            rows.append((number, list(cells)))
            if len(rows) > MAX_ROWS + 1:
                break
    except Exception:  # noqa: BLE001 - a damaged sheet inside a valid zip
        raise fail(_("the first sheet of the workbook cannot be read")) from None
    finally:
        book.close()
    return rows


def _header(cells) -> list[str]:
    names = [str(c).strip().lower() if c is not None else "" for c in cells]
    while names and not names[-1]:
        names.pop()  # spreadsheets often carry empty trailing columns
    if not names:
        raise fail(
            _("the first row must name the columns, e.g. model,quantity,electricity_usd_per_kwh"),
            1,
        )
    if len(names) == 1 and ";" in names[0]:
        raise fail(_("columns must be separated by commas, not semicolons"), 1)
    problems = []
    for index, name in enumerate(names):
        if name not in FILE_COLUMNS:
            problems.append(
                Problem(1, index, name[:40] or "?", catalogue.unknown_column(name, FILE_COLUMNS))
            )
        elif names.count(name) > 1 and names.index(name) != index:
            twice = _("column '${name}' appears twice", mapping={"name": name})
            problems.append(Problem(1, index, name, twice))
    if not ({"model", "model_id"} & set(names) or {"hashrate_ths", "power_w"} <= set(names)):
        problems.append(
            Problem(1, None, None, _("name a model (column model or model_id) or give "
                    "hashrate_ths and power_w"))
        )  # fmt: skip
    if problems:
        raise BatchError(problems[:MAX_PROBLEMS])
    return names


def rows_from_file(data: bytes) -> list[tuple[int, dict, dict]]:
    """[(row number, values by column, column positions)] from an uploaded file."""
    header, body = read_file(data)
    positions = {name: index for index, name in enumerate(header)}
    out = []
    for number, cells in body:
        values = {}
        for name, index in positions.items():
            cell = cells[index] if index < len(cells) else None
            if _blank(cell):
                continue
            values[name] = cell.strip() if isinstance(cell, str) else cell
        out.append((number, values, positions))
    return out


# --------------------------------------------------------------------------------------------
# Checking rows and running them


@dataclass
class Batch:
    rows: list[int]  # the source row of each scenario (file row, or 1-based position)
    miners: list[services.Miner]
    common: dict[str, np.ndarray]
    market: dict[str, np.ndarray]
    used_market: dict  # the stored values used where a row gave none


def check_rows(
    dbsession, items: list[tuple[int, Mapping, Mapping | None]], defaults: Mapping, stored
) -> Batch:
    """Every row checked (up to MAX_PROBLEMS problems reported together), then arrays."""
    if not items:
        raise fail(_("the batch has no scenarios"))
    if len(items) > MAX_ROWS:
        raise fail(
            _(
                "${count} scenarios; the limit is ${most}: split the batch",
                mapping={"count": f"{len(items):,}", "most": f"{MAX_ROWS:,}"},
            )
        )
    index = ModelIndex.load(dbsession)
    base_common = services.pick(defaults, COMMON, services.COMMON_DEFAULTS)
    base_market = {n: v for n, v in services.pick(defaults, MARKET, {}).items()}
    problems: list[Problem] = []
    rows, miners = [], []
    common = {name: [] for name in COMMON}
    market = {name: [] for name in ("btc_price_usd", "difficulty", "block_height",
                                    "fees_per_block_btc")}  # fmt: skip
    used = {}
    for number, values, positions in items:
        try:
            item = dict(values)
            if item.get("model_id") is not None:
                item["model_id"] = services.check(item["model_id"], "model_id", MODEL_ID)
            for name in TEXT_COLUMNS:
                if name in item and not isinstance(item[name], str):
                    item[name] = _text(item[name])
            miner = services.build_miner(item, index, "")
            row_common = {**base_common, **services.pick(item, COMMON, {})}
            if "electricity_usd_per_kwh" not in row_common:
                raise InvalidInput(
                    _(
                        "${field} is needed: add the column or give a default",
                        mapping={"field": "electricity_usd_per_kwh"},
                    ),
                    "electricity_usd_per_kwh",
                )
            row_market = {**base_market, **services.pick(item, MARKET, {})}
            for name in market:
                if name not in row_market:
                    stored_value = stored.get(name)
                    if stored_value is None or stored_value.value is None:
                        if name == "fees_per_block_btc":
                            row_market[name] = 0.0
                            continue
                        raise InvalidInput(
                            _(
                                "${field} is needed: no market value is stored, so add the "
                                "column or give a default",
                                mapping={"field": name},
                            ),
                            name,
                        )
                    row_market[name] = stored_value.value
                    used[name] = stored_value.as_dict()
        except InvalidInput as error:
            name = error.field
            column = positions.get(name) if positions else None
            message, bare = without_field(error.message, name)
            problems.append(Problem(number, column, name, message, bare))
            if len(problems) >= MAX_PROBLEMS:
                raise BatchError(problems, more=True) from None
            continue
        rows.append(number)
        miners.append(miner)
        for name in common:
            common[name].append(row_common[name])
        for name in market:
            market[name].append(row_market[name])
    if problems:
        raise BatchError(problems)
    return Batch(
        rows,
        miners,
        {k: np.asarray(v, dtype=float) for k, v in common.items()},
        {k: np.asarray(v, dtype=float) for k, v in market.items()},
        used,
    )


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def run(batch: Batch) -> dict:
    """One vectorized :func:`engine.quote` over every scenario; a column-named table."""

    def column(name):
        return np.array([getattr(m, name) for m in batch.miners], dtype=float)

    scenario = engine.Scenario(
        hashrate_ths=column("hashrate_ths"),
        power_w=column("power_w"),
        idle_power_w=column("idle_power_w"),
        quantity=column("quantity"),
        capex_usd=column("capex_usd"),
        salvage_usd=column("salvage_usd"),
        btc_price_usd=batch.market["btc_price_usd"],
        difficulty=batch.market["difficulty"],
        block_height=batch.market["block_height"].astype(np.int64),
        fees_per_block_btc=batch.market["fees_per_block_btc"],
        **batch.common,
    )
    try:
        result = engine.quote(scenario)
    except engine.InputError as error:
        raise InvalidInput(error.message, error.field) from None
    out_columns = {name: _floats(getattr(result, name)) for name in OUTPUT_COLUMNS}
    rows = []
    for n, miner in enumerate(batch.miners):
        rows.append(
            [
                batch.rows[n],
                miner.label,
                miner.model,
                miner.mode,
                miner.hashrate_ths,
                miner.power_w,
                miner.quantity,
                float(batch.market["btc_price_usd"][n]),
                float(batch.common["electricity_usd_per_kwh"][n]),
                float(batch.market["difficulty"][n]),
                int(batch.market["block_height"][n]),
                *(out_columns[name][n] for name in OUTPUT_COLUMNS),
            ]
        )
    return {"columns": list(COLUMNS), "rows": rows, "count": len(rows), "market": batch.used_market}


def _floats(values) -> list:
    array = np.asarray(values, dtype=float)
    return np.where(np.isnan(array), None, array.astype(object)).tolist()


# --------------------------------------------------------------------------------------------
# The three ways in


def from_grid(dbsession, data: Mapping, stored) -> Batch:
    """models x BTC prices x electricity rates (a value of the request for an axis not given)."""
    grid = data.get("grid") or {}
    models = list(grid.get("models") or [])
    prices = list(grid.get("btc_prices_usd") or [])
    rates = list(grid.get("electricity_usd_per_kwh") or [])
    if not models:
        raise fail(_("grid.models: choose at least one model"), name="grid.models")
    for name, axis in (("grid.models", models), ("grid.btc_prices_usd", prices),
                       ("grid.electricity_usd_per_kwh", rates)):  # fmt: skip
        if len(axis) > MAX_GRID_VALUES:
            raise fail(_("at most ${most} values", mapping={"most": MAX_GRID_VALUES}), name=name)

    total = len(models) * max(1, len(prices)) * max(1, len(rates))
    if total > MAX_ROWS:
        raise fail(
            _(
                "${models} models x ${prices} prices x ${rates} rates is ${total} scenarios; "
                "the limit is ${most}",
                mapping={
                    "models": len(models),
                    "prices": max(1, len(prices)),
                    "rates": max(1, len(rates)),
                    "total": f"{total:,}",
                    "most": f"{MAX_ROWS:,}",
                },
            ),
            name="grid",
        )
    items = []
    for model in models:
        base = dict(model) if isinstance(model, Mapping) else {"model_id": model}
        for price in prices or [None]:
            for rate in rates or [None]:
                row = dict(base)
                if price is not None:
                    row["btc_price_usd"] = price
                if rate is not None:
                    row["electricity_usd_per_kwh"] = rate
                items.append((len(items) + 1, row, None))
    return check_rows(dbsession, items, data, stored)


def from_list(dbsession, data: Mapping, stored) -> Batch:
    scenarios = list(data.get("scenarios") or [])
    items = [(n, row, None) for n, row in enumerate(scenarios, 1)]
    return check_rows(dbsession, items, data, stored)


def from_file(dbsession, content: bytes, defaults: Mapping, stored) -> Batch:
    return check_rows(dbsession, rows_from_file(content), defaults, stored)


# --------------------------------------------------------------------------------------------
# Downloads


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


def to_csv(table: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table["columns"])
    for row in table["rows"]:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(table: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Scenarios")
    sheet.freeze_panes = "A2"
    sheet.append(table["columns"])
    for row in table["rows"]:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text stays text, even "=1+1"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
