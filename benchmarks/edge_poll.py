"""Benchmark: one collector process polls a simulated farm (default 30,000 miners).

    .venv/bin/python benchmarks/edge_poll.py [--miners 30000] [--pyasic-subset 300]

The farm runs in several simulator processes (the open-file limit is 20,000 per process) on
loopback addresses from 127.60.0.1; this process is the collector. Every miner gets its full
raw poll (summary + stats + pools; devs instead of stats on Whatsminer). The first cycle
identifies the miners and learns which accept '+' joins; the next cycles are measured.

Then a subset is polled both by our poller and by pyasic's ``get_data`` (on the same miners,
with the Antminer web API on port 80 when run as root), and the CPU time per miner compared.

Prints the figures, then one JSON line: miners, cycle_s, cpu_s_per_1000, pyasic_ratio,
event_loop, json, ... The simulators share the two cores with the collector, so cycle_s is
pessimistic. Collector and simulators use uvloop and orjson when installed
(``HASHINSIGHT_EDGE_LOOP=asyncio`` / ``HASHINSIGHT_EDGE_JSON=json`` force the standard ones).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge_collector import speedups  # noqa: E402
from edge_collector.poller import MinerInfo, Poller  # noqa: E402
from edge_collector.rpc import CgminerClient  # noqa: E402
from edge_collector.simulator.farm import build_farm  # noqa: E402

MIX = [("S19", 0.40), ("S19jPro", 0.15), ("S19XP", 0.05), ("M30S+", 0.15), ("M50", 0.05),
       ("A1246", 0.10), ("S9", 0.10)]  # fmt: skip


def farm_data(miners: int, http_port: int) -> dict:
    groups, left = [], miners
    for n, (model, share) in enumerate(MIX):
        count = left if n == len(MIX) - 1 else round(miners * share)
        left -= count
        group = {"model": model, "count": count, "owner": f"customer-{n % 3}"}
        if n == 0:
            group["start"] = "127.60.0.1"
        groups.append(group)
    return {
        "farm": {"seed": 7, "http_port": http_port, "board_fault_per_day": 0.05, "ramp_s": 0},
        "miners": groups,
    }


def start_simulators(path: Path, processes: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "edge_collector.cli", "simulate", str(path)]
    command += ["--processes", str(processes)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own CLI
    line = proc.stdout.readline() if proc.stdout else ""
    if "simulating" not in line:
        proc.terminate()
        raise SystemExit(f"simulator failed to start: {line!r}")
    print(line.strip(), flush=True)
    return proc


async def cycle(poller: Poller, infos: list[MinerInfo]) -> tuple[float, float, int]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    records = await poller.poll_many(infos, honour_backoff=False)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return wall, cpu, sum(r.online for r in records)


async def pyasic_compare(ips: list[str], poller: Poller) -> dict:
    import pyasic

    miners = [m for m in await asyncio.gather(*(pyasic.get_miner(ip) for ip in ips)) if m]
    gate = asyncio.Semaphore(100)

    async def one(miner):
        async with gate:
            return await miner.get_data()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    data = await asyncio.gather(*(one(m) for m in miners), return_exceptions=True)
    py_wall, py_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    ok = sum(1 for d in data if not isinstance(d, BaseException) and d.hashrate is not None)
    infos = [MinerInfo(ip, ip) for ip in ips]
    await poller.poll_many(infos, honour_backoff=False)  # identify + learn joins, as above
    cpu0, wall0 = time.process_time(), time.perf_counter()
    ours = await poller.poll_many(infos, honour_backoff=False)
    our_wall, our_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "subset": len(ips),
        "pyasic_identified": len(miners),
        "pyasic_ok": ok,
        "pyasic_cpu_s": round(py_cpu, 3),
        "pyasic_wall_s": round(py_wall, 3),
        "ours_ok": sum(r.online for r in ours),
        "ours_cpu_s": round(our_cpu, 3),
        "ours_wall_s": round(our_wall, 3),
        "pyasic_ratio": round((py_cpu / max(1, len(miners))) / (our_cpu / len(ips)), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--miners", type=int, default=30_000)
    parser.add_argument("--processes", type=int, default=0, help="simulator processes")
    parser.add_argument("--cycles", type=int, default=2, help="measured cycles")
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--pyasic-subset", type=int, default=300)
    args = parser.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Port 80 (the Antminer web API pyasic reads) needs root; without it pyasic gets RPC only.
    http_port = 80 if os.geteuid() == 0 else 0
    data = farm_data(args.miners, http_port)
    farm = build_farm(data)
    per_process = 6000 if http_port else 12000
    processes = args.processes or max(1, -(-args.miners // per_process))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "farm.json"
        path.write_text(json.dumps(data))
        started = time.perf_counter()
        sim = start_simulators(path, processes)
        print(f"simulators up in {time.perf_counter() - started:.1f} s", flush=True)
        try:
            result = speedups.run(run(args, farm, processes))
        finally:
            sim.terminate()
            sim.wait(60)
    print(json.dumps(result))
    return 0


async def run(args, farm, processes: int) -> dict:
    poller = Poller(CgminerClient(timeout=args.timeout), concurrency=args.concurrency)
    infos = [MinerInfo(m.ip, m.ip) for m in farm.miners]
    wall, cpu, online = await cycle(poller, infos)
    print(f"cycle 0 (identify + learn joins): {wall:.2f} s, {cpu:.2f} CPU-s, {online} online")
    walls, cpus = [], []
    # The simulator reuses a miner's replies for reply_refresh_s (real firmware refreshes its
    # figures every few seconds). At 30,000 miners a cycle is far longer than that; on a
    # small farm, pause so that no cycle is answered from the previous cycle's replies.
    pause = max(0.0, getattr(farm.settings, "reply_refresh_s", 1.0) + 0.5 - wall)
    for n in range(1, args.cycles + 1):
        await asyncio.sleep(pause)
        wall, cpu, online = await cycle(poller, infos)
        walls.append(wall)
        cpus.append(cpu)
        print(
            f"cycle {n}: {wall:.2f} s wall, {cpu:.2f} CPU-s, {online}/{len(infos)} online, "
            f"{cpu / len(infos) * 1000:.3f} CPU-s per 1,000 miners",
            flush=True,
        )
    connections = sum(
        1 if (info.joins or info.identity and info.identity.vendor != "antminer") else 3
        for info in infos
    )
    result = {
        "miners": len(infos),
        "simulator_processes": processes,
        "cycle_s": round(min(walls), 2),
        "cycle_s_mean": round(sum(walls) / len(walls), 2),
        "cpu_s_per_1000": round(min(cpus) / len(infos) * 1000, 3),
        "connections_per_cycle": connections,
        "online": online,
        "event_loop": speedups.loop_name(),
        "json": speedups.json_name(),
    }
    if args.pyasic_subset:
        step = max(1, len(infos) // args.pyasic_subset)
        subset = [info.ip for info in infos[::step]][: args.pyasic_subset]
        try:
            compare = await pyasic_compare(subset, Poller(CgminerClient(timeout=args.timeout)))
        except ImportError:
            compare = {"pyasic_ratio": None, "note": "pyasic is not installed"}
        print(f"pyasic comparison: {compare}")
        result.update(compare)
    else:
        result["pyasic_ratio"] = None
    return result


if __name__ == "__main__":
    sys.exit(main())
