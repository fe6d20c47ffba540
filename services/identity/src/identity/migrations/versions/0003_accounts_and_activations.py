"""accounts and activations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invited_language", sa.String(length=2), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("terms_version", sa.String(length=40), nullable=True),
        sa.Column("privacy_version", sa.String(length=40), nullable=True),
        sa.Column("terms_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("two_factor", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    op.create_table(
        "activations",
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_ref", sa.String(length=100), nullable=False),
        sa.Column("evaluation_name", sa.String(length=200), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_activations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("invitation_id", name=op.f("pk_activations")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_activations_code_digest")),
    )
    op.create_table(
        "activation_tokens",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["activations.invitation_id"],
            name=op.f("fk_activation_tokens_invitation_id_activations"),
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_activation_tokens")),
    )


def downgrade() -> None:
    op.drop_table("activation_tokens")
    op.drop_table("activations")
    op.drop_table("accounts")
