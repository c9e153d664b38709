"""Market and network data: BTC price, difficulty, hashrate, height, fees, next retarget and
hashprice, from several providers with fallback and a stale-while-revalidate cache.

Other code reads the market through :func:`current`::

    from hashinsight_core import market

    snapshot = market.current(request)          # or market.current(dbsession)
    snapshot.price_usd.value, snapshot.price_usd.source, snapshot.price_usd.stale

Layout: ``figures`` (names, ranges, hashprice arithmetic; pure), ``providers`` (HTTP and one
parser per provider and figure), ``service`` (read, refresh, overrides, history), ``models``,
``importer`` (CSV), ``views`` (API and admin page), ``schemas`` (OpenAPI fragment), ``cli``
(``hashinsight market ...``) and ``hooks`` (menu entry, API paths, periodic refresh).
docs/market-data.md draws the fallback and refresh flow.
"""

from __future__ import annotations

import importlib

__all__ = ["Figure", "MarketSnapshot", "current", "includeme"]


def current(request_or_dbsession, config=None, now=None):
    """The market now: see :func:`hashinsight_core.market.service.current`."""
    from hashinsight_core.market import service

    return service.current(request_or_dbsession, config, now)


def __getattr__(name: str):
    # Imported on first use, so ``hashinsight --help`` does not load SQLAlchemy and httpx.
    if name in ("Figure", "MarketSnapshot", "MarketConfig"):
        from hashinsight_core.market import service

        return getattr(service, name)
    raise AttributeError(name)


HOOKS_NAME = "core.market"


def readiness(registry) -> str:
    """A line for ``/readyz`` that never fails it: farms run offline, and that is fine."""
    from hashinsight_core.market.service import read_snapshot

    try:
        session = registry["dbsession_factory"]()
        try:
            snapshot = read_snapshot(session, registry["market.config"])
        finally:
            session.close()
    except Exception as error:  # noqa: BLE001 - the database check reports database trouble
        return f"unknown ({type(error).__name__})"
    if snapshot.empty:
        return "no market data yet (hashinsight market refresh, or market import)"
    price = snapshot.price_usd
    mode = "offline mode; " if registry["market.config"].offline else ""
    if price.available:
        state = "stale" if price.stale else "fresh"
        return f"{mode}price {state}, {price.age_s} s old, from {price.source}"
    return f"{mode}no price stored"


def _contribute_late(config, hooks) -> None:
    """Add the API fragment and the periodic task when this area's hooks were not registered
    before the document and the task list were built (the core includes this part after
    ``openapi`` and ``tasks``)."""
    from openapi_core import OpenAPI

    from hashinsight_core.openapi import merge
    from hashinsight_core.tasks import register_periodic

    registry = config.registry
    document = registry["openapi_document"]
    merged = merge([document, hooks.hashinsight_api_paths()], document["info"])
    registry["openapi_document"] = merged
    registry["openapi"] = OpenAPI.from_dict(merged)
    wrappers = registry.setdefault("periodic_tasks", {})
    for spec in hooks.hashinsight_periodic_tasks():
        wrappers[spec.name] = register_periodic(registry["huey"], registry, spec)
    registry["periodic_task_names"] = sorted(wrappers)


def includeme(config):
    from hashinsight_core.market import hooks
    from hashinsight_core.market.service import MarketConfig, _Throttle

    importlib.import_module("hashinsight_core.market.models")
    registry = config.registry
    registry["market.config"] = MarketConfig.from_settings(config.get_settings())
    registry["market.throttle"] = _Throttle()

    config.add_route("core.api.market", "/api/v1/market")
    config.add_route("core.api.market.history", "/api/v1/market/history")
    config.add_route("core.api.market.overrides", "/api/v1/market/overrides")
    config.add_route("core.api.market.override", "/api/v1/market/overrides/{figure}")
    config.add_route("core.market.admin", "/admin/market/")
    config.add_route("core.market.override", "/admin/market/overrides/")
    config.add_route("core.market.override_clear", "/admin/market/overrides/clear/")
    config.add_route("core.market.refresh", "/admin/market/refresh/")
    config.scan("hashinsight_core.market.views")

    pm = registry.plugin_manager
    if pm.get_plugin(HOOKS_NAME) is None:
        pm.register(hooks, name=HOOKS_NAME)  # the menu entry is asked for per request
        _contribute_late(config, hooks)
    registry.setdefault("readiness_checks", {})["market"] = lambda: readiness(registry)
