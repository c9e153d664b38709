"""hosting: alert rules, alerts, the evaluator's state and webhook deliveries

Revision ID: 9c3d4e5f6071
Revises: 8b2c3d4e5f60
Create Date: 2026-12-04 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "9c3d4e5f6071"
down_revision = "8b2c3d4e5f60"
branch_labels = None
depends_on = None

KINDS = (
    "offline",
    "low_hashrate",
    "high_temp",
    "fan_failure",
    "board_missing",
    "pool_down",
    "reject_rate",
    "device_silent",
)


def listed(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "hosting_alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("model_name", sa.String(length=100), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("clear_threshold", sa.Float(), nullable=True),
        sa.Column("for_minutes", sa.Integer(), nullable=False),
        sa.Column("clear_minutes", sa.Integer(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("email_to", sa.String(length=1000), nullable=False),
        sa.Column("email_roles", sa.String(length=200), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=False),
        sa.Column("webhook_secret", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"kind IN ({listed(KINDS)})", name=op.f("ck_hosting_alert_rules_kind")),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')",
            name=op.f("ck_hosting_alert_rules_severity"),
        ),
        sa.CheckConstraint(
            "for_minutes >= 0 AND clear_minutes >= 0 AND window_minutes >= 5",
            name=op.f("ck_hosting_alert_rules_minutes"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["core_customers.id"],
            name=op.f("fk_hosting_alert_rules_customer_id_core_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_hosting_alert_rules_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["hosting_zones.id"],
            name=op.f("fk_hosting_alert_rules_zone_id_hosting_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_alert_rules")),
    )
    op.create_index(
        op.f("ix_hosting_alert_rules_customer_id"), "hosting_alert_rules", ["customer_id"]
    )
    op.create_index(op.f("ix_hosting_alert_rules_site_id"), "hosting_alert_rules", ["site_id"])

    op.create_table(
        "hosting_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_label", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("ack_note", sa.String(length=500), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolve_note", sa.String(length=500), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')", name=op.f("ck_hosting_alerts_status")
        ),
        sa.CheckConstraint(
            "subject_type IN ('miner', 'device')", name=op.f("ck_hosting_alerts_subject_type")
        ),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN "
            "('cleared', 'manual', 'rule_disabled', 'rule_deleted', 'rule_changed')",
            name=op.f("ck_hosting_alerts_resolution"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["hosting_alert_rules.id"],
            name=op.f("fk_hosting_alerts_rule_id_hosting_alert_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_alerts")),
        sa.UniqueConstraint("open_key", name=op.f("uq_hosting_alerts_open_key")),
    )
    op.create_index("ix_hosting_alerts_status_opened_at", "hosting_alerts", ["status", "opened_at"])
    op.create_index("ix_hosting_alerts_site_status", "hosting_alerts", ["site_id", "status"])
    op.create_index(
        "ix_hosting_alerts_customer_status", "hosting_alerts", ["customer_id", "status"]
    )
    op.create_index("ix_hosting_alerts_rule_id", "hosting_alerts", ["rule_id"])
    op.create_index("ix_hosting_alerts_subject", "hosting_alerts", ["subject_type", "subject_id"])
    op.create_index("ix_hosting_alerts_opened_at", "hosting_alerts", ["opened_at"])

    op.create_table(
        "hosting_alert_states",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("true_since", sa.DateTime(), nullable=False),
        sa.Column("false_since", sa.DateTime(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["hosting_alerts.id"],
            name=op.f("fk_hosting_alert_states_alert_id_hosting_alerts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["hosting_alert_rules.id"],
            name=op.f("fk_hosting_alert_states_rule_id_hosting_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "rule_id", "subject_type", "subject_id", name=op.f("pk_hosting_alert_states")
        ),
    )
    op.create_index("ix_hosting_alert_states_alert_id", "hosting_alert_states", ["alert_id"])

    op.create_table(
        "hosting_alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')",
            name=op.f("ck_hosting_alert_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["hosting_alert_rules.id"],
            name=op.f("fk_hosting_alert_deliveries_rule_id_hosting_alert_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_alert_deliveries")),
    )
    op.create_index(
        "ix_hosting_alert_deliveries_rule_created",
        "hosting_alert_deliveries",
        ["rule_id", "created_at"],
    )
    op.create_index("ix_hosting_alert_deliveries_status", "hosting_alert_deliveries", ["status"])


def downgrade() -> None:
    op.drop_table("hosting_alert_deliveries")
    op.drop_table("hosting_alert_states")
    op.drop_table("hosting_alerts")
    op.drop_index(op.f("ix_hosting_alert_rules_site_id"), table_name="hosting_alert_rules")
    op.drop_index(op.f("ix_hosting_alert_rules_customer_id"), table_name="hosting_alert_rules")
    op.drop_table("hosting_alert_rules")
