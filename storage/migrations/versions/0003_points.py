"""points: totals, ledger, thanks, level roles

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "level_roles",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("group_external_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_level_roles_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_level_roles")),
        sa.UniqueConstraint(
            "community_id",
            "platform",
            "group_external_id",
            "level",
            name=op.f("uq_level_roles_community_id_platform_group_external_id_level"),
        ),
    )
    op.create_table(
        "points_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column(
            "actor_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_member_id"],
            ["members.id"],
            name=op.f("fk_points_ledger_actor_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_points_ledger_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_points_ledger_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_ledger")),
    )
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_ledger_community_id_at", ["community_id", "at"], unique=False
        )
        batch_op.create_index("ix_points_ledger_member_id_at", ["member_id", "at"], unique=False)

    op.create_table(
        "points_totals",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("xp", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reputation", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=True),
        sa.Column("day_xp", sa.Integer(), nullable=False),
        sa.Column("day_reaction_xp", sa.Integer(), nullable=False),
        sa.Column("last_message_xp_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("last_checkin_day", sa.String(length=10), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_points_totals_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_points_totals_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_points_totals")),
    )
    with op.batch_alter_table("points_totals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_totals_community_id_xp", ["community_id", "xp"], unique=False
        )

    op.create_table(
        "thanks_given",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("giver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "receiver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_thanks_given_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["members.id"], name=op.f("fk_thanks_given_giver_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"], ["members.id"], name=op.f("fk_thanks_given_receiver_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks_given")),
        sa.UniqueConstraint(
            "giver_id", "receiver_id", "day", name=op.f("uq_thanks_given_giver_id_receiver_id_day")
        ),
    )


def downgrade() -> None:
    op.drop_table("thanks_given")
    with op.batch_alter_table("points_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_points_totals_community_id_xp")

    op.drop_table("points_totals")
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_points_ledger_member_id_at")
        batch_op.drop_index("ix_points_ledger_community_id_at")

    op.drop_table("points_ledger")
    op.drop_table("level_roles")
