"""moderators' channel per community

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("mod_platform", "mod_group", "mod_channel", "mod_thread")


def upgrade() -> None:
    with op.batch_alter_table("communities") as batch_op:
        batch_op.add_column(sa.Column("mod_platform", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("mod_group", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("mod_channel", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("mod_thread", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
