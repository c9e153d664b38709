"""The CRM works on the core's customers (``core_customers``): customers are the unit of
ABAC isolation, so every plugin can scope by them even when the CRM is switched off."""

from __future__ import annotations

from hashinsight_core.models import CUSTOMER_STATUSES as STATUSES
from hashinsight_core.models import Customer

__all__ = ["STATUSES", "Customer"]
