"""The ASIC catalogue: validation, search, changes (audited), CSV import/export and the seed.

Every way a model gets in — the JSON API, the admin form, a CSV upload, the seed file that
the migration and :func:`seed` read — goes through :func:`clean_model`, so the rules live in
one place. Efficiency is never stored: it is ``power_w / hashrate_ths``.

CSV format (one model a row; ``docs/calculator-catalogue.md`` has the details)::

    vendor,model,hashrate_ths,power_w,cooling,release_year,is_active,source,notes,power_modes
    Bitmain,Antminer T19,84,3150,air,2020,true,https://...,,84T*:84:3150;88T bin:88:3344

``power_modes`` holds ``name:hashrate_ths:power_w`` entries separated by ``;``; a ``*`` after
the name marks the default mode.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa
from pyramid.i18n import TranslationString, TranslationStringFactory
from sqlalchemy.orm import selectinload

from hashinsight_core.exceptions import Conflict, InvalidInput
from plugins.calculator.models import COOLING_TYPES, AsicModel, AsicPowerMode

_ = TranslationStringFactory("hashinsight")

SEED_FILE = Path(__file__).parent / "data" / "asic_models.csv"

# One machine, not a farm: a 3U hydro rack is about 860 TH/s and 10-20 kW, so these leave
# room for years of progress while still catching TH/s typed as GH/s or W typed as mW.
MAX_HASHRATE_THS = 100_000.0
MAX_POWER_W = 100_000.0
# Efficiency bounds for SHA-256 machines: today's best are about 12 J/TH, an Antminer S9 was
# about 100. Outside these the units are wrong (kW for W, PH/s for TH/s ...).
MIN_J_PER_TH = 1.0
MAX_J_PER_TH = 5_000.0
FIRST_YEAR = 2009  # Bitcoin's first block
MAX_MODES = 30  # LuxOS makes 25 profiles per miner
MAX_VENDOR = 100
MAX_MODEL = 100
MAX_SOURCE = 500
MAX_NOTES = 2_000
MAX_MODE_NAME = 40

MAX_CSV_BYTES = 1024 * 1024  # about 2,000 models with long sources and notes
MAX_CSV_ROWS = 2_000
MAX_PROBLEMS = 25  # a file with every row wrong needs a hint, not 2,000 lines

CSV_COLUMNS = (
    "vendor",
    "model",
    "hashrate_ths",
    "power_w",
    "cooling",
    "release_year",
    "is_active",
    "source",
    "notes",
    "power_modes",
)
REQUIRED_COLUMNS = ("vendor", "model", "hashrate_ths", "power_w", "cooling")
STATUSES = ("active", "inactive", "all")
SORTS = ("name", "efficiency", "hashrate", "year")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tab and newline are left for notes
_LINE_BREAK = re.compile(r"[\t\n\r]")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_MODE_FORBIDDEN = set(":;*")
# Spreadsheets run a cell that starts with one of these as a formula; exported text cells
# that do get a leading apostrophe, which the importer takes off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


# --- what a model is, checked --------------------------------------------------------------


@dataclass(frozen=True)
class ModeSpec:
    name: str
    hashrate_ths: float
    power_w: float
    is_default: bool = False


@dataclass(frozen=True)
class ModelSpec:
    vendor: str
    model: str
    hashrate_ths: float
    power_w: float
    cooling: str
    release_year: int | None = None
    is_active: bool = True
    source: str = ""
    notes: str = ""
    power_modes: tuple[ModeSpec, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return name_key(self.vendor, self.model)

    @property
    def name(self) -> str:
        return f"{self.vendor} {self.model}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["power_modes"] = [asdict(mode) for mode in self.power_modes]
        return data


def name_key(vendor: str, model: str) -> tuple[str, str]:
    """Vendor and model as compared for duplicates: case and spacing do not make a new model."""
    return (" ".join(vendor.split()).casefold(), " ".join(model.split()).casefold())


def spec_of(model: AsicModel) -> ModelSpec:
    return ModelSpec(
        vendor=model.vendor,
        model=model.model,
        hashrate_ths=model.hashrate_ths,
        power_w=model.power_w,
        cooling=model.cooling,
        release_year=model.release_year,
        is_active=model.is_active,
        source=model.source or "",
        notes=model.notes or "",
        power_modes=tuple(
            ModeSpec(m.name, m.hashrate_ths, m.power_w, m.is_default) for m in model.power_modes
        ),
    )


def parse_number(value, field: str) -> float:
    """A JSON number or the text a person typed ("3500", "3,500", "1.5e3") -> a finite float."""
    if isinstance(value, bool):  # True is an int in Python, and never a hashrate
        raise InvalidInput(_("${field} must be a number", mapping={"field": field}), field)
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value if value is not None else "").strip()
        text = text.replace("\u00a0", "").replace(" ", "").replace("_", "")
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        if not text:
            raise InvalidInput(_("${field} is needed", mapping={"field": field}), field)
        try:
            number = float(text)
        except ValueError:
            raise InvalidInput(
                _(
                    "${field} must be a number (use a dot for decimals), not '${text}'",
                    mapping={"field": field, "text": text[:40]},
                ),
                field,
            ) from None
    if not math.isfinite(number):
        raise InvalidInput(
            _("${field} must be a finite number (not NaN or infinity)", mapping={"field": field}),
            field,
        )
    return number


def _positive(value, field: str, maximum: float, unit: str) -> float:
    number = parse_number(value, field)
    if number <= 0:
        raise InvalidInput(_("${field} must be greater than 0", mapping={"field": field}), field)
    if number > maximum:
        raise InvalidInput(
            _(
                "${field} must be at most ${maximum} ${unit} for one machine; check the units",
                mapping={"field": field, "maximum": f"{maximum:,.0f}", "unit": unit},
            ),
            field,
        )
    return number


def efficiency_message(power_w: float, hashrate_ths: float, efficiency: float, field: str):
    return _(
        "${field}: ${power} W for ${hashrate} TH/s is ${efficiency} J/TH; a SHA-256 miner "
        "uses between ${low} and ${high} J/TH, so check the units",
        mapping={
            "field": field,
            "power": f"{power_w:g}",
            "hashrate": f"{hashrate_ths:g}",
            "efficiency": f"{efficiency:.3g}",
            "low": f"{MIN_J_PER_TH:g}",
            "high": f"{MAX_J_PER_TH:,.0f}",
        },
    )


def _check_efficiency(hashrate_ths: float, power_w: float, field: str) -> None:
    efficiency = power_w / hashrate_ths
    if not MIN_J_PER_TH <= efficiency <= MAX_J_PER_TH:
        raise InvalidInput(efficiency_message(power_w, hashrate_ths, efficiency, field), field)


def _text(value, field: str, limit: int, *, required=False, multiline=False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("${field} must be text", mapping={"field": field}), field)
    if multiline:  # browsers send a textarea's line breaks as CRLF
        text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    else:
        text = " ".join(value.split())
    if required and not text:
        raise InvalidInput(_("${field} is needed", mapping={"field": field}), field)
    if len(text) > limit:
        raise InvalidInput(
            _(
                "${field} must be at most ${most} characters",
                mapping={"field": field, "most": f"{limit:,}"},
            ),
            field,
        )
    if _CONTROL.search(text) or (not multiline and _LINE_BREAK.search(text)):
        raise InvalidInput(
            _("${field} must not contain control characters", mapping={"field": field}), field
        )
    return text


def _year(value, field: str = "release_year") -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = parse_number(value, field)
    last = dt.date.today().year + 2  # machines are announced before they ship
    if not number.is_integer() or not FIRST_YEAR <= number <= last:
        raise InvalidInput(
            _(
                "${field} must be a year between ${first} and ${last}",
                mapping={"field": field, "first": FIRST_YEAR, "last": last},
            ),
            field,
        )
    return int(number)


def _flag(value, field: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(
        _(
            "${field} must be true or false, not '${text}'",
            mapping={"field": field, "text": text[:20]},
        ),
        field,
    )


def _cooling(value) -> str:
    text = str(value if value is not None else "").strip().lower()
    if text not in COOLING_TYPES:
        types = ", ".join(COOLING_TYPES)
        if text:
            message = _(
                "cooling must be one of ${types} (got '${text}')",
                mapping={"types": types, "text": text[:20]},
            )
        else:
            message = _("cooling must be one of ${types} (got nothing)", mapping={"types": types})
        raise InvalidInput(message, "cooling")
    return text


def json_mode_field(index: int, key: str) -> str:
    return f"power_modes[{index}].{key}"


def human_mode_field(index: int, key: str) -> str:
    return f"mode {index + 1} {key}"


def clean_modes(
    raws: Sequence[Mapping] | None,
    field_of: Callable[[int, str], str] = json_mode_field,
) -> tuple[ModeSpec, ...]:
    """Check a list of modes (``name``, ``hashrate_ths``, ``power_w``, ``is_default``)."""
    if raws is None:
        return ()
    if not isinstance(raws, list | tuple):
        raise InvalidInput(_("power_modes must be a list"), "power_modes")
    if len(raws) > MAX_MODES:
        raise InvalidInput(
            _("at most ${most} power modes per model", mapping={"most": MAX_MODES}), "power_modes"
        )
    modes: list[ModeSpec] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raws):
        if not isinstance(raw, Mapping):
            raise InvalidInput(_("each power mode must be an object"), field_of(index, "name"))
        name_field = field_of(index, "name")
        name = _text(raw.get("name"), name_field, MAX_MODE_NAME, required=True)
        if _MODE_FORBIDDEN & set(name):
            raise InvalidInput(
                _("${field} must not contain ':', ';' or '*'", mapping={"field": name_field}),
                name_field,
            )
        if name.casefold() in seen:
            first = seen[name.casefold()]
            raise InvalidInput(
                _(
                    "${field}: the name '${name}' is used twice (also mode ${first})",
                    mapping={"field": name_field, "name": name, "first": first},
                ),
                name_field,
            )
        seen[name.casefold()] = index + 1
        hashrate = _positive(
            raw.get("hashrate_ths"), field_of(index, "hashrate_ths"), MAX_HASHRATE_THS, "TH/s"
        )
        power_field = field_of(index, "power_w")
        power = _positive(raw.get("power_w"), power_field, MAX_POWER_W, "W")
        _check_efficiency(hashrate, power, power_field)
        is_default = _flag(raw.get("is_default"), field_of(index, "is_default"), False)
        modes.append(ModeSpec(name, hashrate, power, is_default))
    defaults = [i for i, mode in enumerate(modes) if mode.is_default]
    if len(defaults) > 1:
        raise InvalidInput(
            _(
                "only one power mode can be the default (modes ${first} and ${second} both are)",
                mapping={"first": defaults[0] + 1, "second": defaults[1] + 1},
            ),
            field_of(defaults[1], "is_default"),
        )
    return tuple(modes)


def clean_model(
    raw: Mapping,
    base: ModelSpec | None = None,
    field_of: Callable[[int, str], str] = json_mode_field,
) -> ModelSpec:
    """Check a model given as JSON values or typed text; with ``base``, ``raw`` may hold only
    the fields that change (an update)."""

    def pick(key, default=None):
        if key in raw:
            return raw[key]
        return getattr(base, key) if base is not None else default

    vendor = _text(pick("vendor"), "vendor", MAX_VENDOR, required=True)
    model = _text(pick("model"), "model", MAX_MODEL, required=True)
    hashrate = _positive(pick("hashrate_ths"), "hashrate_ths", MAX_HASHRATE_THS, "TH/s")
    power = _positive(pick("power_w"), "power_w", MAX_POWER_W, "W")
    _check_efficiency(hashrate, power, "power_w")
    if "power_modes" in raw or base is None:
        modes = clean_modes(raw.get("power_modes"), field_of)
    else:
        modes = base.power_modes
    return ModelSpec(
        vendor=vendor,
        model=model,
        hashrate_ths=hashrate,
        power_w=power,
        cooling=_cooling(pick("cooling")),
        release_year=_year(pick("release_year")),
        is_active=_flag(pick("is_active"), "is_active", True),
        source=_text(pick("source", ""), "source", MAX_SOURCE),
        notes=_text(pick("notes", ""), "notes", MAX_NOTES, multiline=True),
        power_modes=modes,
    )


# --- CSV -----------------------------------------------------------------------------------


def english(message) -> str:
    """A message's English text with its values filled in (a plain string as it is)."""
    return message.interpolate() if isinstance(message, TranslationString) else str(message)


