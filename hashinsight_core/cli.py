"""``hashinsight``: set-up and operations from the command line.

Every failure ends with one line on stderr (``hashinsight: error: ...``) and a non-zero exit,
never a traceback for a mistake the user can fix.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from hashinsight_core.audit.cli import add_audit_commands
from hashinsight_core.market.cli import add_market_commands

EXIT_USAGE = 2


class CLIError(Exception):
    """A mistake the user can fix; printed as one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line instead of usage + message
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def default_ini() -> str:
    return os.environ.get("HASHINSIGHT_INI", "development.ini")


def load_settings(ini: str) -> dict:
    from plaster import get_settings

    path = Path(ini)
    if not path.is_file():
        raise CLIError(f"config file '{ini}' not found")
    return dict(get_settings(str(path.resolve()), "app:main"))


def effective_settings(ini: str) -> dict:
    from hashinsight_core.settings import resolve

    return resolve(load_settings(ini))


def prepare_var(settings: dict) -> None:
    """Make the folders the embedded default writes to (SQLite files, mail drop)."""
    for key in ("sqlalchemy.url", "huey.sqlite_path"):
        value = settings.get(key) or ""
        if value.startswith("sqlite:///"):
            value = value[len("sqlite:///") :]
        elif key == "sqlalchemy.url":
            continue
        if value and value != ":memory:":
            Path(value).parent.mkdir(parents=True, exist_ok=True)


def bootstrap_app(ini: str):
    from pyramid.paster import bootstrap, setup_logging

    load_settings(ini)  # a clear error for a missing file before paste gets to it
    setup_logging(str(Path(ini).resolve()))
    return bootstrap(str(Path(ini).resolve()))


# --- commands -------------------------------------------------------------------------


def cmd_migrate(args) -> int:
    from hashinsight_core import migrate
    from hashinsight_core.plugins import load

    settings = effective_settings(args.ini)
    load(settings["hashinsight.plugins"])  # refuse unknown plugins before touching the db
    prepare_var(settings)
    branches = migrate.upgrade(settings["sqlalchemy.url"], settings["hashinsight.plugins"])
    print(f"database is up to date ({', '.join(branches)})")
    return 0


def create_user(
    request, email: str, password: str, role: str, name: str = "", customer: str | None = None
):
    from hashinsight_core import accounts
    from hashinsight_core.exceptions import DomainError

    customer_id = find_customer(request, customer) if customer else None
    try:
        return accounts.create_user(request.dbsession, email, password, role, name, customer_id)
    except DomainError as error:
        raise CLIError(request.localizer.translate(error.message)) from None


def find_customer(request, name_or_id: str) -> int:
    """A customer's id from its id or its exact name (names are unique)."""
    import sqlalchemy as sa

    from hashinsight_core.models import Customer

    query = sa.select(Customer.id).where(Customer.name == name_or_id)
    if name_or_id.isdigit():
        query = sa.select(Customer.id).where(
            sa.or_(Customer.id == int(name_or_id), Customer.name == name_or_id)
        )
    found = request.dbsession.scalars(query.execution_options(unscoped=True)).all()
    if len(found) != 1:
        raise CLIError(f"no customer with the id or name '{name_or_id}'")
    return found[0]


def cmd_create_user(args) -> int:
    password = args.password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif password is None:
        if not sys.stdin.isatty():
            raise CLIError("no password given: use --password-stdin or run interactively")
        password = getpass.getpass("Password: ")
    env = bootstrap_app(args.ini)
    try:
        with env["request"].tm:
            user = create_user(
                env["request"], args.email, password, args.role, args.name, args.customer
            )
            env["request"].audit(
                "core:user:create",
                subject=("user", user.id),
                payload={
                    "email": user.email,
                    "role": user.role,
                    "customer_id": user.customer_id,
                    "via": "cli",
                },
            )
            print(f"created {user.role} {user.email}")
    finally:
        env["closer"]()
    return 0


def cmd_worker(args) -> int:
    env = bootstrap_app(args.ini)
    huey = env["registry"]["huey"]
    tasks = env["registry"].get("periodic_task_names", [])
    print(
        f"worker: {type(huey).__name__}, periodic tasks: {', '.join(tasks) or 'none'}", flush=True
    )
    consumer = huey.create_consumer(workers=args.workers, periodic=True, check_worker_health=True)
    consumer.run()
    return 0


