"""The bus tables: outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from alembic import op

from contracts.bus import migrations as bus

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bus.create_outbox(op)
    bus.create_inbox(op)


def downgrade() -> None:
    bus.drop_inbox(op)
    bus.drop_outbox(op)
