import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashinsight_core.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    WeakPassword,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short pass", "at least 12"),
        ("x" * (MAX_LENGTH + 1), "at most 128"),
        ("password1234", "too common"),
        ("1qaz2wsx3edc", "too common"),
        ("password123456", "too easy to guess"),
        ("qwertyuiop1234", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("ababababababab", "too common"),
        ("miner.operator2026", "too close to the e-mail"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, why):
    with pytest.raises(WeakPassword, match=why):
        check_password(password, "miner.operator@example.com")


def test_a_long_passphrase_in_any_script_is_fine():
    check_password("горная ферма 矿场 power 42", "a@example.com")


def test_hash_verifies_and_uses_current_parameters():
    hashed = hash_password("correct horse battery staple")
    assert verify_password(hashed, "correct horse battery staple")
    assert not verify_password(hashed, "correct horse battery stapl")
    assert not needs_rehash(hashed)
    assert not verify_password("not-a-hash", "anything")


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=MIN_LENGTH, max_size=40))
def test_the_rules_only_ever_raise_weak_password(password):
    try:
        check_password(password, "someone@example.com")
    except WeakPassword:
        pass
