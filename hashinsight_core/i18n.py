"""English and Chinese: gettext catalogs, a sticky language choice, strings for scripts.

The locale comes from the ``_LOCALE_`` cookie (set by the language switch), then the
signed-in account's language (``User.locale``: the last one it chose, or the one it logged
in with), then the browser's Accept-Language, then ``i18n.default_locale``. The account's
language is what e-mail to that account is written in (``speaking``), whoever sends it.
Strings used by JavaScript are translated on the server from the same catalog and handed
to ``static/js/i18n.js``.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from markupsafe import Markup
from pyramid.i18n import TranslationString, TranslationStringFactory
from pyramid.threadlocal import manager

_ = TranslationStringFactory("hashinsight")

LOCALE_COOKIE = "_LOCALE_"
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}

# Strings the shell's scripts show. Plugins add theirs with config.add_client_strings().
CORE_CLIENT_STRINGS = [
    _("Loading…"),
    _("Something went wrong. Please try again."),
    _("Copied"),
    _("Saved"),
]


def negotiate_locale(request) -> str:
    available = request.registry.settings["i18n.available_locales"]
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in available:
        return chosen
    user = request.user
    if user is not None and user.locale in available:
        return user.locale
    default = request.registry.settings["i18n.default_locale"]
    if request.accept_language:
        return request.accept_language.lookup(available, default=default)
    return default


def remember_language(request, user) -> None:
    """At log-in: the account keeps the language picked on this browser, or, when it has
    none yet, the one this browser asks for (so mail to it is in a language it reads). A
    client that asks for none leaves the account as it is."""
    available = request.registry.settings["i18n.available_locales"]
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in available:
        user.locale = chosen
    elif user.locale not in available and request.accept_language:
        user.locale = request.accept_language.lookup(available, default="") or user.locale


def translate(request, value):
    """``value`` in the request's language; a translation string's mapping values that are
    translation strings themselves (a status name inside a sentence) are translated too."""
    if not isinstance(value, TranslationString):
        return value
    if value.mapping and any(isinstance(v, TranslationString) for v in value.mapping.values()):
        mapping = {k: translate(request, v) for k, v in value.mapping.items()}
        value = TranslationString(value, mapping=mapping)
    return request.localizer.translate(value)


def problem_list(problems) -> TranslationString:
    """``[(field, message), ...]`` as one translatable message, "field: message; field:
    message" (``translate`` renders it; each message may be a translation string)."""
    parts = [
        _("${field}: ${problem}", mapping={"field": field, "problem": message})
        for field, message in problems
    ] or [_("The input is not valid.")]
    joined = parts[-1]
    for part in reversed(parts[:-1]):
        joined = _("${first}; ${rest}", mapping={"first": part, "rest": joined})
    return joined


_UNSET = object()


@contextmanager
def speaking(request, locale_name: str | None):
    """Within the block, ``request`` (and templates rendered for it) speak ``locale_name``:
    how mail is written in its recipient's language. Unknown or None: no change."""
    available = request.registry.settings["i18n.available_locales"]
    if locale_name not in available or locale_name == request.locale_name:
        yield request
        return
    saved = {key: request.__dict__.get(key, _UNSET) for key in ("locale_name", "localizer")}
    request.__dict__["locale_name"] = locale_name
    request.__dict__.pop("localizer", None)  # Pyramid builds (and caches) the new one
    # Jinja2's gettext asks the thread's current request; make it this one.
    manager.push({"request": request, "registry": request.registry})
    try:
        yield request
    finally:
        manager.pop()
        for key, value in saved.items():
            if value is _UNSET:
                request.__dict__.pop(key, None)
            else:
                request.__dict__[key] = value


def client_strings_json(request) -> Markup:
    """The script strings in the user's language, as JSON safe to embed in a <script> tag."""
    localizer = request.localizer
    data = {str(s): localizer.translate(s) for s in request.registry["client_strings"]}
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return Markup(text)  # noqa: S704 - JSON with "<" escaped cannot close the script tag


def add_client_strings(config, strings) -> None:
    config.registry["client_strings"].extend(strings)


def includeme(config):
    config.registry["client_strings"] = list(CORE_CLIENT_STRINGS)
    config.add_directive("add_client_strings", add_client_strings)
    config.add_translation_dirs("hashinsight_core:locale/")
    config.set_locale_negotiator(negotiate_locale)
    config.add_request_method(client_strings_json, "client_strings_json")
