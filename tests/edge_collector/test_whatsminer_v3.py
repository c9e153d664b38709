"""Whatsminer API v3 (TCP 4433, length-prefixed JSON): parsing, polling, token-signed writes
against the simulator (and pyasic's independent client agreeing with it), refusal of bad
tokens, and hostile replies."""

from __future__ import annotations

import asyncio
import struct
import time

import pytest

from edge_collector.btminer_v3 import BtminerV3Client, frame, split_frames, token
from edge_collector.poller import MinerInfo, Poller
from edge_collector.rpc import CgminerClient, MinerError
from edge_collector.vendors import PROTOCOL_BTMINER_V3, Identity, normalize
from edge_collector.wire import ErrorClass

V3 = Identity(vendor="whatsminer", model="M50", protocol=PROTOCOL_BTMINER_V3)

# The shape of real get.miner.status replies' msg objects (field names from the v3 API
# documentation as pyasic and other clients read them); hashrates are TH/s.
SUMMARY = {
    "summary": {
        "elapsed": 86_400,
        "hash-realtime": 118.512,
        "hash-average": 117.9,
        "factory-hash": 120.0,
        "power-realtime": 3380,
        "power-limit": 3600,
        "fan-speed-in": 4920,
        "fan-speed-out": 5010,
        "environment-temperature": 27.5,
    }
}
EDEVS = {
    "edevs": [
        {"hash-average": 39.6, "effective-chips": 105, "chip-temp-min": 58.0, "chip-temp-max": 71},
        {"hash-average": 0, "effective-chips": 0, "chip-temp-min": 30, "chip-temp-max": 31},
    ]
}
POOLS = {
    "pools": [
        {"url": "stratum+tcp://a.example:3333", "account": "acct.w1", "status": "alive",
         "stratum-active": False},
        {"url": "stratum+tcp://b.example:3333", "account": "acct.w2", "status": "alive",
         "stratum-active": True},
    ]
}  # fmt: skip


def test_parser_normalizes_a_v3_status_reply():
    replies = {"summary": SUMMARY, "edevs": EDEVS, "pools": POOLS}
    record = normalize(replies, identity=V3, miner_key="k", ip="10.0.0.1", timestamp="t")
    assert record.online and record.error_class == ""
    assert record.hashrate_ghs == pytest.approx(118_512)
    assert record.hashrate_avg_ghs == pytest.approx(117_900)
    assert record.hashrate_expected_ghs == pytest.approx(120_000)
    assert (record.power_w, record.power_limit_w, record.uptime_s) == (3380, 3600, 86_400)
    assert record.fans_rpm == [4920, 5010] and record.temp_env_c == 27.5
    assert [b.hashrate_ghs for b in record.boards] == [pytest.approx(39_600), 0]
    assert [b.status for b in record.boards] == ["ok", "idle"]
    assert record.boards[0].chips == 105 and record.temp_max_c == 71
    assert (record.pool_url, record.pool_user) == ("stratum+tcp://b.example:3333", "acct.w2")
    assert record.is_mining is True


@pytest.mark.parametrize(
    "replies",
    [
        {"summary": {"summary": "nope"}},
        {"summary": {"summary": {"hash-realtime": "x", "elapsed": [1]}}, "edevs": {"edevs": 5}},
        {"summary": {}, "pools": {"pools": [None, 3, {"url": 7}]}},
    ],
)
def test_parser_tolerates_strange_v3_replies(replies):
    record = normalize(replies, identity=V3, miner_key="k", ip="", timestamp="t")
    assert record.online and record.hashrate_ghs is None


def test_frames_are_length_prefixed_little_endian():
    data = frame({"cmd": "get.device.info"})
    assert struct.unpack("<I", data[:4])[0] == len(data) - 4
    payloads, rest = split_frames(data + data[:6])
    assert payloads == [data[4:]] and rest == data[:6]
    with pytest.raises(ValueError):
        split_frames(struct.pack("<I", 10**9))


