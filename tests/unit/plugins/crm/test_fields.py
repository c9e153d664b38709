"""The checks on a customer's fields, shared by the page and the API."""

import pytest

from hashinsight_core.exceptions import InvalidInput
from plugins.crm.services import clean_field


@pytest.mark.parametrize(
    "email",
    [
        "ops@steppehash.kz",
        "first.last+farm@mail.example.co.uk",
        "李@例子.中国",
        "a@b.io",
    ],
)
def test_ordinary_email_addresses_pass(email):
    assert clean_field("contact_email", f"  {email} ") == email


@pytest.mark.parametrize(
    "email",
    [
        "ops",
        "ops@",
        "@example.com",
        "ops@example",
        "ops@@example.com",
        "o ps@example.com",
        "ops@example..com",
        "ops@.example.com",
    ],
)
def test_typing_mistakes_in_email_addresses_are_refused(email):
    with pytest.raises(InvalidInput) as caught:
        clean_field("contact_email", email)
    assert caught.value.field == "contact_email" and caught.value.status == 422
    assert "e-mail" in str(caught.value)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_optional_fields_are_stored_as_nothing(value):
    for field in ("contact_name", "contact_email", "phone", "notes"):
        assert clean_field(field, value) is None


def test_name_is_trimmed_and_required():
    assert clean_field("name", "  Altai Mining ") == "Altai Mining"
    for bad in (None, "", "   ", "x" * 201):
        with pytest.raises(InvalidInput) as caught:
            clean_field("name", bad)
        assert caught.value.field == "name"


def test_status_is_one_of_three():
    for status in ("active", "paused", "ended"):
        assert clean_field("status", status) == status
    for bad in ("Active", "closed", "", None):
        with pytest.raises(InvalidInput, match="active, paused, ended"):
            clean_field("status", bad)


def test_phone_numbers_as_people_write_them():
    for phone in ("+7 (701) 123-45-67", "138 0013 8000", "010.1234.5678", "+86/10/12345678"):
        assert clean_field("phone", phone) == phone
    for bad in ("call me", "ops@example.com", "+", "---", "1" * 51):
        with pytest.raises(InvalidInput):
            clean_field("phone", bad)


def test_text_fields_have_limits_and_must_be_text():
    assert clean_field("notes", "n" * 5000) == "n" * 5000
    with pytest.raises(InvalidInput, match="at most 5000"):
        clean_field("notes", "n" * 5001)
    with pytest.raises(InvalidInput, match="must be text"):
        clean_field("contact_name", 12)
