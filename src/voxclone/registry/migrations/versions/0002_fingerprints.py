"""Fingerprints of every synthesis, to find a clip whose watermark was lost.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fingerprints",
        sa.Column("synthesis_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("scheme", sa.String(40), nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("words", sa.LargeBinary, nullable=False),
        sa.Column("active", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fingerprints")
