"""Market analysis: reading pasted prices and running the indicators for the page and API."""

from __future__ import annotations

import re

import numpy as np
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput
from plugins.intelligence import indicators

_ = TranslationStringFactory("hashinsight")

DEFAULT_WINDOW = 14
TABLE_ROWS = 30
SERIES = ("sma", "ema", "rsi", "bollinger_middle", "bollinger_upper", "bollinger_lower")

# A pasted spreadsheet column often carries thousands separators ("64,250.5"); a single line
# is split on commas instead. A decimal comma ("64250,5") is refused, never guessed.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_SEPARATORS = re.compile(r"[,;\s]+")


def parse_closes(text: str) -> list[float]:
    """Closing prices from pasted text: one per line, or separated by commas on one line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > 1:
        tokens = [line.replace(" ", "") for line in lines]
        tokens = [t.replace(",", "") if _THOUSANDS.match(t) else t for t in tokens]
    else:
        tokens = [t for t in _SEPARATORS.split(lines[0]) if t] if lines else []
    if len(tokens) > indicators.MAX_CLOSES:
        raise InvalidInput(indicators.closes_count_message(len(tokens)), "closes")
    closes = []
    for number, token in enumerate(tokens, start=1):
        try:
            value = float(token)
        except ValueError:
            raise InvalidInput(
                _(
                    "closes: number ${number} ('${text}') is not a number "
                    "(one price per line, a dot for decimals)",
                    mapping={"number": number, "text": token[:20]},
                ),
                "closes",
            ) from None
        closes.append(value)
    return closes


def parse_window(text: str) -> int:
    try:
        return int((text or "").strip() or DEFAULT_WINDOW)
    except ValueError:
        raise InvalidInput(_("window must be a whole number"), "window") from None


def _json_list(array: np.ndarray) -> list[float | None]:
    return np.where(np.isnan(array), None, array.astype(object)).tolist()


def compute(closes, window: int) -> dict:
    """Every indicator for ``closes``; NaN (not defined yet) becomes None."""
    try:
        results = indicators.all_indicators(closes, window)
    except indicators.InputError as error:
        raise InvalidInput(error.message, error.field) from None
    return {
        "window": int(window),
        "count": len(closes),
        **{name: _json_list(results[name]) for name in SERIES},
    }


def table_rows(closes: list[float], computed: dict, limit: int = TABLE_ROWS) -> list[dict]:
    """The last ``limit`` rows, newest first, for the page's table."""
    start = max(0, len(closes) - limit)
    rows = [
        {"number": i + 1, "close": closes[i], **{name: computed[name][i] for name in SERIES}}
        for i in range(start, len(closes))
    ]
    return rows[::-1]
