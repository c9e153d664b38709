import configparser
from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError

from hashinsight_core.settings import DEVELOPMENT_SECRET, ENVIRONMENT, resolve

ROOT = Path(__file__).resolve().parents[3]
GOOD_SECRET = "x" * 48


def test_environment_overrides_the_ini():
    settings = resolve(
        {"sqlalchemy.url": "sqlite://", "hashinsight.plugins": "calculator"},
        {
            "DATABASE_URL": "postgresql://db/x",
            "HASHINSIGHT_PLUGINS": "hosting crm",
            "REDIS_URL": "redis://r:6379/0",
        },
    )
    assert settings["sqlalchemy.url"] == "postgresql://db/x"
    assert settings["hashinsight.plugins"] == ["hosting", "crm"]
    assert settings["redis.url"] == "redis://r:6379/0"


def test_empty_plugin_variable_means_no_plugins():
    settings = resolve(
        {"sqlalchemy.url": "sqlite://", "hashinsight.plugins": "crm"}, {"HASHINSIGHT_PLUGINS": ""}
    )
    assert settings["hashinsight.plugins"] == []


@pytest.mark.parametrize("secret", [None, "", DEVELOPMENT_SECRET, "short-secret"])
def test_production_refuses_a_missing_default_or_short_secret(secret):
    ini = {"sqlalchemy.url": "postgresql://db/x", "hashinsight.env": "production"}
    if secret is not None:
        ini["hashinsight.secret"] = secret
    with pytest.raises(ConfigurationError, match="HASHINSIGHT_SECRET"):
        resolve(ini, {})


def test_production_starts_with_a_real_secret_from_the_environment():
    ini = {"sqlalchemy.url": "postgresql://db/x", "hashinsight.env": "production"}
    assert resolve(ini, {"HASHINSIGHT_SECRET": GOOD_SECRET})["hashinsight.secret"] == GOOD_SECRET


def test_missing_database_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        resolve({}, {})


def test_production_ini_holds_no_secret_and_no_url():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "production.ini")
    app = parser["app:main"]
    assert app["hashinsight.env"] == "production"
    for key in set(ENVIRONMENT.values()) & {"hashinsight.secret", "sqlalchemy.url", "redis.url"}:
        assert key not in app, f"{key} belongs in the environment, not production.ini"


def test_production_ini_cannot_start_without_its_environment():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "production.ini")
    with pytest.raises(ConfigurationError):
        resolve(dict(parser["app:main"]), {"DATABASE_URL": "postgresql://db/x"})
