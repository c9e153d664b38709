"""``hashinsight-edge``: the collector's command line.

    hashinsight-edge check URL                 is the server up?
    hashinsight-edge simulate FARM.toml        serve a simulated farm on loopback
    hashinsight-edge scan TARGET...            find miners (CIDR, a-b ranges, addresses)
    hashinsight-edge probe IP                  poll one miner and print its record
    hashinsight-edge run --config FILE         collect, spool, upload, run commands
    hashinsight-edge status --config FILE      miners seen/online, last upload, spool depth

Errors are one line, ``hashinsight-edge: error: ...``, with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from dataclasses import asdict
from urllib.parse import urljoin, urlparse

from edge_collector import __version__, speedups

PROG = "hashinsight-edge"


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def check_server(base_url: str, timeout: float = 5.0) -> dict:
    """Ask the server's /healthz; return its JSON or raise OSError/ValueError with a reason."""
    parsed = urlparse(base_url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(f"'{base_url}' is not an http(s) URL")
    url = urljoin(base_url.rstrip("/") + "/", "healthz")
    # The scheme was checked above: only http(s) reaches urllib (ruff S310).
    agent = {"User-Agent": f"hashinsight-edge/{__version__}"}
    request = urllib.request.Request(url, headers=agent)  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body = json.loads(response.read(4096))
    if body.get("status") != "ok":
        raise ValueError(f"server answered {body!r}")
    return body


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be above zero")
    return value


def _part(text: str) -> tuple[int, int]:
    try:
        index, total = (int(p) for p in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not INDEX/TOTAL") from None
    if not 0 <= index < total:
        raise argparse.ArgumentTypeError(f"'{text}': INDEX must be below TOTAL")
    return index, total


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="HashInsight on-site edge collector.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    check = sub.add_parser("check", help="check that the HashInsight server answers")
    check.add_argument("server", help="the server's base URL, e.g. https://farm.example.com")
    check.add_argument("--timeout", type=float, default=5.0)

    simulate = sub.add_parser("simulate", help="serve a simulated farm on loopback addresses")
    simulate.add_argument("farm", help="farm description file (TOML or JSON)")
    simulate.add_argument("--http-port", type=int, help="Antminer web port (default: farm file)")
    simulate.add_argument("--processes", type=int, help="processes (default: from fd limit)")
    simulate.add_argument("--duration", type=_positive, help="stop after this many seconds")
    simulate.add_argument("--inventory", help="write the farm inventory (JSON) here and exit")
    simulate.add_argument("--part", type=_part, help=argparse.SUPPRESS)

    scan = sub.add_parser("scan", help="find miners in CIDR blocks, ranges or addresses")
    scan.add_argument("targets", nargs="+", help="e.g. 10.0.0.0/24 10.0.1.5-10.0.1.80")
    scan.add_argument("--port", type=int, default=4028)
    scan.add_argument("--timeout", type=_positive, default=1.5, help="per-host seconds")
    scan.add_argument("--concurrency", type=int, default=256)
    scan.add_argument("--json", action="store_true", help="print JSON lines")

    probe = sub.add_parser("probe", help="poll one miner and print its normalized record")
    probe.add_argument("ip")
    probe.add_argument("--port", type=int, default=4028)
    probe.add_argument("--timeout", type=_positive, default=3.0)
    probe.add_argument("--text", action="store_true", help="use the text form of the API")
    probe.add_argument("--json", action="store_true", help="print the full record as JSON")

    run = sub.add_parser("run", help="collect, spool, upload and run approved commands")
    run.add_argument("--config", "-c", required=True, help="config file (TOML or JSON)")
    run.add_argument("--once", action="store_true", help="one scan, one poll, drain, exit")
    run.add_argument("--duration", type=_positive, help="stop after this many seconds")

    status = sub.add_parser("status", help="miners seen/online, last upload, spool depth")
    status.add_argument("--config", "-c", required=True)
    status.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "check": cmd_check,
        "simulate": cmd_simulate,
        "scan": cmd_scan,
        "probe": cmd_probe,
        "run": cmd_run,
        "status": cmd_status,
    }[args.command]
    try:
        return handler(args)
    except CliError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def cmd_check(args) -> int:
    try:
        check_server(args.server, args.timeout)
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise CliError(f"{args.server}: {reason}") from None
    print(f"{args.server}: server is up")
    return 0


def cmd_simulate(args) -> int:
    from edge_collector.simulator.farm import FarmError, load_farm
    from edge_collector.simulator.server import run_farm, serve_part_blocking

    try:
        farm = load_farm(args.farm)
    except FarmError as error:
        raise CliError(str(error)) from None
    if args.inventory:
        with open(args.inventory, "w") as out:
            json.dump(farm.inventory(), out, indent=1)
        print(f"wrote {len(farm.miners)} miners to {args.inventory}")
        return 0
    if args.part:
        return serve_part_blocking(farm, args.part, args.http_port)
    try:
        return run_farm(
            args.farm,
            farm,
            processes=args.processes,
            http_port=args.http_port,
            duration_s=args.duration,
        )
    except (OSError, RuntimeError) as error:
        raise CliError(f"simulator: {error}") from None


def cmd_scan(args) -> int:
    from edge_collector.discovery import expand_targets, scan

    try:
        targets = expand_targets(args.targets)
    except ValueError as error:
        raise CliError(str(error)) from None
    found = speedups.run(
        scan(targets, port=args.port, timeout=args.timeout, concurrency=args.concurrency)
    )
    for candidate in found:
        if args.json:
            print(json.dumps(asdict(candidate)))
        else:
            extra = f" ({candidate.hint})" if candidate.hint else ""
            print(f"{candidate.ip:<16} {candidate.vendor:<11} {candidate.model}{extra}")
    print(f"{len(found)} miners in {len(targets)} addresses", file=sys.stderr)
    return 0


def cmd_probe(args) -> int:
    import ipaddress

    from edge_collector.poller import MinerInfo, Poller
    from edge_collector.rpc import CgminerClient

    try:
        ipaddress.ip_address(args.ip)
    except ValueError:
        raise CliError(f"'{args.ip}' is not an IP address") from None
    poller = Poller(CgminerClient(port=args.port, timeout=args.timeout))
    info = MinerInfo(args.ip, miner_key="probe", text=args.text)
    record = speedups.run(poller.poll(info))
    if args.json:
        print(json.dumps(record.to_wire(include_ip=True), indent=1))
    elif record.online:
        rate = (record.hashrate_ghs or 0) / 1000
        print(f"{args.ip}: {record.vendor} {record.model} ({record.firmware})")
        print(f"  hashrate {rate:.2f} TH/s, boards {len(record.boards)}, fans {record.fans_rpm}")
        print(f"  temp max {record.temp_max_c} C, power {record.power_w} W, pool {record.pool_url}")
    if not record.online:
        raise CliError(f"{args.ip}: {record.error_class or 'offline'}: {record.error_message}")
    return 0


def _load(path: str):
    from edge_collector.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as error:
        raise CliError(str(error)) from None


def cmd_run(args) -> int:
    from edge_collector.config import ConfigError
    from edge_collector.service import Collector, setup_logging

    config = _load(args.config)
    try:
        config.require_server()
    except ConfigError as error:
        raise CliError(str(error)) from None
    if not config.miners.targets:
        raise CliError("config: [miners] targets is empty: nothing to collect from")
    setup_logging(config.collector.log_format)

    async def go() -> int:
        return await Collector(config).run(once=args.once, duration_s=args.duration)

    return speedups.run(go())


def cmd_status(args) -> int:
    from edge_collector.service import status_summary
    from edge_collector.spool import Spool

    config = _load(args.config)
    path = config.state_dir / "spool.sqlite3"
    if not path.exists():
        raise CliError(f"no collector state in {config.state_dir} (has 'run' been started?)")
    spool = Spool(path)
    try:
        summary = status_summary(spool)
    finally:
        spool.close()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"device        {summary['device_id']}")
    print(f"miners        {summary['miners_online']} online of {summary['miners_seen']} seen")
    print(f"last cycle    {summary['last_cycle_at'] or 'never'} ({summary['last_cycle_s']} s)")
    print(f"last upload   {summary['last_upload_at'] or 'never'}")
    if summary["last_upload_error"]:
        print(f"upload error  {summary['last_upload_error']}")
    print(f"spool         {summary['spool_depth']} records, {summary['spool_bytes']} bytes")
    print(f"dropped       {summary['dropped']}")
    print(f"errors        {summary['errors_last_cycle']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
