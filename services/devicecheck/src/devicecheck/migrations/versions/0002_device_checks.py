"""device-check runs and the per-account request budgets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _moment(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "device_checks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        _moment("started_at"),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("downloaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("upload_bps", sa.BigInteger(), nullable=True),
        sa.Column("pings", sa.Integer(), nullable=False),
        _moment("document_served_at", nullable=True),
        sa.Column("autosave_revision", sa.Integer(), nullable=False),
        sa.Column("autosave_content", sa.Text(), nullable=True),
        _moment("autosaved_at", nullable=True),
        _moment("judged_at", nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("failures", sa.JSON(), nullable=True),
        _moment("valid_until", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_checks")),
    )
    op.create_index(op.f("ix_device_checks_account_id"), "device_checks", ["account_id"])
    op.create_table(
        "request_budgets",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        _moment("window_started_at"),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_request_budgets")),
    )


def downgrade() -> None:
    op.drop_table("request_budgets")
    op.drop_index(op.f("ix_device_checks_account_id"), table_name="device_checks")
    op.drop_table("device_checks")
