"""how each account signs in, projected from SignInMethodsChanged

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_methods",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("methods", sa.String(length=40), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sign_in_methods")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_methods")
