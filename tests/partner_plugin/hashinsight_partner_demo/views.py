import sqlalchemy as sa
from pyramid.view import view_config

from hashinsight_partner_demo.hooks import PartnerPermission
from hashinsight_partner_demo.models import Note


@view_config(
    route_name="partner_demo.note.list",
    permission=PartnerPermission.NOTE_READ,
    renderer="hashinsight_partner_demo:templates/notes.jinja2",
)
def note_list(request):
    return {"notes": list(request.dbsession.scalars(sa.select(Note).order_by(Note.id)))}


@view_config(
    route_name="partner_demo.api.note.count",
    permission=PartnerPermission.NOTE_READ,
    renderer="json",
    openapi=True,
)
def note_count(request):
    return {"count": request.dbsession.scalar(sa.select(sa.func.count(Note.id)))}