def cmd_serve(args) -> int:
    from waitress import serve

    from hashinsight_core import make_config
    from hashinsight_core.settings import resolve

    settings = resolve(load_settings(args.ini))
    from pyramid.paster import setup_logging

    setup_logging(str(Path(args.ini).resolve()))
    app = make_config(settings).make_wsgi_app()
    print(f"serving on http://{args.host}:{args.port}/", flush=True)
    serve(app, host=args.host, port=args.port, threads=8, ident="hashinsight")
    return 0


def ensure_demo_owner(registry, settings: dict) -> tuple[str, str]:
    """The demo owner's login; created (with a random password kept in var/) on first run."""
    import sqlalchemy as sa
    from pyramid.scripting import prepare

    from hashinsight_core.models import User

    email = "owner@demo.hashinsight.local"
    var = Path(settings.get("hashinsight.var_dir") or "var")
    var.mkdir(parents=True, exist_ok=True)
    login_file = var / "demo-login.txt"
    env = prepare(registry=registry)
    try:
        with env["request"].tm:
            request = env["request"]
            exists = request.dbsession.scalar(sa.select(User.id).where(User.email == email))
            if exists is None or not login_file.exists():
                password = secrets.token_urlsafe(12)
                if exists is None:
                    create_user(request, email, password, "owner", "Demo Owner")
                else:
                    from hashinsight_core.accounts import change_password

                    change_password(request.dbsession.get(User, exists), password)
                login_file.write_text(f"{email}\n{password}\n")
                login_file.chmod(0o600)
    finally:
        env["closer"]()
    saved_email, password = login_file.read_text().split("\n")[:2]
    return saved_email, password


def ensure_demo_audit_key(settings: dict) -> None:
    """The demo signs audit checkpoints with a key of its own in var/ (made once)."""
    import argparse as _argparse

    from hashinsight_core.audit.cli import cmd_keygen
    from hashinsight_core.audit.keys import DEFAULT_KEY_FILENAME

    target = Path(settings.get("hashinsight.var_dir") or "var") / DEFAULT_KEY_FILENAME
    if not target.exists() and not os.environ.get("HASHINSIGHT_AUDIT_KEY"):
        cmd_keygen(_argparse.Namespace(out=str(target), force=False))


def demo_processes(registry, settings: dict, server_url: str) -> list[dict]:
    """Ask the enabled plugins (``hashinsight_demo`` hook) for demo data and processes."""
    from pyramid.scripting import prepare

    var = Path(settings.get("hashinsight.var_dir") or "var")
    env = prepare(registry=registry)
    try:
        with env["request"].tm:
            request = env["request"]
            answers = request.registry.plugin_manager.hook.hashinsight_demo(
                request=request, var_dir=var, server_url=server_url
            )
    finally:
        env["closer"]()
    return [spec for answer in answers or [] for spec in answer or []]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "process"


def start_demo_process(spec: dict, log_dir: Path) -> subprocess.Popen:
    """Start one plugin process, its output in ``log_dir``; wait for its ``ready`` check."""
    import time

    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{_slug(spec['name'])}.log", "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - argv from an enabled plugin, no shell
            list(spec["argv"]), stdout=log, stderr=subprocess.STDOUT
        )
    ready = spec.get("ready")
    deadline = time.monotonic() + 30
    while ready is not None and time.monotonic() < deadline and process.poll() is None:
        if ready():
            break
        time.sleep(0.2)
    if process.poll() is not None:
        raise CLIError(f"demo: {spec['name']} stopped at once (see {log_dir})")
    return process


def stop_processes(processes: list[tuple[str, subprocess.Popen]], timeout: float = 10) -> None:
    """SIGINT to each (newest first), then SIGKILL whatever has not stopped in time."""
    import time

    for _name, process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout
    for _name, process in reversed(processes):
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ensure_demo_command_key(settings: dict) -> None:
    """The demo signs remote commands with a key of its own in var/ (made once)."""
    from hashinsight_core.audit import chain

    target = Path(settings.get("hashinsight.var_dir") or "var") / "command-signing.key"
    if target.exists() or os.environ.get("HASHINSIGHT_COMMAND_KEY"):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# HashInsight command signing key (Ed25519); keep it out of the database\n")
        handle.write(chain.private_key_text(chain.generate_private_key()) + "\n")


