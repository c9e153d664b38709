"""Every string a user can see has a Chinese translation, and the language choice sticks."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "hashinsight_core/locale/zh/LC_MESSAGES/hashinsight.po"
METHODS = [("**.py", "python"), ("**/templates/**.jinja2", "jinja2")]
OPTIONS = {"**/templates/**.jinja2": {"extensions": "jinja2.ext.i18n"}}


def source_messages() -> dict[str, str]:
    """msgid -> where it was found, for the core and every shipped plugin."""
    found = {}
    for folder in ("hashinsight_core", "plugins"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            # {% trans %} blocks come out as gettext/ngettext calls: keep the default keywords.
            ROOT / folder,
            METHODS,
            OPTIONS,
            keywords={**DEFAULT_KEYWORDS, "N_": None},
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, f"{folder}/{filename}:{lineno}")
    return found


def test_every_user_facing_string_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh")
    missing = []
    for msgid, where in sorted(source_messages().items()):
        message = catalog.get(msgid)
        text = message.string if message else ""
        if isinstance(text, tuple):
            text = text[0]
        if not text or (message and message.fuzzy):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, (
        "strings without a Chinese translation (run make extract, then translate):\n"
        + "\n".join(missing)
    )


def test_language_switch_sticks_and_translates_the_shell(webtest):
    assert "Log in" in webtest.get("/").text
    response = webtest.get("/language/zh", headers={"Referer": "http://localhost/docs/api/"})
    assert response.location.endswith("/docs/api/")
    page = webtest.get("/")
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    assert webtest.get("/login/").text.count("登录") >= 2  # still Chinese on the next page


def test_browser_language_is_used_until_the_user_chooses(webtest):
    page = webtest.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "首页" in page.text
    webtest.get("/language/en")
    page = webtest.get("/", headers={"Accept-Language": "zh-CN"})
    assert "Home" in page.text and "首页" not in page.text


def test_unknown_language_is_ignored(webtest):
    webtest.get("/language/xx")
    assert "_LOCALE_" not in webtest.cookies


def test_script_strings_are_translated_for_the_page(webtest):
    import json

    webtest.get("/language/zh")
    page = webtest.get("/")
    strings = json.loads(page.html.find("script", id="hi-i18n").string)
    assert strings["Saved"] == "已保存"
