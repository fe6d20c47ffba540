"""invitations, batches and the activated-address projection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activated_addresses",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_activated_addresses")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_table(
        "batch_rows",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_batch_rows_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("batch_id", "row_number", name=op.f("pk_batch_rows")),
    )
    with op.batch_alter_table("batch_rows", schema=None) as batch_op:
        batch_op.create_index("ix_batch_rows_pending", ["outcome", "batch_id"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("evaluation_ref", sa.String(length=100), nullable=False),
        sa.Column("evaluation_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_status", sa.String(length=16), nullable=False),
        sa.Column("email_error", sa.Text(), nullable=True),
        sa.Column("last_event_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_invitations_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_invitations_code_digest")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index("ix_invitations_due", ["status", "expires_at"], unique=False)
        batch_op.create_index("ix_invitations_email", ["email"], unique=False)
        batch_op.create_index(
            "ix_invitations_listing", ["institution_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_invitations_standing",
            ["institution_id", "email", "evaluation_ref"],
            unique=True,
            postgresql_where=sa.text("status IN ('pending', 'activated', 'enrolled')"),
            sqlite_where=sa.text("status IN ('pending', 'activated', 'enrolled')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_invitations_standing",
            postgresql_where=sa.text("status IN ('pending', 'activated', 'enrolled')"),
            sqlite_where=sa.text("status IN ('pending', 'activated', 'enrolled')"),
        )
        batch_op.drop_index("ix_invitations_listing")
        batch_op.drop_index("ix_invitations_email")
        batch_op.drop_index("ix_invitations_due")

    op.drop_table("invitations")
    with op.batch_alter_table("batch_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_rows_pending")

    op.drop_table("batch_rows")
    op.drop_table("batches")
    op.drop_table("activated_addresses")