def cmd_demo(args) -> int:
    from pyramid.paster import setup_logging
    from waitress import serve

    from hashinsight_core import make_config

    settings = effective_settings(args.ini)
    cmd_migrate(args)
    ensure_demo_audit_key(settings)
    ensure_demo_command_key(settings)
    setup_logging(str(Path(args.ini).resolve()))
    # One app for everything: the demo data is prepared with its registry and it is what the
    # server serves, so the server is up moments after the collectors start uploading.
    app = make_config(effective_settings(args.ini)).make_wsgi_app()
    email, password = ensure_demo_owner(app.registry, settings)
    host = "127.0.0.1" if args.host in ("", "0.0.0.0", "::") else args.host  # noqa: S104
    specs = demo_processes(app.registry, settings, f"http://{host}:{args.port}")
    log_dir = Path(settings.get("hashinsight.var_dir") or "var") / "logs"
    print("")
    print(f"  HashInsight demo: http://localhost:{args.port}/")
    print(f"  owner login:      {email}")
    print(f"  password:         {password}")
    print(f"  plugins:          {' '.join(settings['hashinsight.plugins']) or 'none'}")
    if specs:
        print(f"  also running:     {', '.join(s['name'] for s in specs)} (logs in {log_dir}/)")
    print("")
    # SIGTERM stops the demo like Ctrl-C does, so the processes below are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    processes: list[tuple[str, subprocess.Popen]] = []
    try:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "hashinsight_core.cli", "worker", args.ini]
        )
        processes.append(("worker", worker))
        for spec in specs:
            processes.append((spec["name"], start_demo_process(spec, log_dir)))
        print(f"serving on http://{args.host}:{args.port}/", flush=True)
        serve(app, host=args.host, port=args.port, threads=8, ident="hashinsight")
        return 0
    finally:
        stop_processes(processes)


def cmd_plugins(args) -> int:
    from hashinsight_core.plugins import installed_plugins, load

    settings = effective_settings(args.ini)
    _, enabled = load(settings["hashinsight.plugins"])
    enabled_names = {info.name for info in enabled}
    for name, target in sorted(installed_plugins().items()):
        mark = "on " if name in enabled_names else "off"
        print(f"{mark}  {name:14} {target}")
    return 0


def cmd_revision(args) -> int:
    from hashinsight_core import migrate

    try:
        migrate.revision(args.branch, args.message)
    except ValueError as error:
        raise CLIError(str(error)) from None
    return 0


def build_parser() -> Parser:
    parser = Parser(prog="hashinsight", description="HashInsight set-up and operations.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    def add(name, func, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "ini",
            nargs="?",
            default=default_ini(),
            help="config file (default: $HASHINSIGHT_INI or development.ini)",
        )
        p.set_defaults(func=func)
        return p

    add("migrate", cmd_migrate, "create or upgrade the database (keeps existing data)")
    p = add("create-user", cmd_create_user, "create an account")
    p.add_argument("--email", required=True)
    p.add_argument("--role", default="viewer")
    p.add_argument("--name", default="")
    p.add_argument("--customer", help="the customer's id or name (for the customer role)")
    p.add_argument("--password", help="prefer --password-stdin: arguments show up in ps")
    p.add_argument("--password-stdin", action="store_true")
    p = add("worker", cmd_worker, "run the background worker (huey consumer with periodic tasks)")
    p.add_argument("--workers", type=int, default=2)
    for name, func, text in (
        ("serve", cmd_serve, "serve the web app with waitress"),
        (
            "demo",
            cmd_demo,
            "migrate, create the demo owner and farm, start a worker, the simulator and "
            "collectors, and serve",
        ),
    ):
        p = add(name, func, text)
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "6543")))
    add("plugins", cmd_plugins, "list installed plugins and which are enabled")
    text = "write a new migration for the core or one plugin (from its models)"
    p = sub.add_parser("revision", help=text, description=text)
    p.set_defaults(func=cmd_revision)
    p.add_argument("--branch", required=True, help="'core' or a plugin name")
    p.add_argument("-m", "--message", required=True)
    add_audit_commands(sub)
    add_market_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pyramid.exceptions import ConfigurationError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (CLIError, ConfigurationError) as error:
        print(f"hashinsight: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
