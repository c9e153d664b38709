from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError
from hashinsight_core.openapi import MAX_LIMIT, paginate
from plugins.crm import services
from plugins.crm.models import Customer
from plugins.crm.permissions import CrmPermission

_ = TranslationStringFactory("hashinsight")

TEMPLATE = "plugins.crm:templates/crm/customers.jinja2"
PAGE_SIZE = MAX_LIMIT  # the page lists this many; the search box finds the rest
STATUS_LABELS = {"active": _("Active"), "paused": _("Paused"), "ended": _("Ended")}
FORM_FIELDS = ("name", "contact_name", "contact_email", "phone", "status", "notes")


def _page(request, form: dict, error: str | None = None, field: str | None = None) -> dict:
    q = request.GET.get("q", "").strip()[:200]
    customers, total = services.search_customers(request.dbsession, q=q, limit=PAGE_SIZE)
    return {
        "customers": customers,
        "total": total,
        "q": q,
        "form": form,
        "error": error,
        "error_field": field,
        "status_labels": STATUS_LABELS,
    }


@view_config(
    route_name="crm.customer.list",
    renderer=TEMPLATE,
    request_method="GET",
    permission=CrmPermission.CUSTOMER_READ,
)
def customer_list(request):
    return _page(request, {})


@view_config(
    route_name="crm.customer.list",
    renderer=TEMPLATE,
    request_method="POST",
    permission=CrmPermission.CUSTOMER_WRITE,
)
def customer_create_form(request):
    form = {k: request.POST.get(k, "") for k in FORM_FIELDS}
    try:
        services.create_customer(request, **{**form, "status": form["status"] or "active"})
    except DomainError as error:
        request.response.status_int = error.status
        return _page(request, form, request.localizer.translate(error.message), error.field)
    return HTTPSeeOther(request.route_path("crm.customer.list"))


def _customer_or_404(request):
    # The route's factory loaded it through the scoped session (missing or foreign → 404).
    return request.context.object


@view_config(
    route_name="crm.api.customer.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CrmPermission.CUSTOMER_READ,
)
def api_customer_list(request):
    query = request.openapi.parameters.query
    customers = services.customer_query(q=query.get("q"), status=query.get("status"))
    return paginate(request, customers, Customer.as_dict)


@view_config(
    route_name="crm.api.customer.collection",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=CrmPermission.CUSTOMER_WRITE,
)
def api_customer_create(request):
    customer = services.create_customer(request, **request.openapi.body)
    request.response.status_int = 201
    return customer.as_dict()


@view_config(
    route_name="crm.api.customer.item",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CrmPermission.CUSTOMER_READ,
)
def api_customer_get(request):
    return _customer_or_404(request).as_dict()


@view_config(
    route_name="crm.api.customer.item",
    request_method="PATCH",
    renderer="json",
    openapi=True,
    permission=CrmPermission.CUSTOMER_WRITE,
)
def api_customer_update(request):
    customer = _customer_or_404(request)
    return services.update_customer(request, customer, request.openapi.body).as_dict()
