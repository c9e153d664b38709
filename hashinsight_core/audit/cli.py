"""``hashinsight audit keygen | checkpoint | verify``.

``verify`` exits 0 when the chain verifies and 1 when it does not (with the first bad seq and
why on stdout), so a cron job or monitoring check can alarm on the exit code.
"""

from __future__ import annotations

import base64
import importlib
import os
import sys
from pathlib import Path

DEFAULT_KEY_PATH = os.path.join("var", "audit-signing.key")


def _cli():
    """The module running the command line. Under ``python -m hashinsight_core.cli`` that is
    ``__main__``, whose ``CLIError`` is the class its ``main()`` catches, not the one a fresh
    import of ``hashinsight_core.cli`` would define."""
    running = sys.modules.get("__main__")
    spec = getattr(running, "__spec__", None)
    if spec is not None and spec.name == "hashinsight_core.cli":
        return running
    return importlib.import_module("hashinsight_core.cli")


def CLIError(message: str) -> Exception:  # noqa: N802 - reads like the class it builds
    return _cli().CLIError(message)


def bootstrap_app(ini: str):
    return _cli().bootstrap_app(ini)


def cmd_keygen(args) -> int:
    from hashinsight_core.audit import chain

    target = Path(args.out)
    if target.exists() and not args.force:
        raise CLIError(f"'{target}' already exists; use --force to replace the key in it")
    target.parent.mkdir(parents=True, exist_ok=True)
    key = chain.generate_private_key()
    text = (
        "# HashInsight audit checkpoint signing key (Ed25519): base64 of the raw 32 bytes.\n"
        "# Keep it secret and off the database host's backups; give verifiers the public key.\n"
        f"{chain.private_key_text(key)}\n"
    )
    # Created private from the first byte: never world-readable, not even for a moment.
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(target, 0o600)
    public = base64.b64encode(chain.public_key_bytes(key)).decode()
    print(f"wrote {target}")
    print(f"public key: {public}")
    print(
        f"use it with: audit.signing_key_file = {target.resolve()}  "
        "(or HASHINSIGHT_AUDIT_KEY=<the base64 line>)"
    )
    return 0


def cmd_checkpoint(args) -> int:
    from hashinsight_core.audit import service

    env = bootstrap_app(args.ini)
    try:
        request = env["request"]
        registry = env["registry"]
        with request.tm:
            try:
                checkpoint, created = service.make_checkpoint(
                    request.dbsession,
                    registry["audit.keys"],
                    export_dir=registry.settings.get("audit.checkpoint_dir"),
                )
            except service.CheckpointsOff as error:
                raise CLIError(f"{error} (see: hashinsight audit keygen --help)") from None
            except service.ChainBroken as error:
                raise CLIError(f"the chain does not verify, nothing signed: {error}") from None
    finally:
        env["closer"]()
    if checkpoint is None:
        print("the audit log is empty: nothing to sign", file=sys.stderr)
        return 0
    print(
        f"{'signed' if created else 'unchanged'}: checkpoint of size {checkpoint.size}",
        file=sys.stderr,
    )
    if args.out:
        Path(args.out).write_text(checkpoint.note, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(checkpoint.note)
    return 0


def cmd_verify(args) -> int:
    from hashinsight_core.audit import service

    external = []
    for name in args.checkpoint or ():
        path = Path(name)
        if not path.is_file():
            raise CLIError(f"checkpoint file '{name}' not found")
        external.append((path.read_text(encoding="utf-8"), str(path)))
    env = bootstrap_app(args.ini)
    try:
        request = env["request"]
        registry = env["registry"]
        exported = service.newest_exported(registry.settings.get("audit.checkpoint_dir"))
        if exported:
            external.append((exported, "exported"))
        with request.tm:
            result = service.verify(request.dbsession, registry["audit.keys"], external)
    finally:
        env["closer"]()
    if result.ok:
        against = (
            f"; matches the checkpoint of size {result.checkpoint.size} "
            f"({result.checkpoint.source}, {result.checkpoint.time_text})"
            if result.checkpoint
            else ""
        )
        print(f"audit chain OK: {result.events} events, head {result.head_hash}{against}")
    else:
        where = f" at seq {result.problem.seq}" if result.problem.seq else ""
        print(f"audit chain FAILED{where} ({result.problem.code}): {result.problem.message}")
    for note in result.notes:
        print(f"note: {note}")
    return 0 if result.ok else 1


def add_audit_commands(sub) -> None:
    """Add ``audit`` and its sub-commands to the ``hashinsight`` parser."""
    text = "the tamper-evident audit chain: signing key, checkpoints, verification"
    audit = sub.add_parser("audit", help=text, description=text)
    cli = _cli()
    commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=cli.Parser)
    commands.required = True

    def ini(parser):
        parser.add_argument(
            "ini",
            nargs="?",
            default=cli.default_ini(),
            help="config file (default: $HASHINSIGHT_INI or development.ini)",
        )

    text = "write a new Ed25519 checkpoint signing key to a file (mode 600)"
    p = commands.add_parser("keygen", help=text, description=text)
    p.add_argument(
        "--out",
        default=DEFAULT_KEY_PATH,
        help=f"where to write it (default: {DEFAULT_KEY_PATH}, which development picks up)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing key file")
    p.set_defaults(func=cmd_keygen)

    text = "sign a checkpoint of the chain now and print it (or write it with --out)"
    p = commands.add_parser("checkpoint", help=text, description=text)
    ini(p)
    p.add_argument("--out", help="write the signed note to this file")
    p.set_defaults(func=cmd_checkpoint)

    text = "verify the chain; exit 1 and name the first bad seq if it does not"
    p = commands.add_parser("verify", help=text, description=text)
    ini(p)
    p.add_argument(
        "--checkpoint",
        action="append",
        metavar="FILE",
        help="a checkpoint kept outside the database (repeatable); catches restored copies",
    )
    p.set_defaults(func=cmd_verify)
