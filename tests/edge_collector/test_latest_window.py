"""The "latest" fast loop on a big site: a rolling window polls every miner in turn, none a
second time before all had their turn, and shards split the fleet without overlap or gaps."""

from __future__ import annotations

import asyncio

import pytest

from edge_collector.config import build_config
from edge_collector.poller import MinerInfo
from edge_collector.service import Collector, in_shard

TARGETS = ["10.20.0.0/24", "10.20.1.1-10.20.1.77"]  # 254 + 77 = 331 addresses


def make_collector(tmp_path, *, window=40, shard=(0, 1)):
    config = build_config(
        {
            "server": {"url": "http://127.0.0.1:9", "device_token": "t", "site_id": "s"},
            "collector": {
                "state_dir": str(tmp_path / f"state-{shard[0]}"),
                "shard_index": shard[0],
                "shard_total": shard[1],
            },
            "miners": {"targets": TARGETS},
            "poll": {"latest_window": window},
        }
    )
    collector = Collector(config)
    # What discovery would adopt, without the network: every address of this shard.
    for ip in collector.shard_targets():
        collector.infos[ip] = MinerInfo(ip, f"k-{ip}")
    ticks: list[list[str]] = []

    async def poll_many(infos, *, latest=False, honour_backoff=True):
        assert latest
        ticks.append([info.ip for info in infos])
        return []

    collector.poller.poll_many = poll_many
    return collector, ticks


def run_ticks(collector, count):
    async def go():
        for _ in range(count):
            await collector.poll_latest()

    asyncio.run(go())


@pytest.mark.parametrize("window", [1, 40, 100, 330, 331, 1000])
def test_every_miner_comes_round_once_per_rotation(tmp_path, window):
    collector, ticks = make_collector(tmp_path, window=window)
    fleet = list(collector.infos)
    rotations = 3
    ticks_needed = -(-len(fleet) // min(window, len(fleet)))
    run_ticks(collector, ticks_needed * rotations)
    collector.spool.close()
    assert all(len(tick) == min(window, len(fleet)) for tick in ticks)
    order = [ip for tick in ticks for ip in tick]
    # Read in order, the polls go round the fleet: each run of len(fleet) polls holds every
    # miner exactly once, so no miner is polled twice before all were polled once.
    for start in range(0, len(order) - len(fleet) + 1, len(fleet)):
        assert sorted(order[start : start + len(fleet)]) == sorted(fleet)
    assert set(order) == set(fleet)


def test_a_window_of_zero_polls_everyone_every_tick(tmp_path):
    collector, ticks = make_collector(tmp_path, window=0)
    run_ticks(collector, 2)
    collector.spool.close()
    assert [sorted(t) for t in ticks] == [sorted(collector.infos)] * 2


def test_shards_partition_the_fleet_and_each_rotates_its_own_part(tmp_path):
    total = 3
    parts = []
    for index in range(total):
        collector, ticks = make_collector(tmp_path, window=25, shard=(index, total))
        run_ticks(collector, -(-len(collector.infos) // 25))
        collector.spool.close()
        # The last tick of a rotation fills up with the start of the next one.
        polled = [ip for tick in ticks for ip in tick][: len(collector.infos)]
        assert sorted(polled) == sorted(collector.infos)  # one full rotation, no repeats
        parts.append(set(polled))
    fleet = set().union(*parts)
    assert len(fleet) == 331 and sum(len(p) for p in parts) == 331  # disjoint, no gaps
    # SHA-256 spreads the addresses: no shard is starved or overloaded.
    assert all(331 / total * 0.6 < len(p) < 331 / total * 1.4 for p in parts)
    for ip in fleet:
        assert [in_shard(ip, i, total) for i in range(total)].count(True) == 1
