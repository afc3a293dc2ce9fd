"""digest: claims that expire (attempt counter, recipients already sent to)

A digest claimed by a process that stopped before finishing stayed `pending` forever. Now a
pending claim not renewed for a while may be taken over: `attempts` counts the claims (and
fences a process that lost its claim), `delivered` lists the recipients already sent to, so
the process taking over sends only to the others.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("delivered", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.drop_column("delivered")
        batch_op.drop_column("attempts")
