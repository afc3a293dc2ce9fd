"""web: one-time sign-in links and the dashboard's sessions (token hashes only)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def _who(table: str) -> list[sa.Column[Any] | sa.Constraint]:
    """The columns and keys both tables share: a token's hash, a community and a member."""
    return [
        sa.Column("id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f(f"fk_{table}_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f(f"fk_{table}_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("token_hash", name=op.f(f"uq_{table}_token_hash")),
    ]


def upgrade() -> None:
    op.create_table("web_links", *_who("web_links"), sa.Column("used_at", _AT, nullable=True))
    op.create_table(
        "web_sessions",
        *_who("web_sessions"),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("checked_at", _AT, nullable=False),
        sa.Column("ended_at", _AT, nullable=True),
    )
    for table in ("web_links", "web_sessions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_community_id"), ["community_id"], unique=False
            )


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table("web_links")
