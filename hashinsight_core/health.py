"""``/healthz``: the process answers. ``/readyz``: everything it needs answers too."""

from __future__ import annotations

import time

import sqlalchemy as sa

from hashinsight_core.permissions import CorePermission


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check()
        result = {"ok": True}
        if detail:
            result["detail"] = detail
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", with its reason
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def healthz(request):
    return {"status": "ok"}


def readyz(request):
    registry = request.registry
    settings = registry.settings

    def database():
        with registry["dbengine"].connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return registry["dbengine"].dialect.name

    def huey_storage():
        huey = registry["huey"]
        huey.pending_count()
        return type(huey).__name__

    checks = {"database": _timed(database), "tasks": _timed(huey_storage)}
    if settings.get("redis.url"):
        import redis

        def redis_ping():
            client = redis.Redis.from_url(settings["redis.url"], socket_timeout=2)
            try:
                client.ping()
            finally:
                client.close()

        checks["redis"] = _timed(redis_ping)
    # Areas add their own checks (the audit chain reports whether it signs checkpoints).
    for name, check in registry.get("readiness_checks", {}).items():
        checks[name] = _timed(check)
    ok = all(check["ok"] for check in checks.values())
    request.response.status_int = 200 if ok else 503
    return {"status": "ok" if ok else "fail", "checks": checks}


def includeme(config):
    config.add_route("core.healthz", "/healthz")
    config.add_view(
        healthz, route_name="core.healthz", renderer="json", permission=CorePermission.HEALTH_VIEW
    )
    config.add_route("core.readyz", "/readyz")
    config.add_view(
        readyz, route_name="core.readyz", renderer="json", permission=CorePermission.HEALTH_VIEW
    )
