"""sign-in partners: the providers each institution offers, and the accounts' links

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("institutions") as table:
        table.add_column(sa.Column("partners", sa.String(40), nullable=False, server_default=""))
        table.add_column(sa.Column("microsoft_tenant", sa.String(64), nullable=True))
    with op.batch_alter_table("accounts") as table:
        table.add_column(sa.Column("activated_with", sa.String(16), nullable=True))
    op.create_table(
        "partner_links",
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_partner_links_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("issuer", "subject", name=op.f("pk_partner_links")),
        sa.UniqueConstraint("account_id", "provider", name=op.f("uq_partner_links_account_id")),
    )


def downgrade() -> None:
    op.drop_table("partner_links")
    with op.batch_alter_table("accounts") as table:
        table.drop_column("activated_with")
    with op.batch_alter_table("institutions") as table:
        table.drop_column("microsoft_tenant")
        table.drop_column("partners")
