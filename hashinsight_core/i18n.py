"""English and Chinese: gettext catalogs, a sticky language choice, strings for scripts.

The locale comes from the ``_LOCALE_`` cookie (set by the language switch), then the
browser's Accept-Language, then ``i18n.default_locale``. Strings used by JavaScript are
translated on the server from the same catalog and handed to ``static/js/i18n.js``.
"""

from __future__ import annotations

import json

from markupsafe import Markup
from pyramid.i18n import TranslationStringFactory

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
    default = request.registry.settings["i18n.default_locale"]
    if request.accept_language:
        return request.accept_language.lookup(available, default=default)
    return default


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
