"""faq: entries, phrasings, unanswered questions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "author_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_answered", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("not_helpful", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_member_id"],
            ["members.id"],
            name=op.f("fk_faq_entries_author_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_faq_entries_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
        sa.UniqueConstraint("community_id", "key", name=op.f("uq_faq_entries_community_id_key")),
    )
    with op.batch_alter_table("faq_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_faq_entries_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "faq_unanswered",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("best_entry_id", sa.Integer(), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_faq_unanswered_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_faq_unanswered_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_unanswered")),
        sa.UniqueConstraint(
            "community_id",
            "platform",
            "channel_id",
            "message_id",
            name=op.f("uq_faq_unanswered_community_id_platform_channel_id_message_id"),
        ),
    )
    with op.batch_alter_table("faq_unanswered", schema=None) as batch_op:
        batch_op.create_index(
            "ix_faq_unanswered_community_id_at", ["community_id", "at"], unique=False
        )

    op.create_table(
        "faq_questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["faq_entries.id"],
            name=op.f("fk_faq_questions_entry_id_faq_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_questions")),
    )
    with op.batch_alter_table("faq_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_questions_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faq_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_questions_entry_id"))

    op.drop_table("faq_questions")
    with op.batch_alter_table("faq_unanswered", schema=None) as batch_op:
        batch_op.drop_index("ix_faq_unanswered_community_id_at")

    op.drop_table("faq_unanswered")
    with op.batch_alter_table("faq_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_entries_community_id"))

    op.drop_table("faq_entries")
