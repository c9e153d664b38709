"""Rule checking (defaults, hysteresis direction, every problem named) and the webhook
signature a receiver verifies."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from webob.multidict import MultiDict

from plugins.hosting.alerts.notify import sign, verify
from plugins.hosting.alerts.rules import RuleInvalid, clean_rule, form_to_data


def test_a_new_rule_gets_its_kinds_defaults():
    rule = clean_rule({"name": "Boards", "kind": "board_missing"})
    assert rule["threshold"] == 1 and rule["for_minutes"] == 5 and rule["clear_minutes"] == 5
    assert "threshold" not in clean_rule({"name": "Fans", "kind": "fan_failure"})


def test_every_problem_is_named_at_once():
    with pytest.raises(RuleInvalid) as caught:
        clean_rule({"name": "", "kind": "offline", "for_minutes": -5, "severity": "loud"})
    fields = [field for field, _ in caught.value.problems]
    assert fields == ["name", "severity", "for_minutes"]
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("kind", "threshold", "clear", "ok"),
    [
        ("high_temp", 85, 80, True),  # clears lower
        ("high_temp", 85, 90, False),
        ("reject_rate", 5, 2, True),
        ("low_hashrate", 80, 90, True),  # clears higher
        ("low_hashrate", 80, 70, False),
        ("fan_failure", 1000, 2000, True),
        ("board_missing", 1, 1, False),  # no clear threshold for a count
    ],
)
def test_the_clear_threshold_must_lie_on_the_good_side(kind, threshold, clear, ok):
    data = {"name": "r", "kind": kind, "threshold": threshold, "clear_threshold": clear}
    if ok:
        assert clean_rule(data)["clear_threshold"] == clear
    else:
        with pytest.raises(RuleInvalid, match="clear_threshold"):
            clean_rule(data)


def test_a_change_is_checked_against_the_rule_as_it_will_be():
    current = {"kind": "high_temp", "threshold": 85.0, "clear_threshold": 80.0}
    assert clean_rule({"threshold": 90}, current=current) == {"threshold": 90.0}
    with pytest.raises(RuleInvalid, match="clear_threshold"):
        clean_rule({"threshold": 75}, current=current)


def test_a_form_becomes_the_json_shape():
    form = MultiDict(
        [
            ("name", "Hot"),
            ("kind", "high_temp"),
            ("threshold", "85.5"),
            ("clear_threshold", ""),
            ("for_minutes", "3"),
            ("site_id", "7"),
            ("email_roles", "operator"),
            ("email_roles", "admin"),
            ("enabled", "on"),
        ]
    )
    data = form_to_data(form)
    assert data["threshold"] == 85.5 and data["clear_threshold"] is None
    assert data["for_minutes"] == 3 and data["site_id"] == 7 and data["enabled"] is True
    assert data["email_roles"] == ["operator", "admin"]
    rule = clean_rule(data, known_roles={"operator", "admin"})
    assert rule["email_roles"] == "operator, admin"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    secret, timestamp, body = "whsec_0123456789abcdef", "1733227200", b'{"event":"alert.opened"}'
    expected = hmac.new(secret.encode(), b"1733227200." + body, hashlib.sha256).hexdigest()
    assert sign(secret, timestamp, body) == "sha256=" + expected
    signature = sign(secret, timestamp, body)
    assert verify(secret, timestamp, body, signature, now=1733227200 + 60)
    assert not verify(secret, timestamp, body, signature, now=1733227200 + 3600)  # replayed late
    assert not verify(secret, "1733227201", body, signature, now=1733227200)
    assert not verify(secret, "soon", body, signature)
