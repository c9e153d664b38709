"""``hashinsight-edge``: the collector's command line."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlparse

from edge_collector import __version__


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


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


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="hashinsight-edge", description="HashInsight on-site edge collector.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    check = sub.add_parser("check", help="check that the HashInsight server answers")
    check.add_argument("server", help="the server's base URL, e.g. https://farm.example.com")
    check.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)

    try:
        check_server(args.server, args.timeout)
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        print(f"hashinsight-edge: error: {args.server}: {reason}", file=sys.stderr)
        return 1
    print(f"{args.server}: server is up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
