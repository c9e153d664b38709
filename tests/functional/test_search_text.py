"""The quick search's pure helpers: query cleaning, LIKE escaping, positions, MACs, ticket
numbers and ranks (no database, no app)."""

from __future__ import annotations

import pytest

from hashinsight_core.search import CONTAINS, EXACT, EXACT_ID, PREFIX, PREFIX_ID, clean_query
from plugins.hosting.search import text
from plugins.hosting.search.tickets import ticket_id


def test_clean_query():
    assert clean_query("  HTM1 \t  A2\n") == "HTM1 A2"
    assert clean_query("ＨＴＭ１") == "HTM1"  # full-width, as a Chinese keyboard types
    assert clean_query("a\x00b\x1fc") == "abc"
    assert clean_query(None) == ""


def test_escape_like():
    assert text.escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
    t = text.terms("Ab%")
    assert (t.text, t.prefix, t.contains, t.substring) == ("ab%", "ab\\%%", "%ab\\%%", True)
    assert text.terms("ab").pattern == "ab%"  # two letters: starts only


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("R12/3/7", text.Position("R12", 3, 7)),
        ("r12 / 3 / 7", text.Position("r12", 3, 7)),
        ("A-01/2", text.Position("A-01", 2, None)),
        ("R12", None),
        ("R12/x/7", None),
        ("/3/7", None),
        ("R12/3/7/1", None),
    ],
)
def test_position(query, expected):
    assert text.position(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff"),
        ("aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:ff"),
        ("aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
        ("aabbccddeef", None),
        ("HTM1A2B3C4D5", None),
    ],
)
def test_mac_form(query, expected):
    assert text.mac_form(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("T-000042", (42, EXACT_ID)),
        ("t42", (42, EXACT_ID)),
        ("#42", (42, EXACT_ID)),
        ("42", (42, PREFIX_ID)),
        ("T-0", None),
        ("T-42a", None),
        ("ticket", None),
    ],
)
def test_ticket_number(query, expected):
    assert ticket_id(query) == expected


def test_python_rank_orders_like_sql():
    t = text.terms("htm1")
    assert text.python_rank("HTM1", t, identifier=True) == EXACT_ID
    assert text.python_rank("htm1", t, identifier=False) == EXACT
    assert text.python_rank("HTM1A", t, identifier=True) == PREFIX_ID
    assert text.python_rank("HTM1A", t, identifier=False) == PREFIX
    assert text.python_rank("XHTM1", t, identifier=True) == CONTAINS
    assert text.python_rank("XHTM", t, identifier=True) is None
    assert text.python_rank(None, t, identifier=True) is None
    assert text.python_rank("xab", text.terms("ab"), identifier=True) is None  # too short inside
