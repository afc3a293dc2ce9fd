"""messages: the kind of each message (text, photo, sticker, voice, poll, ...)

Media without text was not activity on Telegram; now every message is logged with its kind,
so the digest can count messages by kind and the FAQ can leave media alone. Rows logged
before this revision are text.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="text", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("kind")
