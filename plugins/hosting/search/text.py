"""Pure helpers for the quick search: patterns, positions, MACs and ranks (no database).

Ranks come from :mod:`hashinsight_core.search` (lower is better): the whole query equal to an
identifier (serial, MAC, number, IP) beats equal to a name (worker, position, site), which
beats a prefix, which beats a match anywhere inside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from hashinsight_core.search import CONTAINS, EXACT, EXACT_ID, PREFIX, PREFIX_ID

ESCAPE = "\\"
# Trigram indexes (PostgreSQL pg_trgm, SQLite FTS5 trigram) need three characters; two-letter
# queries only match at the start of a field, which is what people mean by them anyway.
SUBSTRING_MIN = 3

_POSITION = re.compile(r"^(?P<rack>[^/\s]+)\s*/\s*(?P<row>\d{1,6})(?:\s*/\s*(?P<slot>\d{1,6}))?$")
_MAC_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX12 = re.compile(r"^[0-9a-fA-F]{12}$")


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards taken literally (used with ``escape=ESCAPE``)."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


@dataclass(frozen=True)
class Terms:
    """A query prepared for matching: lower-cased, with its LIKE patterns."""

    text: str  # lower-cased query
    prefix: str  # 'q%'
    contains: str  # '%q%'
    substring: bool  # long enough to match inside a field

    @property
    def pattern(self) -> str:
        """The pattern that decides whether a field matches at all."""
        return self.contains if self.substring else self.prefix


def terms(query: str) -> Terms:
    text = query.lower()
    escaped = escape_like(text)
    return Terms(text, escaped + "%", "%" + escaped + "%", len(text) >= SUBSTRING_MIN)


def mac_form(query: str) -> str | None:
    """``AABBCCDDEEFF`` or ``aa-bb-…`` as the stored ``aa:bb:cc:dd:ee:ff``; None if not a MAC."""
    compact = _MAC_SEPARATORS.sub("", query)
    if not _HEX12.match(compact):
        return None
    compact = compact.lower()
    return ":".join(compact[i : i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True)
class Position:
    rack: str
    row: int
    slot: int | None


def position(query: str) -> Position | None:
    """``R12/3/7`` (rack/row/slot) or ``R12/3`` (a whole row); None for anything else."""
    found = _POSITION.match(query.strip())
    if not found:
        return None
    slot = found.group("slot")
    return Position(found.group("rack"), int(found.group("row")), int(slot) if slot else None)


def matches(column, t: Terms):
    """SQL: the column matches the query, case-insensitively.

    ``ILIKE`` on the bare column (PostgreSQL), so the trigram index on the column serves it;
    SQLAlchemy writes it as ``lower(column) LIKE`` on SQLite.
    """
    return column.ilike(t.pattern, escape=ESCAPE)


def rank_case(t: Terms, identifiers: list, names: list):
    """SQL: the rank of a row from its identifier and name columns (see the module doc).

    Every comparison is on ``lower(column)``, so it means the same on both backends.
    """
    whens = []
    for column in identifiers:
        whens.append((sa.func.lower(column) == t.text, EXACT_ID))
    for column in names:
        whens.append((sa.func.lower(column) == t.text, EXACT))
    for column in identifiers:
        whens.append((sa.func.lower(column).like(t.prefix, escape=ESCAPE), PREFIX_ID))
    for column in names:
        whens.append((sa.func.lower(column).like(t.prefix, escape=ESCAPE), PREFIX))
    return sa.case(*whens, else_=CONTAINS)


def python_rank(value: str | None, t: Terms, identifier: bool) -> int | None:
    """The same rank as :func:`rank_case` for one value in Python; None if it does not match."""
    if not value:
        return None
    low = value.lower()
    if low == t.text:
        return EXACT_ID if identifier else EXACT
    if low.startswith(t.text):
        return PREFIX_ID if identifier else PREFIX
    if t.substring and t.text in low:
        return CONTAINS
    return None
