"""What the audit area contributes through the plugin hooks."""

import datetime as dt

from hashinsight_core.audit import hooks
from hashinsight_core.audit.permissions import AuditPermission


def test_checkpoints_are_scheduled_every_five_minutes():
    """The window in which deleting the newest events goes unnoticed is one interval."""
    (task,) = hooks.hashinsight_periodic_tasks()
    assert task.name == hooks.CHECKPOINT_TASK == "core.audit_checkpoint"
    start = dt.datetime(2026, 5, 9, 0, 0)
    fired = [m for m in range(120) if task.schedule(start + dt.timedelta(minutes=m))]
    assert fired == list(range(0, 120, 5))


def test_reading_is_for_owners_and_admins_signing_for_owners():
    grants = {str(spec.permission): tuple(spec.roles) for spec in hooks.hashinsight_permissions()}
    # Owners hold every permission through the root ACL; nobody else is granted signing.
    assert grants == {AuditPermission.READ: ("admin",), AuditPermission.CHECKPOINT: ()}


def test_api_paths_are_the_cores():
    paths = hooks.hashinsight_api_paths()["paths"]
    operations = [op for item in paths.values() for op in item.values()]
    assert all(op["operationId"].startswith("core.audit.") for op in operations)
    assert set(paths) == {
        "/api/v1/audit/verify",
        "/api/v1/audit/events",
        "/api/v1/audit/checkpoints",
        "/api/v1/audit/checkpoints/latest",
    }