@dataclass(frozen=True)
class Problem:
    row: int | None  # as a spreadsheet counts: the header is row 1
    column: str | None
    message: str | TranslationString

    def text(self, translate=english) -> str:
        """Where and what, in the language of ``translate`` (``request.localizer.translate``)."""
        where = []
        if self.row is not None:
            where.append(translate(_("row ${row}", mapping={"row": self.row})))
        if self.column:
            where.append(translate(_("column ${column}", mapping={"column": self.column})))
        return placed(where, translate(self.message), translate)

    def __str__(self) -> str:
        return self.text()


def placed(where: list[str], message: str, translate=english) -> str:
    """``row 3, column B: message`` in the reader's language (``where`` already is)."""
    if not where:
        return message
    text = where[0]
    for part in where[1:]:
        text = translate(_("${first}, ${second}", mapping={"first": text, "second": part}))
    return translate(_("${where}: ${problem}", mapping={"where": text, "problem": message}))


def summary(problems: list, more: bool, translate=english) -> str:
    """The first problem, and how many more there are."""
    text = problems[0].text(translate)
    if len(problems) > 1 or more:
        extra = f"{len(problems) - 1}{'+' if more else ''}"
        if extra == "1":
            tail = _("(and 1 more problem)")
        else:
            tail = _("(and ${count} more problems)", mapping={"count": extra})
        text += " " + translate(tail)
    return text


