"""Brand pages (admins): list, create, edit, host names, images, customers, delete; and the
public route serving brand images by their digest.

Item routes load the brand through ``object_factory`` (a brand is invisible to customer
accounts, so they get the same 404 as for a missing id). Every form answer on bad input is a
4xx page naming the problem, with nothing written.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError
from hashinsight_core.models import Customer
from hashinsight_core.scoping import object_factory
from plugins.hosting.brands import services
from plugins.hosting.brands.images import MAX_BYTES
from plugins.hosting.brands.models import Brand, BrandHost, CustomerBrand
from plugins.hosting.brands.permissions import BrandPermission as P

_ = TranslationStringFactory("hashinsight")
T = "plugins.hosting:templates/hosting/"
# A year: the URL is the content's SHA-256, so a changed image is a new URL.
IMAGE_MAX_AGE = 365 * 24 * 3600


def includeme(config):
    add = config.add_route
    add("hosting.brand.list", "/hosting/brands/")
    add("hosting.brand.create", "/hosting/brands/new")
    item = object_factory(Brand, "brand_id")
    add("hosting.brand.edit", "/hosting/brands/{brand_id:\\d+}/", factory=item)
    add("hosting.brand.host.add", "/hosting/brands/{brand_id:\\d+}/hosts", factory=item)
    add("hosting.brand.host.remove", "/hosting/brands/{brand_id:\\d+}/hosts/remove", factory=item)
    add("hosting.brand.images", "/hosting/brands/{brand_id:\\d+}/images", factory=item)
    add("hosting.brand.customers", "/hosting/brands/{brand_id:\\d+}/customers", factory=item)
    add("hosting.brand.delete", "/hosting/brands/{brand_id:\\d+}/delete", factory=item)
    add("hosting.brand.image", "/brand-assets/{digest:[0-9a-f]{64}}")
    config.scan("plugins.hosting.brands.views")


def _form_values(brand: Brand | None, form=None) -> dict:
    if form is not None:
        return {key: form.get(key, "") for key in services.FIELDS} | {
            "is_default": form.get("is_default") in ("on", "true", "1")
        }
    if brand is None:
        return {key: "" for key in services.FIELDS} | {
            "primary_color": "#f7931a",
            "background_color": "#1a1d2e",
            "is_default": False,
        }
    return {key: getattr(brand, key) for key in services.FIELDS} | {"is_default": brand.is_default}


def _edit_context(request, brand: Brand, error=None, form=None, field=None) -> dict:
    db = request.dbsession
    hosts = db.scalars(
        sa.select(BrandHost).where(BrandHost.brand_id == brand.id).order_by(BrandHost.host)
    ).all()
    assigned = dict(db.execute(sa.select(CustomerBrand.customer_id, CustomerBrand.brand_id)).all())
    brand_names = dict(db.execute(sa.select(Brand.id, Brand.name)).all())
    customers = [
        {
            "id": c.id,
            "name": c.name,
            "checked": assigned.get(c.id) == brand.id,
            "other": brand_names.get(assigned[c.id])
            if assigned.get(c.id) not in (None, brand.id)
            else None,
        }
        for c in db.scalars(sa.select(Customer).order_by(Customer.name))
    ]
    return {
        "item": brand,
        "values": _form_values(brand, form),
        "hosts": hosts,
        "customers": customers,
        "error": error,
        "error_field": field,
        "max_kb": {k: v // 1024 for k, v in MAX_BYTES.items()},
        "image_url": lambda digest: request.route_path("hosting.brand.image", digest=digest),
    }


def _fail(request, brand: Brand, error: DomainError, form=None) -> dict:
    request.response.status_int = error.status
    return _edit_context(request, brand, error=error.message, form=form, field=error.field)


def _back(request, brand: Brand, notice: str = "") -> HTTPSeeOther:
    query = {"saved": notice} if notice else {}
    return HTTPSeeOther(request.route_path("hosting.brand.edit", brand_id=brand.id, _query=query))


@view_config(
    route_name="hosting.brand.list",
    renderer=T + "brands.jinja2",
    request_method="GET",
    permission=P.MANAGE,
)
def brand_list(request):
    db = request.dbsession
    brands = db.scalars(sa.select(Brand).order_by(Brand.name)).all()
    hosts: dict[int, list[str]] = {}
    for brand_id, host in db.execute(
        sa.select(BrandHost.brand_id, BrandHost.host).order_by(BrandHost.host)
    ):
        hosts.setdefault(brand_id, []).append(host)
    counts = dict(
        db.execute(
            sa.select(CustomerBrand.brand_id, sa.func.count()).group_by(CustomerBrand.brand_id)
        ).all()
    )
    return {"brands": brands, "hosts": hosts, "counts": counts}


@view_config(
    route_name="hosting.brand.create",
    renderer=T + "brand_form.jinja2",
    request_method="GET",
    permission=P.MANAGE,
)
def brand_new(request):
    return {"item": None, "values": _form_values(None), "error": None, "error_field": None}


@view_config(
    route_name="hosting.brand.create",
    renderer=T + "brand_form.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def brand_create(request):
    try:
        brand = services.create_brand(request, request.POST)
    except DomainError as error:
        request.response.status_int = error.status
        return {
            "item": None,
            "values": _form_values(None, request.POST),
            "error": error.message,
            "error_field": error.field,
        }
    return _back(request, brand, "created")


@view_config(
    route_name="hosting.brand.edit",
    renderer=T + "brand_edit.jinja2",
    request_method="GET",
    permission=P.MANAGE,
)
def brand_edit(context, request):
    return _edit_context(request, context.object)


@view_config(
    route_name="hosting.brand.edit",
    renderer=T + "brand_edit.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def brand_update(context, request):
    try:
        services.update_brand(request, context.object, request.POST)
    except DomainError as error:
        return _fail(request, context.object, error, form=request.POST)
    return _back(request, context.object, "saved")


@view_config(
    route_name="hosting.brand.host.add",
    renderer=T + "brand_edit.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def host_add(context, request):
    try:
        services.add_host(request, context.object, request.POST.get("host", ""))
    except DomainError as error:
        return _fail(request, context.object, error)
    return _back(request, context.object, "host")


@view_config(
    route_name="hosting.brand.host.remove",
    renderer=T + "brand_edit.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def host_remove(context, request):
    try:
        services.remove_host(request, context.object, request.POST.get("host_id"))
    except DomainError as error:
        return _fail(request, context.object, error)
    return _back(request, context.object, "host")


@view_config(
    route_name="hosting.brand.images",
    renderer=T + "brand_edit.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def image_upload(context, request):
    kind = request.POST.get("kind", "")
    try:
        if request.POST.get("remove"):
            services.remove_image(request, context.object, kind)
        else:
            upload = request.POST.get("file")
            data = b""
            if hasattr(upload, "file"):
                # Read one byte past the largest limit: enough to refuse, never the whole body.
                data = upload.file.read(max(MAX_BYTES.values()) + 1)
            services.set_image(request, context.object, kind, data)
    except DomainError as error:
        return _fail(request, context.object, error)
    return _back(request, context.object, "image")


@view_config(
    route_name="hosting.brand.customers",
    renderer=T + "brand_edit.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def customers_set(context, request):
    try:
        services.set_customers(request, context.object, request.POST.getall("customer_id"))
    except DomainError as error:
        return _fail(request, context.object, error)
    return _back(request, context.object, "customers")


@view_config(
    route_name="hosting.brand.delete",
    request_method="POST",
    permission=P.MANAGE,
)
def brand_delete(context, request):
    services.delete_brand(request, context.object)
    return HTTPSeeOther(request.route_path("hosting.brand.list"))


@view_config(route_name="hosting.brand.image", permission=P.ASSET_READ, request_method="GET")
def brand_image(request):
    image = services.brand_image(request.dbsession, request.matchdict["digest"])
    if image is None:
        raise HTTPNotFound(request.localizer.translate(_("no such image")))
    response = Response(body=image.data, content_type=image.content_type)
    response.cache_control.public = True
    response.cache_control.max_age = IMAGE_MAX_AGE
    response.headers["Cache-Control"] += ", immutable"
    response.etag = image.digest
    response.headers["Content-Disposition"] = "inline"
    return response
