"""faq: one vote per member and entry (👍/👎 and /faq feedback counted once, across restarts)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "faq_votes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["faq_entries.id"],
            name=op.f("fk_faq_votes_entry_id_faq_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_faq_votes_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_votes")),
        sa.UniqueConstraint("entry_id", "member_id", name=op.f("uq_faq_votes_entry_id_member_id")),
    )


def downgrade() -> None:
    op.drop_table("faq_votes")
