"""The simulator: each model polled over the network and normalized; faults; farm files."""

from __future__ import annotations

import asyncio
import time

import pytest

from edge_collector.poller import MinerInfo, Poller
from edge_collector.rpc import CgminerClient, MinerError
from edge_collector.simulator import FarmError, build_farm, load_farm
from edge_collector.simulator.models import MODELS
from edge_collector.wire import ErrorClass


def poll_all(sim, rounds=1, **client):
    async def main():
        poller = Poller(CgminerClient(timeout=client.pop("timeout", 2.0), **client))
        infos = [MinerInfo(ip, f"k-{ip}") for ip in sim.miners]
        records = []
        for _ in range(rounds):
            records = await poller.poll_many(infos, honour_backoff=False)
        return {r.ip: r for r in records}, {i.ip: i for i in infos}

    return asyncio.run(main())


def test_every_model_is_polled_and_normalized(make_farm):
    sim = make_farm({key: 1 for key in MODELS})
    records, infos = poll_all(sim, rounds=2)
    assert len(records) == len(MODELS)
    for ip, miner in sim.miners.items():
        record, spec = records[ip], miner.model
        assert record.online, (spec.key, record.error_message)
        assert record.vendor == spec.vendor
        assert spec.key.rstrip("+").lstrip("A") in record.model.replace(" ", "")
        nominal = spec.nominal_ths * 1000
        assert 0.85 * nominal < record.hashrate_ghs < 1.15 * nominal, spec.key
        assert record.hashrate_expected_ghs == pytest.approx(nominal)
        assert len(record.boards) == spec.boards
        assert len(record.fans_rpm) == spec.fans
        assert record.pool_url and record.uptime_s > 0
        # API v3's get.miner.status has no share counters (none are documented).
        assert (record.accepted is None) is spec.api_v3
        assert 20 < record.temp_max_c < 100
        # Stock X19 firmware refuses '+' joins; the poller learned that and fell back.
        assert infos[ip].joins is spec.joins


def test_antminer_rpc_is_read_only_like_stock_firmware(make_farm):
    sim = make_farm({"S19": 1})
    ip = next(iter(sim.miners))
    client = CgminerClient(timeout=2)

    async def main():
        for command in ("restart", "devdetails", "switchpool"):
            with pytest.raises(MinerError) as info:
                await client.command(ip, command)
            assert info.value.error_class is ErrorClass.ACCESS_DENIED
        invalid = await client.command(ip, "no_such_command", check=False)
        assert invalid["STATUS"][0]["Code"] == 14 and "Description" not in invalid["STATUS"][0]

    asyncio.run(main())


def test_text_requests_get_text_replies(make_farm):
    sim = make_farm({"A1246": 1})
    ip = next(iter(sim.miners))
    raw = asyncio.run(CgminerClient(timeout=2).raw(ip, b"pools"))
    assert raw.startswith(b"STATUS=S,") and b"|POOL=0,URL=" in raw


@pytest.mark.parametrize(
    ("fault", "classes"),
    [
        ("timeout", {"timeout"}),
        ("reset", {"reset"}),
        ("malformed", {"malformed"}),
        ("truncated", {"truncated", "malformed"}),
        ("oversized", {"oversized"}),
    ],
)
def test_injected_faults_are_survived_and_classified(make_farm, fault, classes):
    sim = make_farm({}, groups=[{"model": "M30S+", "count": 3, "faults": {fault: 1.0}}])
    records, _ = poll_all(sim, timeout=0.5, max_reply=256 * 1024)
    assert len(records) == 3
    assert {r.error_class for r in records.values()} <= classes
    assert not any(r.online for r in records.values())


def test_slow_answers_arrive_when_the_timeout_allows(make_farm):
    sim = make_farm(
        {}, groups=[{"model": "A1246", "count": 2, "faults": {"slow": 1.0, "slow_s": 0.3}}]
    )
    slow, _ = poll_all(sim, timeout=0.1)
    assert all(r.error_class == "timeout" for r in slow.values())
    patient, _ = poll_all(sim, timeout=2.0)
    assert all(r.online for r in patient.values())


