"""faq: a log of automatic answers (entry, message, score, time) for digests

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "faq_answers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("entry_id", _ID, nullable=True),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_faq_answers_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["faq_entries.id"],
            name=op.f("fk_faq_answers_entry_id_faq_entries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_faq_answers_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_answers")),
        sa.UniqueConstraint(
            "community_id",
            "platform",
            "channel_id",
            "message_id",
            name=op.f("uq_faq_answers_community_id_platform_channel_id_message_id"),
        ),
    )
    with op.batch_alter_table("faq_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_faq_answers_community_id_at", ["community_id", "at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("faq_answers")
