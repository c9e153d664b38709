"""Where the signing key comes from, and what happens without one."""

import base64
import os

import pytest
from pyramid.exceptions import ConfigurationError

from hashinsight_core.audit import chain
from hashinsight_core.audit.keys import KEY_VARIABLE, PUBLIC_KEYS_VARIABLE, load_keys

KEY = chain.generate_private_key()
KEY_TEXT = chain.private_key_text(KEY)
PUBLIC_TEXT = base64.b64encode(chain.public_key_bytes(KEY)).decode()
PRODUCTION = {"hashinsight.env": "production"}


def key_file(tmp_path, mode=0o600, text=KEY_TEXT):
    path = tmp_path / "audit.key"
    path.write_text(f"# a comment\n{text}\n")
    path.chmod(mode)
    return path


def test_no_key_in_development_means_checkpoints_off():
    keys = load_keys({}, {})
    assert not keys.can_sign and keys.trusted == () and keys.origin == "hashinsight.local/audit"


def test_production_refuses_to_start_without_any_key():
    with pytest.raises(ConfigurationError, match=KEY_VARIABLE):
        load_keys(PRODUCTION, {})


def test_production_starts_with_the_key_from_the_environment():
    keys = load_keys(PRODUCTION, {KEY_VARIABLE: KEY_TEXT})
    assert keys.can_sign and keys.source == KEY_VARIABLE
    assert keys.trusted == (chain.public_key_bytes(KEY),)


def test_a_verify_only_process_needs_just_the_public_key():
    keys = load_keys(PRODUCTION, {PUBLIC_KEYS_VARIABLE: PUBLIC_TEXT})
    assert not keys.can_sign and keys.trusted == (chain.public_key_bytes(KEY),)


def test_key_file_is_read_and_must_be_private(tmp_path):
    path = key_file(tmp_path)
    keys = load_keys({**PRODUCTION, "audit.signing_key_file": str(path)}, {})
    assert keys.can_sign and keys.source == str(path)
    if os.name == "posix":
        path.chmod(0o644)
        with pytest.raises(ConfigurationError, match="chmod 600"):
            load_keys({"audit.signing_key_file": str(path)}, {})


def test_the_environment_wins_over_the_file(tmp_path):
    other = chain.generate_private_key()
    settings = {"audit.signing_key_file": str(key_file(tmp_path))}
    keys = load_keys(settings, {KEY_VARIABLE: chain.private_key_text(other)})
    assert keys.public_key == chain.public_key_bytes(other)


def test_missing_or_broken_keys_are_one_clear_line(tmp_path):
    with pytest.raises(ConfigurationError, match="hashinsight audit keygen --out"):
        load_keys({"audit.signing_key_file": str(tmp_path / "nope.key")}, {})
    with pytest.raises(ConfigurationError, match="32"):
        load_keys({"audit.signing_key_file": str(key_file(tmp_path, text="c2hvcnQ="))}, {})
    with pytest.raises(ConfigurationError, match="base64"):
        load_keys({}, {KEY_VARIABLE: "definitely not a key"})
    with pytest.raises(ConfigurationError, match="audit.public_keys"):
        load_keys({"audit.public_keys": "AAAA"}, {})


def test_development_picks_up_the_keygen_default_in_var(tmp_path):
    key_file(tmp_path).rename(tmp_path / "audit-signing.key")
    assert load_keys({"hashinsight.var_dir": str(tmp_path)}, {}).can_sign
    # Production never guesses: the key must be named explicitly.
    with pytest.raises(ConfigurationError):
        load_keys({**PRODUCTION, "hashinsight.var_dir": str(tmp_path)}, {})


def test_older_public_keys_stay_trusted_after_a_rotation():
    old = chain.generate_private_key()
    old_text = base64.b64encode(chain.public_key_bytes(old)).decode()
    keys = load_keys({"audit.public_keys": f"{old_text} {PUBLIC_TEXT}"}, {KEY_VARIABLE: KEY_TEXT})
    assert keys.trusted == (chain.public_key_bytes(KEY), chain.public_key_bytes(old))


def test_origin_comes_from_the_public_url_or_the_setting():
    assert load_keys({"hashinsight.public_url": "https://farm.example.com/"}, {}).origin == (
        "farm.example.com/audit"
    )
    assert load_keys({"audit.origin": "example.org/log1"}, {}).origin == "example.org/log1"
    with pytest.raises(ConfigurationError, match="spaces"):
        load_keys({"audit.origin": "has space"}, {})
