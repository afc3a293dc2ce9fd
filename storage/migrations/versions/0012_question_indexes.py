"""digest: partial indexes for the questions of a window and for unflagged texts

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_questions",
            ["community_id", "sent_at"],
            unique=False,
            sqlite_where=sa.text("is_question = 1"),
            postgresql_where=sa.text("is_question = true"),
        )
        batch_op.create_index(
            "ix_messages_unflagged",
            ["community_id", "sent_at"],
            unique=False,
            sqlite_where=sa.text("is_question IS NULL AND text IS NOT NULL"),
            postgresql_where=sa.text("is_question IS NULL AND text IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_unflagged")
        batch_op.drop_index("ix_messages_questions")
