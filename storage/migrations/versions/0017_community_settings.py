"""communities: settings an admin changed in the chat or on the dashboard (`/config`)

Feature switches and XP rules came only from the config file, the same for every community
(XP rules could be overridden per community name there). A JSON object of overrides per
community now sits on top of the file's values; NULL means none.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("settings")
