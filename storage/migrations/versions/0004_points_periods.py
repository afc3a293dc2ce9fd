"""points periods: weekly and monthly XP per member for fast leaderboards

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "points_periods",
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("start", sa.String(length=10), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("xp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_points_periods_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_points_periods_member_id_members")
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "kind", "start", "member_id", name=op.f("pk_points_periods")
        ),
    )
    with op.batch_alter_table("points_periods", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_periods_board", ["community_id", "kind", "start", "xp"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("points_periods", schema=None) as batch_op:
        batch_op.drop_index("ix_points_periods_board")

    op.drop_table("points_periods")
