"""Background work on huey: one Huey per app, periodic tasks from plugins, after-commit jobs.

Everything that runs in the worker runs inside a request and a transaction, exactly like a
web request, so services, ``request.dbsession`` and the audit trail behave the same there.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from huey import MemoryHuey, RedisHuey, SqliteHuey
from pyramid.exceptions import ConfigurationError
from pyramid.scripting import prepare

from hashinsight_core.settings import asbool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    """A job a plugin wants run on a schedule (see ``hashinsight_periodic_tasks``)."""

    schedule: Callable  # a huey.crontab(...)
    func: Callable[[Any], Any]  # called as func(request)
    name: str  # "<plugin>.<job>"


def job(func: Callable) -> Callable:
    """Mark ``func(request, *args)`` as safe to run from ``request.enqueue``."""
    func.__hashinsight_job__ = True
    return func


def make_huey(settings):
    backend = settings.get("huey.backend", "memory")
    name = settings.get("huey.name", "hashinsight")
    immediate = asbool(settings.get("huey.immediate", False))
    if backend == "sqlite":
        path = settings.get("huey.sqlite_path")
        if not path:
            raise ConfigurationError("huey.backend = sqlite needs huey.sqlite_path")
        return SqliteHuey(name, filename=path, immediate=immediate)
    if backend == "redis":
        url = settings.get("redis.url")
        if not url:
            raise ConfigurationError("huey.backend = redis needs redis.url or REDIS_URL")
        return RedisHuey(name, url=url, immediate=immediate)
    if backend == "memory":
        return MemoryHuey(name, immediate=immediate)
    raise ConfigurationError(f"unknown huey.backend '{backend}' (use sqlite, redis or memory)")


def run_in_request(registry, func: Callable, *args, **kwargs):
    """Run ``func(request, *args, **kwargs)`` inside a fresh request and transaction."""
    env = prepare(registry=registry)
    request = env["request"]
    try:
        with request.tm:
            return func(request, *args, **kwargs)
    finally:
        env["closer"]()


def _resolve_job(dotted: str) -> Callable:
    module_name, _, attr = dotted.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not getattr(target, "__hashinsight_job__", False):
        raise ValueError(f"{dotted} is not marked with @hashinsight_core.tasks.job")
    return target


def register_periodic(huey, registry, spec: PeriodicTask):
    def run():
        # lock_task keeps a slow run from overlapping the next one on another consumer.
        with huey.lock_task(spec.name):
            run_in_request(registry, spec.func)

    run.__name__ = spec.name.replace(".", "_")
    return huey.periodic_task(spec.schedule, name=spec.name)(run)


def includeme(config):
    settings = config.get_settings()
    registry = config.registry
    huey = settings.get("hashinsight.huey") or make_huey(settings)
    registry["huey"] = huey

    @huey.task(name="hashinsight.job")
    def run_job(dotted: str, args: tuple, kwargs: dict):
        return run_in_request(registry, _resolve_job(dotted), *args, **kwargs)

    registry["huey.run_job"] = run_job

    def enqueue(request, func: Callable, *args, **kwargs) -> None:
        """Queue ``func(request, *args, **kwargs)`` to run only if this transaction commits."""
        dotted = f"{func.__module__}:{func.__qualname__}"
        _resolve_job(dotted)  # fail now, in the caller, rather than later in the worker

        def after_commit(success: bool) -> None:
            if success:
                run_job(dotted, args, kwargs)

        request.tm.get().addAfterCommitHook(after_commit)

    config.add_request_method(enqueue, "enqueue")

    def register_tasks():
        # name -> huey task wrapper; call_local() runs one now (tests, `hashinsight` CLI).
        wrappers: dict = {}
        for specs in registry.plugin_manager.hook.hashinsight_periodic_tasks():
            for spec in specs or ():
                if spec.name in wrappers:
                    raise ConfigurationError(f"periodic task '{spec.name}' is declared twice")
                wrappers[spec.name] = register_periodic(huey, registry, spec)
        registry["periodic_tasks"] = wrappers
        registry["periodic_task_names"] = sorted(wrappers)

    register_tasks()
