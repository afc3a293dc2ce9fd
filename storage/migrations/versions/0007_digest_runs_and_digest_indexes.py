"""digest: runs of scheduled digests (claimed once) and indexes for digest queries

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_digest_runs_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_runs")),
        sa.UniqueConstraint(
            "community_id",
            "kind",
            "period_start",
            name=op.f("uq_digest_runs_community_id_kind_period_start"),
        ),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_community_id_sent_at")
        batch_op.create_index(
            "ix_messages_activity",
            ["community_id", "sent_at", "member_id", "is_command"],
            unique=False,
        )
        batch_op.create_index(
            "ix_messages_community_id_reply_to", ["community_id", "reply_to"], unique=False
        )

    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.drop_index("ix_reactions_community_id_at")
        batch_op.create_index(
            "ix_reactions_activity", ["community_id", "at", "member_id"], unique=False
        )
        batch_op.create_index("ix_reactions_member_id_at", ["member_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.drop_index("ix_reactions_member_id_at")
        batch_op.drop_index("ix_reactions_activity")
        batch_op.create_index("ix_reactions_community_id_at", ["community_id", "at"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_community_id_reply_to")
        batch_op.drop_index("ix_messages_activity")
        batch_op.create_index(
            "ix_messages_community_id_sent_at", ["community_id", "sent_at"], unique=False
        )

    op.drop_table("digest_runs")
