"""`hashinsight market import | refresh | show` on a SQLite file, providers recorded."""

from __future__ import annotations

import json
import textwrap

import pytest

from hashinsight_core.cli import main


@pytest.fixture
def ini(tmp_path, monkeypatch):
    for name in ("HASHINSIGHT_INI", "HASHINSIGHT_PLUGINS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "site.ini"
    path.write_text(
        textwrap.dedent(f"""
        [app:main]
        use = egg:hashinsight
        hashinsight.plugins =
        hashinsight.secret = test
        sqlalchemy.url = sqlite:///{tmp_path}/var/db.sqlite
        huey.backend = memory
        hashinsight.var_dir = {tmp_path}/var
        market.transport = tests.fixtures.market.recorded:fresh_transport
    """)
    )
    assert main(["migrate", str(path)]) == 0
    return str(path)


def test_show_import_refresh_show(ini, tmp_path, capsys):
    capsys.readouterr()
    assert main(["market", "show", ini]) == 0
    assert "no market data yet" in capsys.readouterr().out

    prices = tmp_path / "prices.csv"
    prices.write_text(
        "date,open,high,low,close,volume\n"
        "2024-04-19,63500.1,65450.0,59600.2,63800.5,120345\n"
        "2024-04-20,63800.5,65400.0,63100.0,64950.3,45210\n"
    )
    assert main(["market", "import", str(prices), "--kind", "price", ini]) == 0
    out = capsys.readouterr().out
    assert "imported 2 price rows (2024-04-19 .. 2024-04-20): 2 new, 0 updated" in out
    assert main(["market", "import", str(prices), "--kind", "price", ini]) == 0
    assert "0 new, 2 updated" in capsys.readouterr().out

    assert main(["market", "show", ini]) == 0
    out = capsys.readouterr().out
    assert "64,950.30" in out and "import" in out and "STALE" in out

    assert main(["market", "refresh", ini]) == 0
    out = capsys.readouterr().out
    assert "price_usd: 91244.3 from median(binance,okx,deribit)" in out
    assert "difficulty: 1.49301e+14 from mempool" in out

    assert main(["market", "show", "--json", ini]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["figures"]["price_usd"]["stale"] is False
    assert body["figures"]["block_height"]["value"] == 925001


def test_a_bad_file_names_row_and_column_and_stores_nothing(ini, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,open,high,low,close,volume\n2024-04-19,1,2,1,2,1\n2024-04-20,1,2,1,two,1\n"
    )
    capsys.readouterr()
    assert main(["market", "import", str(bad), "--kind", "price", ini]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hashinsight: error: ") and "nothing imported" in err
    assert "row 3, column close: 'two' is not a number" in err
    main(["market", "show", ini])
    assert "no market data yet" in capsys.readouterr().out


def test_a_missing_file_is_one_line(ini, capsys):
    assert main(["market", "import", "nope.csv", "--kind", "price", ini]) == 1
    assert capsys.readouterr().err.strip() == "hashinsight: error: file 'nope.csv' not found"


def test_kind_is_required(ini, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["market", "import", "x.csv", ini])
    assert stopped.value.code == 2
    assert "--kind" in capsys.readouterr().err
