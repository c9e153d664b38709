"""``hashinsight market import | refresh | show``.

``import`` checks the whole file first and stores all rows or none; every problem names its
row (the file's line number) and column. ``refresh`` asks the providers now (on a machine
with internet access) and prints what each figure came from; ``show`` prints the stored
figures with their age, the way the pages see them.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def _cli():
    """The running ``hashinsight_core.cli`` module (see audit/cli.py for why)."""
    running = sys.modules.get("__main__")
    spec = getattr(running, "__spec__", None)
    if spec is not None and spec.name == "hashinsight_core.cli":
        return running
    return importlib.import_module("hashinsight_core.cli")


def cmd_import(args) -> int:
    from hashinsight_core.market import importer

    cli = _cli()
    path = Path(args.file)
    if not path.is_file():
        raise cli.CLIError(f"file '{args.file}' not found")
    if path.stat().st_size > importer.MAX_BYTES:
        raise cli.CLIError(f"'{args.file}' is larger than {importer.MAX_BYTES // 1_000_000} MB")
    data = path.read_bytes()
    env = cli.bootstrap_app(args.ini)
    try:
        request = env["request"]
        with request.tm:
            try:
                result = importer.import_csv(request.dbsession, data, args.kind)
            except importer.ImportFailed as error:
                # Raising inside the transaction rolls it back: nothing is stored.
                lines = error.errors + ([f"... and {error.more} more"] if error.more else [])
                raise cli.CLIError(
                    f"{args.file}: nothing imported:\n  " + "\n  ".join(lines)
                ) from None
            request.audit(
                "core:market:import",
                subject=("market_history", args.kind),
                payload={
                    "file": path.name,
                    "rows": result.rows,
                    "new": result.inserted,
                    "updated": result.updated,
                    "via": "cli",
                },
            )
        print(result.line())
    finally:
        env["closer"]()
    return 0


def cmd_refresh(args) -> int:
    from hashinsight_core.market import service

    env = _cli().bootstrap_app(args.ini)
    try:
        request = env["request"]
        config = env["registry"]["market.config"]
        with request.tm:
            result = service.refresh(request.dbsession, config, only_stale=args.stale_only)
        for line in result.lines() or ["nothing to refresh: every figure is fresh"]:
            print(line)
    finally:
        env["closer"]()
    return 1 if result.failed and not result.stored and not result.offline else 0


def cmd_show(args) -> int:
    from hashinsight_core.market import service
    from hashinsight_core.market.views import age_text, display

    env = _cli().bootstrap_app(args.ini)
    try:
        request = env["request"]
        with request.tm:
            snapshot = service.read_snapshot(request.dbsession, env["registry"]["market.config"])
    finally:
        env["closer"]()
    if args.json:
        print(json.dumps(service.snapshot_dict(snapshot), indent=2))
        return 0
    if snapshot.empty:
        print(
            "no market data yet: run 'hashinsight market refresh' where there is internet, "
            "or 'hashinsight market import FILE --kind price'"
        )
        return 0
    for name, found in snapshot.figures.items():
        if not found.available:
            print(f"{name:24} -")
            continue
        flag = " STALE" if found.stale else ""
        flag += " (override)" if found.overridden else ""
        print(
            f"{name:24} {display(name, found.value):>22}  {found.source:<32} "
            f"{age_text(found.age_s)} old{flag}"
        )
    return 0


def _intermixed(base):
    """``base`` parsing options and positionals in any order, so both
    ``import FILE --kind price site.ini`` and ``import --kind price FILE`` work (plain
    argparse refuses a positional after an option once the earlier ones were taken)."""

    class Intermixed(base):
        _inside = False

        def parse_known_args(self, args=None, namespace=None):
            if self._inside:  # parse_known_intermixed_args calls back in here
                return super().parse_known_args(args, namespace)
            self._inside = True
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._inside = False

    return Intermixed


def add_market_commands(sub) -> None:
    """Add ``market`` and its sub-commands to the ``hashinsight`` parser."""
    cli = _cli()
    text = "market data: import history, refresh from providers, show stored figures"
    market = sub.add_parser("market", help=text, description=text)
    commands = market.add_subparsers(
        dest="market_command", metavar="ACTION", parser_class=_intermixed(cli.Parser)
    )
    commands.required = True

    def ini(parser):
        parser.add_argument(
            "ini",
            nargs="?",
            default=cli.default_ini(),
            help="config file (default: $HASHINSIGHT_INI or development.ini)",
        )

    text = "import a CSV: prices (date,open,high,low,close,volume) or difficulty (height/date)"
    p = commands.add_parser("import", help=text, description=text)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--kind", required=True, choices=("price", "difficulty"))
    ini(p)
    p.set_defaults(func=cmd_import)

    text = "fetch every figure from the providers now and store it"
    p = commands.add_parser("refresh", help=text, description=text)
    p.add_argument("--stale-only", action="store_true", help="only stale or missing figures")
    ini(p)
    p.set_defaults(func=cmd_refresh)

    text = "print the stored figures with source and age"
    p = commands.add_parser("show", help=text, description=text)
    p.add_argument("--json", action="store_true", help="the same JSON as GET /api/v1/market")
    ini(p)
    p.set_defaults(func=cmd_show)
