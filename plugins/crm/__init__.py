"""CRM: the hosting provider's customers now; leads, deals, activities and invoices next."""

from hashinsight_core.models import Customer
from hashinsight_core.scoping import object_factory


def includeme(config):
    config.add_route("crm.customer.list", "/crm/customers/")
    config.add_route("crm.api.customer.collection", "/api/v1/crm/customers")
    config.add_route(
        "crm.api.customer.item",
        "/api/v1/crm/customers/{customer_id:\\d+}",
        factory=object_factory(Customer, "customer_id"),
    )
    config.scan("plugins.crm.views")
