"""HashInsight core: the Pyramid app factory that the plugins plug into.

Order matters here and is the whole design (see docs/architecture.md): settings, then the
plugin list is checked, then the core wires database, tasks, security, i18n, nav and the API
document, and only then is each enabled plugin asked to include itself.
"""

from __future__ import annotations

import importlib

from pyramid.config import Configurator
from pyramid.csrf import CookieCSRFStoragePolicy

from hashinsight_core import plugins as plugin_loader
from hashinsight_core.hookspecs import hookimpl
from hashinsight_core.settings import is_production, resolve

__all__ = ["hookimpl", "main", "make_config"]

CORE_MODEL_MODULES = [
    "hashinsight_core.models",
    "hashinsight_core.audit.models",
    "hashinsight_core.market.models",
]


def import_models(pm) -> list[str]:
    """Import the core's and the enabled plugins' model modules; return their names."""
    names = list(CORE_MODEL_MODULES)
    for modules in pm.hook.hashinsight_models():
        names.extend(modules or ())
    for name in names:
        importlib.import_module(name)
    return names


def make_config(settings: dict, environ=None) -> Configurator:
    settings = resolve(settings, environ)
    pm, enabled = plugin_loader.load(settings["hashinsight.plugins"])
    # The core's own areas contribute through the same hooks as plugins (after loading, so
    # the plugin list and its requirement check only ever see real plugins).
    pm.register(importlib.import_module("hashinsight_core.audit.hooks"), name="core.audit")
    pm.register(importlib.import_module("hashinsight_core.market.hooks"), name="core.market")
    settings.setdefault("jinja2.i18n.domain", "hashinsight")
    settings.setdefault("jinja2.filters", "")
    config = Configurator(settings=settings)
    config.registry.plugin_manager = pm
    config.registry["enabled_plugins"] = enabled
    config.registry["model_modules"] = import_models(pm)

    config.include("pyramid_jinja2")
    config.include("pyramid_services")
    config.set_csrf_storage_policy(
        CookieCSRFStoragePolicy(secure=is_production(settings), samesite="Lax")
    )
    from hashinsight_core.security import uses_token

    config.set_default_csrf_options(require_csrf=True, callback=lambda r: not uses_token(r))

    for part in (
        "db",
        "tasks",
        "events",
        "mail",
        "sessions",
        "throttle",
        "security",
        "scoping",
        "i18n",
        "nav",
        "openapi",
        "web",
        "errors",
        "health",
        "market",
        "views",
        "admin",
        "search",
    ):
        config.include(f"hashinsight_core.{part}")

    pm.hook.hashinsight_configure(config=config)
    return config


def main(global_config, **settings):
    """The ``paste.app_factory`` entry point used by pserve, gunicorn and the CLI."""
    return make_config(settings).make_wsgi_app()