def test_a_v3_miner_is_identified_and_polled_on_4433(make_farm):
    sim = make_farm({"M60S": 1})
    ip = next(iter(sim.miners))
    miner = sim.miners[ip]

    async def go():
        # Nothing listens on 4028: a v3 miner is found only through 4433.
        with pytest.raises(MinerError) as refused:
            await CgminerClient(timeout=1).command(ip, "version")
        assert refused.value.error_class is ErrorClass.REFUSED
        info = MinerInfo(ip, "k")
        poller = Poller(CgminerClient(timeout=1))
        return await poller.poll(info), await poller.poll(info, latest=True), info

    record, latest, info = asyncio.run(go())
    assert info.identity.protocol == PROTOCOL_BTMINER_V3
    assert (record.vendor, record.model, record.firmware) == (
        "whatsminer",
        "M60S",
        "20250915.16.Rel2",
    )
    assert record.serial == miner.serial and record.mac == miner.mac
    assert record.online and 0.85 * 186_000 < record.hashrate_ghs < 1.15 * 186_000
    assert len(record.boards) == 3 and len(record.pools) == 3 and record.power_limit_w
    assert latest.online and latest.pools == []  # the fast loop skips pools


def test_writes_need_a_valid_token(make_farm):
    sim = make_farm({"M60S": 1})
    ip = next(iter(sim.miners))
    miner = sim.miners[ip]
    client = BtminerV3Client(timeout=2)

    async def go():
        with pytest.raises(MinerError) as wrong:
            await client.write(ip, "set.miner.power_limit", 2500, "not-the-password")
        assert wrong.value.error_class is ErrorClass.AUTH_FAILED
        limit_before = miner.power_limit
        # A token made for another command is refused too (it signs the command name).
        salt = await client.salt(ip)
        ts = int(time.time())
        forged = {"cmd": "set.system.reboot", "param": None, "ts": ts, "account": "super",
                  "token": token("set.miner.power_limit", "super", salt, ts)}  # fmt: skip
        reply = await client.request(ip, forged)
        assert reply["code"] != 0 and miner.is_up()
        assert miner.power_limit == limit_before
        ok = await client.write(ip, "set.miner.power_limit", 2500, "super")
        assert ok["code"] == 0 and miner.power_limit == 2500
        with pytest.raises(MinerError) as unknown:
            await client.write(ip, "set.no.such", 1, "super")
        assert unknown.value.error_class is ErrorClass.UNSUPPORTED

    asyncio.run(go())


def test_pyasic_drives_the_simulated_v3_miner(make_farm):
    """pyasic computes the v3 token itself: the simulator accepting it checks our algorithm
    against an independent implementation."""
    pyasic = pytest.importorskip("pyasic")
    from pyasic.rpc.btminer import BTMinerV3RPCAPI

    sim = make_farm({"M60S": 1})
    ip = next(iter(sim.miners))

    async def go():
        miner = await pyasic.get_miner(ip)
        rpc = BTMinerV3RPCAPI(ip)
        stop = await rpc.set_miner_service("stop")
        return miner, stop

    miner, stop = asyncio.run(go())
    assert "M60S" in type(miner).__name__
    assert stop["code"] == 0 and sim.miners[ip].mode == "sleep"


@pytest.mark.parametrize("fault", ["malformed", "truncated", "reset", "oversized"])
def test_hostile_v3_replies_become_classified_errors(make_farm, fault):
    sim = make_farm({}, groups=[{"model": "M60S", "count": 1, "faults": {fault: 1.0}}])
    ip = next(iter(sim.miners))

    async def go():
        poller = Poller(CgminerClient(timeout=1))
        info = MinerInfo(
            ip, "k", identity=Identity(vendor="whatsminer", protocol=PROTOCOL_BTMINER_V3)
        )
        return await poller.poll(info)

    record = asyncio.run(go())
    assert not record.online
    assert record.error_class in {"malformed", "truncated", "reset", "oversized"}