class CatalogueFileError(InvalidInput):
    """A CSV file that cannot be imported; ``problems`` names each row and column. Pages
    show ``text(request.localizer.translate)`` or the problems one by one."""

    def __init__(self, problems: list[Problem], more: bool = False):
        self.problems = problems
        self.more = more
        first = problems[0]
        if len(problems) == 1 and not more and first.row is None and not first.column:
            message = first.message  # translatable as it is
        else:
            message = summary(problems, more)
        super().__init__(message, "file")

    def text(self, translate=english) -> str:
        return summary(self.problems, self.more, translate)


def format_number(value: float) -> str:
    """Exactly the float, without a trailing '.0' (3250 not 3250.0; 3729.5 stays)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_modes(modes: Iterable[ModeSpec | AsicPowerMode]) -> str:
    return ";".join(
        f"{m.name}{'*' if m.is_default else ''}:{format_number(m.hashrate_ths)}:"
        f"{format_number(m.power_w)}"
        for m in modes
    )


def parse_modes(text: str) -> list[dict]:
    """``"eco:180:2900;normal*:200:3500"`` -> raw modes for :func:`clean_modes`."""
    raws = []
    for entry in (part.strip() for part in (text or "").split(";")):
        if not entry:
            continue
        parts = [p.strip() for p in entry.split(":")]
        if len(parts) != 3:
            raise InvalidInput(
                _(
                    "mode ${number} '${entry}' must be name:hashrate_ths:power_w "
                    "(for example eco:180:2900; a * after the name marks the default)",
                    mapping={"number": len(raws) + 1, "entry": entry[:40]},
                ),
                "power_modes",
            )
        name, hashrate, power = parts
        is_default = name.endswith("*")
        raws.append(
            {
                "name": name[:-1].strip() if is_default else name,
                "hashrate_ths": hashrate,
                "power_w": power,
                "is_default": is_default,
            }
        )
    return raws


def _escape_cell(text: str) -> str:
    # A text that starts with the apostrophe itself gets one more, so reading it back is exact.
    return "'" + text if text.startswith((*_FORMULA_START, "'")) else text


def _unescape_cell(text: str) -> str:
    escaped = text.startswith("'") and text[1:].startswith((*_FORMULA_START, "'"))
    return text[1:] if escaped else text


def write_csv(models: Iterable[AsicModel | ModelSpec]) -> str:
    """The catalogue as CSV text (header first); :func:`read_csv` reads it back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for m in models:
        writer.writerow(
            [
                _escape_cell(m.vendor),
                _escape_cell(m.model),
                format_number(m.hashrate_ths),
                format_number(m.power_w),
                m.cooling,
                "" if m.release_year is None else str(m.release_year),
                "true" if m.is_active else "false",
                _escape_cell(m.source or ""),
                _escape_cell(m.notes or ""),
                _escape_cell(format_modes(m.power_modes)),
            ]
        )
    return out.getvalue()


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        if len(data.encode("utf-8")) > MAX_CSV_BYTES:
            raise CatalogueFileError([Problem(None, None, _too_big(len(data.encode("utf-8"))))])
        return data.removeprefix("\ufeff")
    if len(data) > MAX_CSV_BYTES:
        raise CatalogueFileError([Problem(None, None, _too_big(len(data)))])
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CatalogueFileError(
            [Problem(None, None, _("this is a spreadsheet file, not CSV: save it as 'CSV UTF-8'"))]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise CatalogueFileError(
            [Problem(row, None, _("the file is not UTF-8 text: save it as 'CSV UTF-8'"))]
        ) from None


def _too_big(size: int):
    return _(
        "the file is ${size} bytes; the limit is ${limit} bytes (at most ${rows} models): split it",
        mapping={"size": f"{size:,}", "limit": f"{MAX_CSV_BYTES:,}", "rows": f"{MAX_CSV_ROWS:,}"},
    )


def unknown_column(name: str, columns) -> TranslationString:
    if name:
        return _(
            "unknown column '${name}'; the columns are ${columns}",
            mapping={"name": name[:40], "columns": ", ".join(columns)},
        )
    return _(
        "a column has no name; the columns are ${columns}", mapping={"columns": ", ".join(columns)}
    )


def _header(cells: list[str]) -> list[str]:

    names = [cell.strip().lower() for cell in cells]
    if len(names) == 1 and ";" in names[0]:
        raise CatalogueFileError(
            [Problem(1, None, _("columns must be separated by commas, not semicolons"))]
        )
    problems = []
    for name in names:
        if name not in CSV_COLUMNS:
            problems.append(Problem(1, name[:40] or None, unknown_column(name, CSV_COLUMNS)))
    for name in sorted(set(names)):
        if name and names.count(name) > 1:
            problems.append(
                Problem(1, name, _("column '${name}' appears twice", mapping={"name": name}))
            )
    for name in REQUIRED_COLUMNS:
        if name not in names:
            problems.append(
                Problem(1, name, _("column '${name}' is missing", mapping={"name": name}))
            )
    if problems:
        raise CatalogueFileError(problems)
    return names


def read_csv(data: bytes | str) -> list[ModelSpec]:
    """Parse and check a whole file; raise :class:`CatalogueFileError` naming every bad row
    and column (up to ``MAX_PROBLEMS``), so nothing is stored from a file with a mistake."""
    text = _decode(data)
    if "\x00" in text:
        raise CatalogueFileError(
            [Problem(None, None, _("the file contains NUL bytes: is it CSV?"))]
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    specs: list[ModelSpec] = []
    problems: list[Problem] = []
    first_row: dict[tuple[str, str], int] = {}
    header = None
    row = 0
    try:
        for cells in reader:
            row += 1
            if header is None:
                if not any(cell.strip() for cell in cells):
                    raise CatalogueFileError(
                        [
                            Problem(
                                1,
                                None,
                                _(
                                    "the first row must name the columns: ${columns}",
                                    mapping={"columns": ",".join(CSV_COLUMNS)},
                                ),
                            )
                        ]
                    )
                header = _header(cells)
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, e.g. at the end
            if len(specs) + len(problems) >= MAX_CSV_ROWS:
                raise CatalogueFileError(
                    [
                        Problem(
                            row,
                            None,
                            _(
                                "more than ${most} models: split the file",
                                mapping={"most": f"{MAX_CSV_ROWS:,}"},
                            ),
                        )
                    ]
                )
            if len(cells) != len(header):
                problems.append(
                    Problem(
                        row,
                        None,
                        _(
                            "expected ${expected} values, found ${found}",
                            mapping={"expected": len(header), "found": len(cells)},
                        ),
                    )
                )
            else:
                spec = _read_row(dict(zip(header, cells, strict=True)), row, problems)
                if spec is not None:
                    if spec.key in first_row:
                        problems.append(
                            Problem(
                                row,
                                "model",
                                _(
                                    "${name} is already on row ${row}",
                                    mapping={"name": spec.name, "row": first_row[spec.key]},
                                ),
                            )
                        )
                    else:
                        first_row[spec.key] = row
                        specs.append(spec)
            if len(problems) >= MAX_PROBLEMS:
                raise CatalogueFileError(problems, more=True)
    except csv.Error as error:
        problems.append(
            Problem(row + 1, None, _("the CSV is malformed: ${error}", mapping={"error": error}))
        )
    if header is None:
        raise CatalogueFileError(
            [
                Problem(
                    None,
                    None,
                    _(
                        "the file is empty; the first row must name the columns: ${columns}",
                        mapping={"columns": ",".join(CSV_COLUMNS)},
                    ),
                )
            ]
        )
    if problems:
        raise CatalogueFileError(problems)
    if not specs:
        raise CatalogueFileError(
            [Problem(None, None, _("the file has no models, only the header"))]
        )
    return specs


def _read_row(values: dict[str, str], row: int, problems: list[Problem]) -> ModelSpec | None:
    values = {key: _unescape_cell(value) for key, value in values.items()}
    try:
        raw: dict = {key: value for key, value in values.items() if key != "power_modes"}
        raw["power_modes"] = parse_modes(values.get("power_modes", ""))
        return clean_model(raw, field_of=human_mode_field)
    except InvalidInput as error:
        column = error.field or None
        if column and column.startswith("mode "):
            column = "power_modes"
        problems.append(Problem(row, column, error.message))
        return None


def load_seed_specs(path: Path = SEED_FILE) -> list[ModelSpec]:
    """The catalogue that ships with HashInsight (the reference figures, each with a source)."""
    return read_csv(path.read_bytes())


# --- reading the catalogue -----------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def query_models(
    q: str = "",
    vendor: str = "",
    cooling: str = "",
    status: str = "active",
    sort: str = "name",
) -> sa.Select:
    """Models matching every word of ``q`` (in vendor or model), a vendor, a cooling type and
    a status, in a stable order (so pages never overlap), modes loaded with them."""
    query = sa.select(AsicModel).options(selectinload(AsicModel.power_modes))
    for word in (q or "").split()[:10]:
        pattern = _like(word)
        query = query.where(
            sa.or_(
                sa.func.lower(AsicModel.vendor).like(pattern, escape="\\"),
                sa.func.lower(AsicModel.model).like(pattern, escape="\\"),
            )
        )
    if vendor:
        query = query.where(sa.func.lower(AsicModel.vendor) == vendor.strip().casefold())
    if cooling:
        query = query.where(AsicModel.cooling == cooling)
    if status == "active":
        query = query.where(AsicModel.is_active.is_(True))
    elif status == "inactive":
        query = query.where(AsicModel.is_active.is_(False))
    order = {
        "efficiency": [AsicModel.power_w / AsicModel.hashrate_ths],
        "hashrate": [AsicModel.hashrate_ths.desc()],
        "year": [sa.func.coalesce(AsicModel.release_year, 0).desc()],
    }.get(sort, [])
    return query.order_by(*order, AsicModel.vendor, AsicModel.model, AsicModel.id)


def active_models(dbsession) -> list[AsicModel]:
    """What the calculator offers: the active models by vendor and name."""
    return list(dbsession.scalars(query_models(status="active")))


def vendors(dbsession) -> list[str]:
    return list(dbsession.scalars(sa.select(AsicModel.vendor).distinct().order_by("vendor")))


def find_by_name(dbsession, vendor: str, model: str) -> AsicModel | None:
    """The model with this vendor and name, ignoring case and spacing."""
    key = name_key(vendor, model)
    candidates = dbsession.scalars(
        sa.select(AsicModel).where(
            sa.func.lower(AsicModel.vendor) == key[0],
        )
    )
    return next((c for c in candidates if name_key(c.vendor, c.model) == key), None)


def existing_by_key(dbsession) -> dict[tuple[str, str], AsicModel]:
    models = dbsession.scalars(sa.select(AsicModel).options(selectinload(AsicModel.power_modes)))
    return {name_key(m.vendor, m.model): m for m in models}


# --- changing it (every change is audited by the caller's request) -------------------------


def _check_free(dbsession, spec: ModelSpec, own_id: int | None = None) -> None:
    other = find_by_name(dbsession, spec.vendor, spec.model)
    if other is not None and other.id != own_id:
        raise Conflict(
            _(
                "${name} is already in the catalogue (id ${id})",
                mapping={"name": other.name, "id": other.id},
            ),
            "model",
        )


def _set_modes(model: AsicModel, modes: Sequence[ModeSpec]) -> None:
    """Modes are matched by name (ignoring case), so an edited mode keeps its id."""
    existing = {mode.name.casefold(): mode for mode in model.power_modes}
    kept = []
    for spec in modes:
        mode = existing.pop(spec.name.casefold(), None) or AsicPowerMode()
        mode.name = spec.name
        mode.hashrate_ths = spec.hashrate_ths
        mode.power_w = spec.power_w
        mode.is_default = spec.is_default
        kept.append(mode)
    model.power_modes = kept


def _apply(model: AsicModel, spec: ModelSpec) -> dict:
    """Write ``spec`` into ``model``; return what changed as ``{field: [old, new]}``."""
    before = spec_of(model) if model.id is not None else None
    for name in (
        "vendor",
        "model",
        "hashrate_ths",
        "power_w",
        "cooling",
        "release_year",
        "is_active",
        "source",
        "notes",
    ):
        setattr(model, name, getattr(spec, name))
    _set_modes(model, spec.power_modes)
    if before is None:
        return {}
    changes = {}
    old, new = before.as_dict(), spec.as_dict()
    for name, value in new.items():
        if old[name] != value:
            changes[name] = [old[name], value]
    return changes


def _audit_create(request, model: AsicModel, spec: ModelSpec, via: str) -> None:
    request.audit(
        "calculator:asic_model:create",
        subject=("asic_model", model.id),
        payload={"via": via, **spec.as_dict()},
    )


def create_model(request, spec: ModelSpec, via: str = "form") -> AsicModel:
    dbsession = request.dbsession
    _check_free(dbsession, spec)
    model = AsicModel()
    _apply(model, spec)
    dbsession.add(model)
    dbsession.flush()
    _audit_create(request, model, spec, via)
    return model


def update_model(request, model: AsicModel, spec: ModelSpec, via: str = "form") -> dict:
    """Save ``spec`` over ``model``; returns the changes (nothing is written or audited when
    there are none). A change of ``is_active`` is audited as a deactivation/reactivation."""
    if spec.key != name_key(model.vendor, model.model):
        _check_free(request.dbsession, spec, own_id=model.id)
    was_active = model.is_active
    changes = _apply(model, replace(spec, is_active=was_active))
    if changes:
        request.dbsession.flush()
        request.audit(
            "calculator:asic_model:update",
            subject=("asic_model", model.id),
            payload={"via": via, "name": model.name, "changes": changes},
        )
    if set_active(request, model, spec.is_active, via=via):
        changes["is_active"] = [was_active, spec.is_active]
    return changes


def set_active(request, model: AsicModel, active: bool, via: str = "form") -> bool:
    """Deactivate (hide from the calculator) or reactivate; False when nothing changed."""
    if model.is_active == active:
        return False
    model.is_active = active
    request.dbsession.flush()
    request.audit(
        f"calculator:asic_model:{'reactivate' if active else 'deactivate'}",
        subject=("asic_model", model.id),
        payload={"via": via, "name": model.name},
    )
    return True


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # exist, and updating was not asked

    def as_dict(self) -> dict:
        return {key: len(value) for key, value in asdict(self).items()}


def import_specs(
    request, specs: Sequence[ModelSpec], update_existing: bool, via: str = "csv"
) -> ImportReport:
    """Add the new models and, if asked, update the existing ones (matched by vendor and model,
    ignoring case). Models not in ``specs`` are left alone. One transaction: the caller's."""
    report = ImportReport()
    dbsession = request.dbsession
    existing = existing_by_key(dbsession)  # the file's own duplicates were refused already
    added = []
    for spec in specs:
        model = existing.get(spec.key)
        if model is None:
            model = AsicModel()
            _apply(model, spec)
            dbsession.add(model)
            added.append((model, spec))
            report.created.append(spec.name)
        elif not update_existing:
            report.skipped.append(spec.name)
        elif update_model(request, model, spec, via=via):
            report.updated.append(spec.name)
        else:
            report.unchanged.append(spec.name)
    if added:
        dbsession.flush()  # one flush for all the new rows, then their ids are known
        for model, spec in added:
            _audit_create(request, model, spec, via)
    request.audit(
        "calculator:asic_model:import",
        subject=("asic_model", ""),
        payload={"via": via, "update_existing": update_existing, **report.as_dict()},
    )
    return report


def seed(request, reset: bool = False) -> ImportReport:
    """Add the shipped models that are missing; with ``reset``, also put the shipped figures
    back on those that exist (an admin's edits to them are overwritten). Models added by
    admins are never touched. Running it twice changes nothing the second time."""
    return import_specs(request, load_seed_specs(), update_existing=reset, via="seed")
