"""event order: the latest issue and closing moments of each invitation

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_invitations",
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("invitation_id", name=op.f("pk_known_invitations")),
    )
    # the best the existing rows know of their events is when they last changed; that errs
    # towards keeping a closed code dead
    op.execute(
        "INSERT INTO known_invitations (invitation_id, issued_at, closed_at) "
        "SELECT invitation_id, updated_at, "
        "CASE WHEN status IN ('expired', 'revoked') THEN updated_at END "
        "FROM activations"
    )


def downgrade() -> None:
    op.drop_table("known_invitations")
