"""uvloop and orjson are optional: with or without them the collector reads the same records,
and the simulator serves the same replies."""

from __future__ import annotations

import asyncio

import pytest

from edge_collector import speedups
from edge_collector.poller import MinerInfo, Poller
from edge_collector.rpc import CgminerClient, MinerError, decode_json_reply
from edge_collector.vendors import first, integer, num

REPLIES = [
    b'{"STATUS":[{"STATUS":"S","Code":11}],"SUMMARY":[{"GHS 5s":95012.5,"Elapsed":10}],"id":1}',
    # Old bmminer's missing comma, btminer's trailing comma, Avalon's bare nan.
    b'{"STATS":[{"BMMiner":"1.0.0"}{"STATS":0,"GHS 5s":"14046.04"}],"id":1}',
    b'{"STATUS":"S","Msg":{"a":1,},"Code":131}',
    b'{"STATS":[{"MM ID0":"x","Temp":nan}],"id":1}',
    '{"name":"caf\u00e9"}'.encode(),
]


@pytest.mark.parametrize("data", REPLIES)
def test_replies_parse_the_same_with_and_without_orjson(monkeypatch, data):
    fast = decode_json_reply(data)
    monkeypatch.setattr(speedups, "orjson", None)
    assert decode_json_reply(data) == fast


def test_huge_integers_normalize_the_same_with_and_without_orjson(monkeypatch):
    # orjson reads integers beyond 64 bits as floats, json as ints: the record is the same.
    data = b'{"SUMMARY":[{"Accepted":123456789012345678901234567890,"Elapsed":5}]}'
    fast = first(decode_json_reply(data), "SUMMARY")
    monkeypatch.setattr(speedups, "orjson", None)
    slow = first(decode_json_reply(data), "SUMMARY")
    assert integer(fast["Accepted"]) == integer(slow["Accepted"]) is None
    assert num(fast["Accepted"]) == pytest.approx(num(slow["Accepted"]))


@pytest.mark.parametrize("data", [b"", b"garbage", b'{"STATUS":[{"STATUS":"S"', b"[1,2]"])
def test_bad_replies_fail_the_same_with_and_without_orjson(monkeypatch, data):
    with pytest.raises(MinerError) as fast:
        decode_json_reply(data)
    monkeypatch.setattr(speedups, "orjson", None)
    with pytest.raises(MinerError) as slow:
        decode_json_reply(data)
    assert fast.value.error_class is slow.value.error_class


def test_polls_read_the_same_on_either_event_loop(make_farm, monkeypatch):
    sim = make_farm({"S19": 1, "M30S+": 1, "A1246": 1, "M60S": 1})

    async def poll():
        loop = type(asyncio.get_running_loop()).__module__
        poller = Poller(CgminerClient(timeout=2))
        infos = [MinerInfo(ip, ip) for ip in sim.miners]
        records = await poller.poll_many(infos, honour_backoff=False)
        return loop, {
            r.ip: (r.online, r.vendor, r.model, len(r.boards), r.pool_url) for r in records
        }

    monkeypatch.setenv("HASHINSIGHT_EDGE_LOOP", "asyncio")
    assert speedups.loop_name() == "asyncio"
    loop, plain = speedups.run(poll())
    assert loop.startswith("asyncio")
    monkeypatch.delenv("HASHINSIGHT_EDGE_LOOP")
    loop, fast = speedups.run(poll())
    if speedups.uvloop is not None:
        assert loop.startswith("uvloop")
    assert fast == plain and all(online for online, *_ in plain.values())
