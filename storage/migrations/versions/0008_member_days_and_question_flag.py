"""digest: member_days rollup of active members per UTC day, messages.is_question

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _backfill() -> None:
    """One row per member and UTC day with a message, command or reaction already logged."""
    if op.get_bind().dialect.name == "sqlite":  # times are stored as 'YYYY-MM-DD HH:MM:SS…'

        def day(column: str) -> str:
            return f"substr({column}, 1, 10) || ' 00:00:00.000000'"

    else:

        def day(column: str) -> str:
            return f"date_trunc('day', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"

    op.execute(
        "INSERT INTO member_days (community_id, day, member_id) "
        f"SELECT community_id, {day('sent_at')}, member_id FROM messages "
        f"UNION SELECT community_id, {day('at')}, member_id FROM reactions"
    )


def upgrade() -> None:
    op.create_table(
        "member_days",
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_member_days_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_days_member_id_members")
        ),
        sa.PrimaryKeyConstraint("community_id", "day", "member_id", name=op.f("pk_member_days")),
    )
    # None on rows logged before: the digest detects those questions from the stored text.
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_question", sa.Boolean(), nullable=True))
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("is_question")
    op.drop_table("member_days")
