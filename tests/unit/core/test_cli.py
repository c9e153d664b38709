"""`hashinsight`: one clear line and a non-zero exit for every mistake."""

import subprocess
import sys
import textwrap

import pytest

from hashinsight_core.cli import main


def run_cli(*args, env=None, stdin=None):
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("HASHINSIGHT_")}
    full_env = {**clean, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "hashinsight_core.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def ini(tmp_path):
    path = tmp_path / "site.ini"
    path.write_text(
        textwrap.dedent(f"""
        [app:main]
        use = egg:hashinsight
        hashinsight.plugins = hosting
        hashinsight.secret = test
        sqlalchemy.url = sqlite:///{tmp_path}/var/db.sqlite
        huey.backend = sqlite
        huey.sqlite_path = {tmp_path}/var/huey.sqlite
        hashinsight.var_dir = {tmp_path}/var
    """)
    )
    return str(path)


def test_unknown_command_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["explode"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "invalid choice: 'explode'" in err


def test_missing_config_file_is_one_line(capsys):
    assert main(["migrate", "/nope/missing.ini"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "hashinsight: error: config file '/nope/missing.ini' not found"
    )


def test_migrate_then_create_user_then_refuse_duplicate(ini):
    first = run_cli("migrate", ini)
    assert first.returncode == 0, first.stderr
    assert "up to date (core, hosting)" in first.stdout
    assert run_cli("migrate", ini).returncode == 0  # again: nothing to do, nothing lost

    created = run_cli(
        "create-user",
        ini,
        "--email",
        "Boss@Example.com",
        "--role",
        "owner",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created owner boss@example.com" in created.stdout

    again = run_cli(
        "create-user",
        ini,
        "--email",
        "boss@example.com",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == (
        "hashinsight: error: an account for boss@example.com already exists"
    )


def test_create_user_for_a_customer_by_name_or_id(ini, tmp_path):
    import sqlite3

    run_cli("migrate", ini)
    with sqlite3.connect(tmp_path / "var" / "db.sqlite") as db:
        db.execute(
            "INSERT INTO core_customers (name, status, created_at, updated_at) "
            "VALUES ('Acme Mining', 'active', '2026-01-01', '2026-01-01')"
        )
        acme = db.execute("SELECT id FROM core_customers").fetchone()[0]

    def create(email, *extra):
        return run_cli(
            "create-user",
            ini,
            "--email",
            email,
            "--role",
            "customer",
            *extra,
            "--password-stdin",
            stdin="a long enough password\n",
        )

    assert create("a@acme.example", "--customer", "Acme Mining").returncode == 0
    assert create("b@acme.example", "--customer", str(acme)).returncode == 0
    missing = create("c@acme.example", "--customer", "Nobody Ltd")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == (
        "hashinsight: error: no customer with the id or name 'Nobody Ltd'"
    )
    # the customer role still needs a customer
    assert create("d@acme.example").returncode == 1
    with sqlite3.connect(tmp_path / "var" / "db.sqlite") as db:
        rows = db.execute("SELECT email, customer_id FROM core_users ORDER BY email").fetchall()
    assert rows == [("a@acme.example", acme), ("b@acme.example", acme)]


def test_create_user_rejects_bad_role_and_short_password(ini):
    run_cli("migrate", ini)
    role = run_cli(
        "create-user",
        ini,
        "--email",
        "a@example.com",
        "--role",
        "king",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert role.returncode == 1 and "unknown role 'king'" in role.stderr
    short = run_cli(
        "create-user", ini, "--email", "a@example.com", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr


def test_unknown_plugin_from_the_environment_is_one_line(ini):
    result = run_cli("migrate", ini, env={"HASHINSIGHT_PLUGINS": "hosting mining-magic"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "hashinsight: error: unknown plugin 'mining-magic' in hashinsight.plugins "
        "(installed: " + result.stderr.split("(installed: ")[1].strip()
    )


def test_plugins_command_lists_enabled_and_disabled(ini):
    result = run_cli("plugins", ini)
    assert result.returncode == 0
    lines = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()}
    assert lines["hosting"] == "on" and lines["treasury"] == "off"
