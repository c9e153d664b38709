"""Read a CSV or Excel sheet of miners into rows for ``services.create_miners``.

The first row names the columns (any order, case and spaces ignored); see
``services.MINER_COLUMNS``. Up to 10,000 miners a file. Rows are numbered as the user sees
them in the sheet (the header is row 1), so the error report points at the right cell.
"""

from __future__ import annotations

import csv
import io

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput

_ = TranslationStringFactory("hashinsight")

MAX_ROWS = 10_000
MAX_BYTES = 8 * 1024 * 1024
ALIASES = {"model_name": "model", "worker": "pool_worker", "pool": "pool_url", "position": "rack"}


def _column(name) -> str:
    text = str(name or "").strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(text, text)


def _rows(header: list, body) -> list[dict]:
    columns = [_column(h) for h in header]
    if not any(columns):
        raise InvalidInput(_("the first row must name the columns (serial, mac, model, …)"), "file")
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise InvalidInput(
            _("column '${column}' appears twice", mapping={"column": repeated[0]}), "file"
        )
    rows: list[dict] = []
    for values in body:
        if all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in values):
            rows.append(None)  # an empty line keeps its number but is skipped
            continue
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(
                _("at most ${count} miners a file", mapping={"count": MAX_ROWS}), "file"
            )
        row = {}
        for column, value in zip(columns, values, strict=False):
            if column:
                row[column] = value.strip() if isinstance(value, str) else value
        rows.append(row)
    return rows


def read_csv(data: bytes) -> list[dict | None]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("the CSV file must be UTF-8 text"), "file") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(_("the file is empty"), "file") from None
    except csv.Error as error:
        raise InvalidInput(
            _("the CSV file cannot be read: ${error}", mapping={"error": str(error)}), "file"
        ) from None
    try:
        return _rows(header, reader)
    except csv.Error as error:
        raise InvalidInput(
            _("the CSV file cannot be read: ${error}", mapping={"error": str(error)}), "file"
        ) from None


def read_xlsx(data: bytes) -> list[dict | None]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise InvalidInput(_("the Excel file cannot be read (save it as .xlsx)"), "file") from None
    try:
        sheet = book.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            raise InvalidInput(_("the file is empty"), "file")
        return _rows(list(header), (list(v) for v in values))
    finally:
        book.close()


def read_file(filename: str, data: bytes) -> list[dict | None]:
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            _("the file is over ${size} MB", mapping={"size": MAX_BYTES // (1024 * 1024)}), "file"
        )
    if not data:
        raise InvalidInput(_("the file is empty"), "file")
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return read_xlsx(data)
    return read_csv(data)


def create_from_file(request, filename: str, data: bytes) -> list[int]:
    """All the file's miners or none (``services.BatchInvalid`` names each bad row/column)."""
    from plugins.hosting import services

    rows = read_file(filename, data)
    numbered = [(index + 2, row) for index, row in enumerate(rows) if row is not None]
    if not numbered:
        raise InvalidInput(_("the file has no miners"), "file")
    return services.create_miners(
        request, [row for _n, row in numbered], row_numbers=[n for n, _row in numbered]
    )
