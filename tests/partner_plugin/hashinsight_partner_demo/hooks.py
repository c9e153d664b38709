from enum import StrEnum

from huey import crontab

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from hashinsight_core.security import PermissionSpec
from hashinsight_core.tasks import PeriodicTask

TITLE = "Partner demo"
REQUIRES = ("hosting",)  # a partner may build on a shipped plugin


class PartnerPermission(StrEnum):
    NOTE_READ = "partner_demo:note:read"


def count_notes(request):
    """The periodic job: write one heartbeat note per run (tests call it directly)."""
    from hashinsight_partner_demo.models import Note

    request.dbsession.add(Note(text="heartbeat"))


@hookimpl
def hashinsight_configure(config):
    config.include("hashinsight_partner_demo")


@hookimpl
def hashinsight_models():
    return ["hashinsight_partner_demo.models"]


@hookimpl
def hashinsight_permissions():
    return [PermissionSpec(PartnerPermission.NOTE_READ, "Read partner notes", ("admin", "viewer"))]


@hookimpl
def hashinsight_nav_items(request):
    return [
        NavItem("Partner notes", "partner_demo.note.list", PartnerPermission.NOTE_READ, "star", 90)
    ]


@hookimpl
def hashinsight_periodic_tasks():
    return [PeriodicTask(crontab(minute="*/5"), count_notes, "partner_demo.heartbeat")]


@hookimpl
def hashinsight_api_paths():
    return {
        "paths": {
            "/api/v1/partner-demo/notes/count": {
                "get": {
                    "summary": "How many notes exist",
                    "operationId": "partner_demo.note.count",
                    "responses": {"200": {"description": "The count"}},
                }
            }
        }
    }
