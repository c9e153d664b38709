"""kpi models."""
