"""Vendor parsers: real-shaped replies normalize correctly; hostile ones never crash them."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_collector.rpc import MinerError, decode_json_reply, decode_text_reply
from edge_collector.simulator.farm import simple_farm
from edge_collector.simulator.miner import SimMiner
from edge_collector.vendors import (
    REPORT_COMMANDS,
    Identity,
    identify,
    normalize,
    num,
    numbers_in,
    parse_mm_block,
)
from edge_collector.wire import MinerRecord

FARM = simple_farm({"S19": 1, "S9": 1, "M30S+": 1, "A1246": 1}, start="127.9.9.1")
MINERS = {
    spec.model.key: SimMiner(spec, FARM.settings, seed=n) for n, spec in enumerate(FARM.miners)
}


def replies_of(key: str) -> tuple[Identity, dict]:
    miner = MINERS[key]
    version = decode_json_reply(miner.rpc(b'{"command":"version"}'))
    details = decode_json_reply(miner.rpc(b'{"command":"devdetails"}'))
    ident = identify(version, details)
    replies = {
        name: decode_json_reply(miner.rpc(json.dumps({"command": name}).encode()))
        for name in REPORT_COMMANDS[ident.vendor]
    }
    return ident, replies


def test_converters():
    assert num("14046.04") == 14046.04
    assert num("65.5K") == 65500
    assert num(True) is None and num("nan") is None and num(float("inf")) is None
    assert numbers_in("58-57-61-60") == [58, 57, 61, 60]
    assert numbers_in("33.1 33.2") == [33.1, 33.2]
    assert parse_mm_block("Ver[1246-83] Temp[25] MGHS[30.1 29.8]")["MGHS"] == "30.1 29.8"


def test_identify_each_vendor_and_leave_others_to_pyasic():
    assert identify(replies_of("S19")[1].get("version") or {"x": 1}).vendor == "unknown"
    assert replies_of("S19")[0].vendor == "antminer"
    assert replies_of("S19")[0].model == "Antminer S19"
    assert replies_of("M30S+")[0].model == "M30S+"
    assert replies_of("A1246")[0].model == "Avalon 1246"
    bos = {"STATUS": [{"STATUS": "S", "Description": "BOSer boser-buildroot 0.1.0"}]}
    assert identify(bos).hint == "braiins"


def _normalize(key: str) -> MinerRecord:
    ident, replies = replies_of(key)
    return normalize(replies, identity=ident, miner_key="k", ip="127.9.9.9", timestamp="t")


def test_antminer_s19_record():
    record = _normalize("S19")
    assert record.online and record.vendor == "antminer" and record.model == "Antminer S19"
    assert 85_000 < record.hashrate_ghs < 105_000
    assert record.hashrate_expected_ghs == 95_000
    assert len(record.boards) == 3 and all(
        b.chips == 76 and b.bad_chips == 0 for b in record.boards
    )
    assert len(record.fans_rpm) == 4 and all(f > 0 for f in record.fans_rpm)
    assert record.pool_url.startswith("stratum+tcp://") and record.pools[0].active
    assert record.accepted > 0 and record.uptime_s > 0 and record.temp_max_c > 30
    assert record.power_w is None  # stock S19 does not report power


def test_antminer_s9_string_numbers_and_missing_comma():
    raw = MINERS["S9"].rpc(b'{"command":"stats"}')
    assert b'}{"STATS":0' in raw
    record = _normalize("S9")
    assert 12_000 < record.hashrate_ghs < 16_000 and len(record.fans_rpm) == 2


def test_whatsminer_record():
    record = _normalize("M30S+")
    assert record.vendor == "whatsminer" and record.model == "M30S+"
    assert 90_000 < record.hashrate_ghs < 110_000 and record.hashrate_expected_ghs == 100_000
    assert record.power_w > 3000 and record.power_limit_w > 0 and record.work_mode == "normal"
    assert record.mac and len(record.boards) == 3 and record.boards[0].chips == 111


def test_avalon_record():
    record = _normalize("A1246")
    assert record.vendor == "avalon" and 80_000 < record.hashrate_ghs < 100_000
    assert record.hashrate_expected_ghs == 90_000 and record.power_w > 3000
    assert len(record.fans_rpm) == 4 and len(record.boards) == 3 and record.work_mode == "normal"


def test_text_form_normalizes_like_json():
    miner = MINERS["S19"]
    replies = {
        name: decode_text_reply(miner.rpc(name.encode())) for name in REPORT_COMMANDS["antminer"]
    }
    ident = Identity(vendor="antminer", model="Antminer S19")
    record = normalize(replies, identity=ident, miner_key="k", ip="", timestamp="t")
    assert record.online and 85_000 < record.hashrate_ghs < 105_000 and len(record.boards) == 3


def test_missing_summary_means_offline_with_reason():
    error = MinerError.__new__(MinerError)
    MinerError.__init__(error, __import__("edge_collector.wire").wire.ErrorClass.TIMEOUT, "x")
    record = normalize({"summary": error}, identity=Identity(), miner_key="k", ip="", timestamp="t")
    assert not record.online and record.error_class == "timeout"


# --- hostile input ------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


def _mutate(value, draw_values):
    """Replace leaves of a real reply with hostile values, keeping the keys firmware uses."""
    if isinstance(value, dict):
        return {k: _mutate(v, draw_values) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutate(v, draw_values) for v in value]
    return next(draw_values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vendor_key=st.sampled_from(sorted(MINERS)),
    leaves=st.lists(json_values, min_size=1, max_size=50),
)
def test_real_shapes_with_hostile_values_never_crash(vendor_key, leaves):
    ident, replies = replies_of(vendor_key)
    cycle = iter(leaves * 2000)
    hostile = {name: _mutate(reply, cycle) for name, reply in replies.items()}
    record = normalize(hostile, identity=ident, miner_key="k", ip="", timestamp="t")
    assert isinstance(record, MinerRecord)
    json.dumps(record.to_wire(), allow_nan=True)


@settings(max_examples=200, deadline=None)
@given(
    vendor=st.sampled_from(["antminer", "whatsminer", "avalon", "unknown"]),
    replies=st.dictionaries(st.sampled_from(["summary", "stats", "pools", "devs"]), json_values),
)
def test_arbitrary_structures_never_crash(vendor, replies):
    record = normalize(
        replies, identity=Identity(vendor=vendor), miner_key="k", ip="", timestamp="t"
    )
    assert isinstance(record, MinerRecord)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), complete=st.booleans())
def test_decoders_raise_only_miner_errors(data, complete):
    for decode in (lambda d: decode_json_reply(d, complete=complete), decode_text_reply):
        try:
            result = decode(data)
        except MinerError:
            continue
        assert isinstance(result, dict)


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000), key=st.sampled_from(sorted(MINERS)))
def test_truncated_real_replies_are_errors_or_dicts(cut, key):
    raw = MINERS[key].rpc(b'{"command":"stats"}')
    try:
        reply = decode_json_reply(raw[:cut], complete=False)
    except MinerError:
        return
    ident = identify(None)
    normalize({"summary": reply}, identity=ident, miner_key="k", ip="", timestamp="t")
