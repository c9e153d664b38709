"""The tamper-evident audit chain: ``request.audit(...)``, verification, signed checkpoints.

Layout: ``chain`` (pure hashing, verification and checkpoint notes), ``keys`` (where the
signing key comes from), ``models`` (tables), ``service`` (append/verify/sign on a
connection), ``views`` (page, CSV, API), ``cli`` (``hashinsight audit ...``) and ``hooks``
(task, permissions, menu entry and API paths, contributed like a plugin's). docs/audit.md
describes the format and the guarantees.
"""

from __future__ import annotations


def readiness(registry) -> str:
    """A line for ``/readyz``: whether this process signs checkpoints, and the newest one."""
    from hashinsight_core.audit import service

    keys = registry["audit.keys"]
    with registry["dbengine"].connect() as connection:
        newest = service.newest_checkpoint_row(connection)
    latest = (
        f"newest checkpoint: size {newest.tree_size} at {newest.signed_at:%Y-%m-%dT%H:%M:%SZ}"
        if newest
        else "no checkpoint yet"
    )
    if keys.can_sign:
        return f"signing as {keys.origin} (key {keys.key_id}); {latest}"
    if keys.trusted:
        return f"verify only: this process holds no signing key; {latest}"
    return f"checkpoints off: no signing key (hashinsight audit keygen); {latest}"


def includeme(config):
    from hashinsight_core.audit.keys import load_keys
    from hashinsight_core.audit.service import request_audit

    registry = config.registry
    registry["audit.keys"] = load_keys(config.get_settings())
    config.add_request_method(request_audit, "audit")

    config.add_route("core.audit.list", "/admin/audit/")
    config.add_route("core.audit.export", "/admin/audit/export.csv")
    config.add_route("core.audit.verify", "/admin/audit/verify/")
    config.add_route("core.audit.checkpoint", "/admin/audit/checkpoint/")
    config.add_route("core.api.audit.verify", "/api/v1/audit/verify")
    config.add_route("core.api.audit.events", "/api/v1/audit/events")
    config.add_route("core.api.audit.checkpoints", "/api/v1/audit/checkpoints")
    config.add_route("core.api.audit.checkpoint_latest", "/api/v1/audit/checkpoints/latest")
    config.scan("hashinsight_core.audit.views")

    registry.setdefault("readiness_checks", {})["audit"] = lambda: readiness(registry)
