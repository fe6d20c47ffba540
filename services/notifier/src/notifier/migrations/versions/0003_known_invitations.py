"""Known invitations: the latest issue and code-ending moments of each invitation, so that a
late InvitationIssued never emails a dead code; the waiting invitation emails by invitation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_invitations",
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("invitation_id", name="pk_known_invitations"),
    )
    op.create_index(
        "ix_outgoing_email_queued_invitation",
        "outgoing_email",
        ["invitation_id"],
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outgoing_email_queued_invitation", table_name="outgoing_email")
    op.drop_table("known_invitations")
