"""`hashinsight audit keygen | checkpoint | verify` from a shell."""

import base64
import os
import stat
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from hashinsight_core.audit import chain, service
from hashinsight_core.cli import main
from hashinsight_core.db import make_engine


def run(*args):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HASHINSIGHT_")}
    return subprocess.run(
        [sys.executable, "-m", "hashinsight_core.cli", "audit", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
    )


@pytest.fixture
def site(tmp_path):
    ini = tmp_path / "site.ini"
    ini.write_text(
        textwrap.dedent(f"""
        [app:main]
        use = egg:hashinsight
        hashinsight.plugins =
        hashinsight.secret = test
        sqlalchemy.url = sqlite:///{tmp_path}/var/db.sqlite
        huey.backend = memory
        hashinsight.var_dir = {tmp_path}/var
    """)
    )
    assert main(["migrate", str(ini)]) == 0
    return tmp_path, str(ini)


def append(tmp_path, count: int) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/var/db.sqlite")
    with engine.begin() as conn:
        for i in range(count):
            service.append(conn, "core:user:login", actor=("user", i), payload={"i": i})
    engine.dispose()


def test_keygen_writes_a_private_key_file_once(tmp_path):
    target = tmp_path / "keys" / "audit.key"
    made = run("keygen", "--out", str(target))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    key = chain.private_key_from_text(target.read_text())
    assert f"public key: {base64.b64encode(chain.public_key_bytes(key)).decode()}" in (made.stdout)
    again = run("keygen", "--out", str(target))
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "already exists; use --force" in again.stderr
    assert run("keygen", "--out", str(target), "--force").returncode == 0
    assert chain.private_key_from_text(target.read_text()) is not None


def test_checkpoint_then_verify_catches_a_tidy_truncation_with_the_exported_file(site):
    tmp_path, ini = site
    no_key = run("checkpoint", ini)
    assert no_key.returncode == 1 and "no audit signing key" in no_key.stderr

    assert run("keygen", "--out", str(tmp_path / "var" / "audit-signing.key")).returncode == 0
    empty = run("checkpoint", ini)
    assert empty.returncode == 0 and "empty" in empty.stderr
    append(tmp_path, 6)
    exported = tmp_path / "checkpoint.txt"
    signed = run("checkpoint", ini, "--out", str(exported))
    assert signed.returncode == 0, signed.stderr
    assert "signed: checkpoint of size 6" in signed.stderr
    assert chain.read_checkpoint(exported.read_text()).size == 6
    printed = run("checkpoint", ini)
    assert "unchanged" in printed.stderr and printed.stdout == exported.read_text()

    ok = run("verify", ini)
    assert ok.returncode == 0 and ok.stdout.startswith("audit chain OK: 6 events")
    assert "matches the checkpoint of size 6" in ok.stdout

    # Someone with database access removes the last two events, the head and the checkpoint.
    engine = make_engine(f"sqlite:///{tmp_path}/var/db.sqlite")
    with engine.begin() as conn:
        fourth = conn.scalar(sa.text("SELECT hash FROM core_audit_events WHERE seq = 4"))
        conn.execute(sa.text("DELETE FROM core_audit_events WHERE seq > 4"))
        conn.execute(sa.text("DELETE FROM core_audit_checkpoints"))
        conn.execute(sa.text("UPDATE core_audit_head SET seq = 4, hash = :h"), {"h": fourth})
    engine.dispose()
    fooled = run("verify", ini)
    assert fooled.returncode == 0 and "note: no checkpoint yet" in fooled.stdout
    caught = run("verify", ini, "--checkpoint", str(exported))
    assert caught.returncode == 1
    assert caught.stdout.startswith("audit chain FAILED at seq 5 (truncated)")
    assert str(exported) in caught.stdout

    missing = run("verify", ini, "--checkpoint", str(tmp_path / "nope.txt"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"hashinsight: error: checkpoint file '{tmp_path / 'nope.txt'}' not found"
    )


def test_audit_needs_an_action(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["audit"])
    assert exit_info.value.code == 2
    assert "the following arguments are required: ACTION" in capsys.readouterr().err
