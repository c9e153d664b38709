"""The demo farm the hosting plugin prepares for ``hashinsight demo``: seeded once, tokens kept
in private files, miner keys matching the collectors' state, processes to run."""

from __future__ import annotations

import stat

import sqlalchemy as sa
from pyramid.scripting import prepare


def run_hook(registry, var_dir, server_url="http://127.0.0.1:6543"):
    env = prepare(registry=registry)
    try:
        with env["request"].tm:
            answers = registry.plugin_manager.hook.hashinsight_demo(
                request=env["request"], var_dir=var_dir, server_url=server_url
            )
    finally:
        env["closer"]()
    return [spec for answer in answers for spec in answer]


def counts(engine) -> dict:
    with engine.connect() as conn:
        return {
            table: conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in (
                "hosting_sites",
                "hosting_zones",
                "hosting_racks",
                "hosting_miners",
                "hosting_edge_devices",
                "core_customers",
                "hosting_tickets",
                "hosting_repairs",
                "hosting_excused_events",
                "hosting_brand_hosts",
            )
        }


def test_the_demo_farm_is_seeded_once_with_devices_files_and_processes(registry, engine, tmp_path):
    from edge_collector.config import load_config
    from edge_collector.poller import miner_key_for
    from edge_collector.simulator.farm import load_farm
    from edge_collector.spool import Spool
    from plugins.calculator.catalogue import seed

    # The shipped catalogue (the migration's seed; tests empty every table between tests).
    env = prepare(registry=registry)
    try:
        with env["request"].tm:
            seed(env["request"])
    finally:
        env["closer"]()

    specs = run_hook(registry, tmp_path)
    first = counts(engine)
    assert first == {
        "hosting_sites": 2,
        "hosting_zones": 4,
        "hosting_racks": 6,
        "hosting_miners": 200,
        "hosting_edge_devices": 4,
        "core_customers": 4,
        # operations on top: tickets (one solved with a part swap), an excused maintenance,
        # a second brand on "localhost"
        "hosting_tickets": 3,
        "hosting_repairs": 1,
        "hosting_excused_events": 1,
        "hosting_brand_hosts": 1,
    }
    names = [s["name"] for s in specs]
    assert names[0] == "simulator" and len(names) == 5
    assert all(s["argv"][1:3] == ["-m", "edge_collector.cli"] for s in specs)

    # The files are what the edge tools accept; the tokens are private.
    farm = load_farm(tmp_path / "demo" / "farm.toml")
    assert len(farm.miners) == 200
    assert all(m.ip.startswith("127.21.") for m in farm.miners)
    with engine.connect() as conn:
        models = conn.execute(
            sa.text("SELECT count(DISTINCT model_name), count(asic_model_id) FROM hosting_miners")
        ).one()
    assert models[0] >= 5 and models[1] == 200  # every model from the calculator's catalogue
    tokens = {}
    for folder in sorted((tmp_path / "demo").glob("edge-*")):
        token_file = folder / "token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        tokens[folder.name] = token_file.read_text()
        config = load_config(folder / "edge.toml")
        config.require_server()
        assert config.server.url == "http://127.0.0.1:6543"
        # Each miner of the zone carries the key this collector will report it by.
        spool = Spool(config.state_dir / "spool.sqlite3")
        salt = spool.identity()[1]
        spool.close()
        block = config.miners.targets[0].split("-")[0].rsplit(".", 1)[0]
        with engine.connect() as conn:
            keys = set(
                conn.execute(
                    sa.text("SELECT miner_key FROM hosting_miners WHERE zone_id = :z"),
                    {"z": int(config.server.zone_id)},
                ).scalars()
            )
        ips = [m.ip for m in farm.miners if m.ip.rsplit(".", 1)[0] == block]
        assert keys == {miner_key_for(ip, salt) for ip in ips}
    assert len(tokens) == 4

    # A second start makes nothing twice and keeps the tokens.
    again = run_hook(registry, tmp_path, "http://127.0.0.1:7000")
    assert counts(engine) == first
    assert len(again) == 5
    for name, token in tokens.items():
        assert (tmp_path / "demo" / name / "token").read_text() == token
    assert 'url = "http://127.0.0.1:7000"' in (tmp_path / "demo/edge-hall-a/edge.toml").read_text()

    # A lost token file gets a new token (the old one stops working).
    (tmp_path / "demo" / "edge-hall-a" / "token").unlink()
    run_hook(registry, tmp_path)
    assert (tmp_path / "demo" / "edge-hall-a" / "token").read_text() != tokens["edge-hall-a"]
    assert counts(engine)["hosting_edge_devices"] == 4
