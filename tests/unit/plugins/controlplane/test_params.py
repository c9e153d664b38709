"""Each command type's params are checked against its JSON schema, with a clear field name."""

import pytest

from hashinsight_core.exceptions import InvalidInput
from plugins.controlplane.services import command_ttl, validate_params


@pytest.mark.parametrize(
    ("command_type", "params"),
    [
        ("reboot", {}),
        ("reboot", None),
        ("sleep", {}),
        ("wake", {}),
        ("set_work_mode", {"mode": "low"}),
        ("set_work_mode", {"mode": "normal"}),
        ("set_work_mode", {"mode": "high"}),
        ("set_pool", {"url": "stratum+tcp://btc.example.com:3333", "user": "farm1.rig07"}),
        ("set_pool", {"url": "stratum+ssl://10.0.0.5:443", "user": "acct"}),
        ("set_pool", {"url": "stratum+tcp://p.example.com:3333", "user": "a", "password": "x"}),
        ("switch_pool", {"index": 0}),
        ("switch_pool", {"index": 63}),
    ],
)
def test_good_params_pass_unchanged(command_type, params):
    assert validate_params(command_type, params) == (params or {})


@pytest.mark.parametrize(
    ("command_type", "params", "field", "words"),
    [
        ("set_work_mode", {}, "params.mode", "required"),
        ("set_work_mode", {"mode": "fast"}, "params.mode", "'fast' is not one of"),
        ("set_work_mode", {"mode": 1}, "params.mode", "not of type"),
        ("set_work_mode", {"mode": "low", "watts": 3000}, "params.watts", "not a setting"),
        ("reboot", {"delay": 5}, "params.delay", "allowed: nothing"),
        ("switch_pool", {}, "params.index", "required"),
        ("switch_pool", {"index": 64}, "params.index", "maximum"),
        ("switch_pool", {"index": -1}, "params.index", "minimum"),
        ("switch_pool", {"index": "1"}, "params.index", "not of type"),
        ("switch_pool", {"index": True}, "params.index", "not of type"),
        ("switch_pool", {"index": 1.0}, "params.index", "whole number"),
        ("set_pool", {"user": "a"}, "params.url", "required"),
        ("set_pool", {"url": "stratum+tcp://p.example.com:3333"}, "params.user", "required"),
        ("set_pool", {"url": "http://p.example.com", "user": "a"}, "params.url", "stratum+tcp://"),
        ("set_pool", {"url": "stratum+tcp://", "user": "a"}, "params.url", "stratum+tcp://"),
        (
            "set_pool",
            {"url": "stratum+tcp://p.example.com:99999", "user": "a"},
            "params.url",
            "65535",
        ),
        (
            "set_pool",
            {"url": "stratum+tcp://p.example.com:3333", "user": "my worker"},
            "params.user",
            "spaces",
        ),
        (
            "set_pool",
            {"url": "stratum+tcp://p.example.com:3333", "user": "w\n"},
            "params.user",
            "one line",
        ),
        (
            "set_pool",
            {"url": "stratum+tcp://p.example.com:3333", "user": ""},
            "params.user",
            "non-empty",
        ),
    ],
)
def test_bad_params_name_the_field(command_type, params, field, words):
    with pytest.raises(InvalidInput) as caught:
        validate_params(command_type, params)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert caught.value.status == 422


def test_params_must_be_an_object_and_the_type_must_be_known():
    with pytest.raises(InvalidInput) as caught:
        validate_params("set_work_mode", ["low"])
    assert caught.value.field == "params"
    with pytest.raises(InvalidInput) as caught:
        validate_params("self_destruct", {})
    assert caught.value.field == "command_type"
    assert "set_work_mode" in str(caught.value)


def test_command_ttl_setting():
    assert command_ttl({}).total_seconds() == 3600
    assert command_ttl({"controlplane.command_ttl_minutes": "15"}).total_seconds() == 900
    for bad in ("0", "-5", "soon", "1.5", str(7 * 24 * 60 + 1)):
        with pytest.raises(ValueError, match="controlplane.command_ttl_minutes"):
            command_ttl({"controlplane.command_ttl_minutes": bad})
