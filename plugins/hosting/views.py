from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError
from hashinsight_core.openapi import paginate
from plugins.hosting import services
from plugins.hosting.models import Site
from plugins.hosting.permissions import HostingPermission

TEMPLATE = "plugins.hosting:templates/hosting/sites.jinja2"


@view_config(
    route_name="hosting.site.list",
    renderer=TEMPLATE,
    request_method="GET",
    permission=HostingPermission.SITE_READ,
)
def site_list(request):
    return {"sites": services.list_sites(request.dbsession), "error": None, "form": {}}


@view_config(
    route_name="hosting.site.list",
    renderer=TEMPLATE,
    request_method="POST",
    permission=HostingPermission.SITE_WRITE,
)
def site_create_form(request):
    form = {k: request.POST.get(k, "") for k in ("name", "timezone", "capacity_kw")}
    try:
        services.create_site(
            request, form["name"], form["timezone"] or "UTC", form["capacity_kw"] or 0
        )
    except DomainError as error:
        request.response.status_int = error.status
        return {
            "sites": services.list_sites(request.dbsession),
            "error": error.message,
            "form": form,
        }
    return HTTPSeeOther(request.route_path("hosting.site.list"))


@view_config(
    route_name="hosting.api.site.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=HostingPermission.SITE_READ,
)
def api_site_list(request):
    return paginate(request, services.site_query(), Site.as_dict)


@view_config(
    route_name="hosting.api.site.collection",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=HostingPermission.SITE_WRITE,
)
def api_site_create(request):
    body = request.openapi.body
    site = services.create_site(
        request, body["name"], body.get("timezone", "UTC"), body.get("capacity_kw", 0.0)
    )
    request.response.status_int = 201
    return site.as_dict()


@view_config(
    route_name="hosting.api.site.item",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=HostingPermission.SITE_READ,
)
def api_site_get(request):
    site = request.dbsession.get(Site, int(request.matchdict["site_id"]))
    if site is None:
        raise HTTPNotFound("no such site")
    return site.as_dict()
