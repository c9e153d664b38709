"""CRM: the hosting provider's customers now; leads, deals, activities and invoices next."""


def includeme(config):
    config.add_route("crm.customer.list", "/crm/customers/")
    config.add_route("crm.api.customer.collection", "/api/v1/crm/customers")
    config.add_route("crm.api.customer.item", "/api/v1/crm/customers/{customer_id:\\d+}")
    config.scan("plugins.crm.views")