def test_absent_miners_refuse_and_reboot_takes_time(make_farm):
    sim = make_farm({}, groups=[{"model": "S19", "count": 4, "absent": 0.25}], reboot_s=0.5)
    records, _ = poll_all(sim)
    assert sorted(r.online for r in records.values()) == [False, True, True, True]
    assert {r.error_class for r in records.values() if not r.online} == {"refused"}
    ip = next(ip for ip, r in records.items() if r.online)
    before = records[ip].uptime_s
    sim.run(sim.miners[ip].reboot)
    down, _ = poll_all(sim)
    assert not down[ip].online
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.2)
        back, _ = poll_all(sim)
        if back[ip].online:
            break
    assert back[ip].online and back[ip].uptime_s < before


def test_sleep_and_work_modes_change_hashrate_and_power(make_farm):
    sim = make_farm({"M50": 1})
    miner = next(iter(sim.miners.values()))
    ip = miner.ip
    sim.run(miner.schedule_mode, "sleep", 0)
    asleep, _ = poll_all(sim)
    assert asleep[ip].hashrate_ghs == 0 and asleep[ip].power_w < 100
    sim.run(miner.schedule_mode, "low", 0)
    low, _ = poll_all(sim)
    assert 0.6 * 114_000 < low[ip].hashrate_ghs < 0.9 * 114_000 and low[ip].power_w < 3000


def test_board_fault_shows_in_record(make_farm):
    sim = make_farm({"S19jPro": 1})
    miner = next(iter(sim.miners.values()))
    sim.run(miner.fail_board, 1)
    records, _ = poll_all(sim)
    board = records[miner.ip].boards[1]
    assert board.bad_chips == board.chips and board.status == "degraded"
    assert records[miner.ip].hashrate_ghs < 0.75 * 104_000


def test_farm_file_errors_name_the_key(tmp_path):
    cases = [
        ({"miners": [{"model": "S99"}]}, "miners[0].model"),
        ({"miners": [{"model": "S19", "count": 0}]}, "miners[0].count"),
        ({"miners": [{"model": "S19", "start": "10.0.0.1"}]}, "loopback"),
        ({"farm": {"http_port": "x"}, "miners": [{"model": "S19"}]}, "farm.http_port"),
        ({"miners": [{"model": "S19", "faults": {"boom": 1}}]}, "miners[0].faults.boom"),
        ({"miners": []}, "miners"),
        (
            {
                "miners": [
                    {"model": "S19", "start": "127.9.0.1"},
                    {"model": "S9", "start": "127.9.0.1"},
                ]
            },
            "already used",
        ),
    ]
    for data, needle in cases:
        with pytest.raises(FarmError, match=needle.replace("[", r"\[").replace("]", r"\]")):
            build_farm(data)
    bad = tmp_path / "farm.toml"
    bad.write_text("[farm\n")
    with pytest.raises(FarmError, match="not valid TOML"):
        load_farm(bad)


def test_farm_file_lays_out_addresses_and_owners(tmp_path):
    path = tmp_path / "farm.toml"
    path.write_text(
        '[farm]\nseed = 3\n\n[[miners]]\nmodel = "S19"\ncount = 300\nstart = "127.31.0.250"\n'
        'site = "a"\nowner = "c1"\n\n[[miners]]\nmodel = "A1246"\ncount = 2\nowner = "c2"\n'
    )
    farm = load_farm(path)
    ips = [m.ip for m in farm.miners]
    assert ips[:6] == [
        "127.31.0.250",
        "127.31.0.251",
        "127.31.0.252",
        "127.31.0.253",
        "127.31.0.254",
        "127.31.1.1",
    ]
    assert len(set(ips)) == 302 and farm.inventory()[-1]["owner"] == "c2"
