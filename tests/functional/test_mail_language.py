"""Mail is written in its recipient's language, whoever sends it.

An account's language is the one it last picked with the language switch, or the one it
logged in with; pages follow it on a browser that has not picked one.
"""

# The farm fixture is the alerts tests' (imported below), so test parameters "redefine" it.
# ruff: noqa: F811

from __future__ import annotations

import gettext
from pathlib import Path

import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core.models import User
from tests.conftest import PASSWORD, csrf_token, make_user
from tests.functional.test_alerts import farm  # noqa: F401 - the same two-customer farm
from tests.functional.test_tickets import TICKETS, new_ticket, post

CATALOG = Path(__file__).resolve().parents[2] / "hashinsight_core" / "locale"


def zh(text: str) -> str:
    chinese = gettext.translation("hashinsight", CATALOG, ["zh"]).gettext(text)
    assert chinese != text, f"no Chinese for {text!r}"
    return chinese


def browser(app: TestApp, language: str) -> TestApp:
    """A new browser whose Accept-Language is ``language`` and that has picked nothing."""
    environ = {**app.extra_environ, "HTTP_ACCEPT_LANGUAGE": language}
    return TestApp(app.app, extra_environ=environ)


def sign_in(client: TestApp, email: str) -> None:
    client.post(
        "/login/", {"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    ).maybe_follow()


def log_in(client: TestApp, engine, role: str, email: str, customer_id=None) -> None:
    """A new account of ``role``, signed in on ``client``."""
    make_user(engine, role, email, customer_id=customer_id)
    sign_in(client, email)


def locale_of(engine, email: str):
    with engine.connect() as conn:
        return conn.scalar(sa.select(User.locale).where(User.email == email))


def test_the_account_keeps_the_language_it_logs_in_with_and_the_one_it_picks(make_app, engine):
    app, _ = make_app()
    chinese_browser = browser(app, "zh-CN,zh;q=0.9")
    log_in(chinese_browser, engine, "operator", "wei@farm.example")
    assert locale_of(engine, "wei@farm.example") == "zh"

    english_browser = browser(app, "en-GB")
    log_in(english_browser, engine, "operator", "eve@farm.example")
    assert locale_of(engine, "eve@farm.example") == "en"
    english_browser.get("/language/zh", headers={"Referer": "http://localhost/"})
    assert locale_of(engine, "eve@farm.example") == "zh"

    # On a new phone that asks for English and has picked nothing, Eve reads Chinese pages.
    phone = browser(app, "en-US")
    phone.post(
        "/login/",
        {"email": "eve@farm.example", "password": "x", "csrf_token": csrf_token(phone)},
        status=400,
    )  # (a wrong password first: nothing about the account changes)
    assert locale_of(engine, "eve@farm.example") == "zh"
    log_in(phone, engine, "operator", "eve2@farm.example")  # another account on that phone
    assert locale_of(engine, "eve2@farm.example") == "en"


def test_a_page_follows_the_accounts_language_on_a_browser_that_picked_none(make_app, engine):
    app, _ = make_app()
    first = browser(app, "en")
    log_in(first, engine, "operator", "li@farm.example")
    first.get("/language/zh", headers={"Referer": "http://localhost/"})
    second = browser(app, "en")
    sign_in(second, "li@farm.example")
    assert 'lang="zh-CN"' in second.get("/").maybe_follow().text
    # A choice on this browser wins over the account's, and becomes the account's.
    second.get("/language/en", headers={"Referer": "http://localhost/"})
    assert 'lang="en"' in second.get("/").maybe_follow().text
    assert locale_of(engine, "li@farm.example") == "en"


def test_ticket_mail_is_in_each_recipients_language(make_app, engine, farm):
    app, registry = make_app()
    outbox = registry["mailer"].outbox
    operator = browser(app, "en")
    log_in(operator, engine, "operator", "olga@farm.example")
    with engine.connect() as conn:
        olga = conn.scalar(sa.select(User.id).where(User.email == "olga@farm.example"))
    customer = browser(app, "zh-CN")
    log_in(customer, engine, "customer", "wang@alpha.example", customer_id=farm["A"])
    ticket = new_ticket(customer, [farm["a1"]], title="风扇很吵", body="二号风扇有噪音")
    path = f"{TICKETS}/{ticket['id']}"
    post(operator, path + "/assign", {"assignee_id": olga}, 200)

    # The English-speaking operator replies: the customer reads Chinese.
    post(operator, path + "/comments", {"body": "Fan ordered"}, 201)
    (mail,) = outbox
    assert mail.recipients == ["wang@alpha.example"]
    assert zh("There is a new reply on your ticket.") in mail.body
    assert zh("See the ticket and answer here:") in mail.body
    assert "There is a new reply" not in mail.body and "Fan ordered" in mail.body
    assert 'lang="zh-CN"' in mail.html
    outbox.clear()

    # A status line names both states in the customer's language.
    post(operator, path + "/status", {"status": "waiting_parts"}, 200)
    (mail,) = outbox
    assert zh("Waiting on parts") in mail.body and "Waiting on parts" not in mail.body
    outbox.clear()

    # The Chinese customer answers: the operator reads English.
    post(customer, path + "/comments", {"body": "谢谢"}, 201)
    (mail,) = outbox
    assert mail.recipients == ["olga@farm.example"]
    assert "The customer replied." in mail.body and "See the ticket and answer here:" in mail.body
    assert 'lang="en"' in mail.html


def test_a_password_reset_is_written_in_the_accounts_language(make_app, engine):
    app, registry = make_app()
    outbox = registry["mailer"].outbox
    chinese_browser = browser(app, "zh")
    log_in(chinese_browser, engine, "operator", "zhao@farm.example")
    # Asked for from an English browser: the mail is still in Chinese, Zhao's language.
    english_browser = browser(app, "en")
    english_browser.post(
        "/password/forgot/",
        {"email": "zhao@farm.example", "csrf_token": csrf_token(english_browser)},
    )
    (mail,) = outbox
    assert mail.subject == zh("Reset your password")
    # The page that answered stays in the asker's language.
    assert 'lang="en"' in english_browser.get("/password/forgot/").text
