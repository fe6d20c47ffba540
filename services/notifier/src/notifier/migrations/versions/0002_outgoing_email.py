"""Outgoing emails: one row per source event, from queued to delivered or failed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outgoing_email",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_event_id", sa.Uuid(), nullable=False),
        sa.Column("source_event_type", sa.String(length=100), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("recipient_key", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("mime", sa.LargeBinary(), nullable=True),
        sa.Column("redacted_text", sa.Text(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'delivered', 'failed')", name="ck_outgoing_email_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outgoing_email"),
        sa.UniqueConstraint("source_event_id", name="uq_outgoing_email_source_event_id"),
    )
    op.create_index("ix_outgoing_email_recipient_key", "outgoing_email", ["recipient_key"])
    op.create_index(
        "ix_outgoing_email_due",
        "outgoing_email",
        ["priority", "next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outgoing_email_due", table_name="outgoing_email")
    op.drop_index("ix_outgoing_email_recipient_key", table_name="outgoing_email")
    op.drop_table("outgoing_email")
