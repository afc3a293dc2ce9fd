"""moderation: blocked phrases, warnings and the audit log of moderation actions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "blocked_phrases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        _fk("blocked_phrases", "community_id", "communities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_phrases")),
        sa.UniqueConstraint(
            "community_id", "phrase", name=op.f("uq_blocked_phrases_community_id_phrase")
        ),
    )
    op.create_table(
        "warnings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("by_member_id", _ID, nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        _fk("warnings", "community_id", "communities"),
        _fk("warnings", "member_id", "members"),
        _fk("warnings", "by_member_id", "members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
    )
    with op.batch_alter_table("warnings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_warnings_community_id_member_id_at",
            ["community_id", "member_id", "at"],
            unique=False,
        )
    op.create_table(
        "moderation_actions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("by_member_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("warning_id", _ID, nullable=True),
        sa.Column("until", _TIME, nullable=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("undone_at", _TIME, nullable=True),
        sa.Column("undone_by", _ID, nullable=True),
        _fk("moderation_actions", "community_id", "communities"),
        _fk("moderation_actions", "member_id", "members"),
        _fk("moderation_actions", "by_member_id", "members"),
        _fk("moderation_actions", "warning_id", "warnings"),
        _fk("moderation_actions", "undone_by", "members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
    )
    with op.batch_alter_table("moderation_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_moderation_actions_community_id_at", ["community_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_moderation_actions_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("moderation_actions")
    op.drop_table("warnings")
    op.drop_table("blocked_phrases")
