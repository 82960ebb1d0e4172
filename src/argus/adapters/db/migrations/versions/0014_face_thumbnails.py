"""Face thumbnails: ``face_embeddings.thumbnail``, the enrolled face each descriptor came from.

Enrolment keeps a small JPEG of the face (cropped around the detected box and
scaled down) beside the descriptor it made, so an administrator can see whose
face a subject holds. It lives in the descriptor's row: erasing the subject's
descriptors erases the thumbnails with them. Descriptors enrolled before this
revision have none (NULL).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the nullable column."""
    op.add_column("face_embeddings", sa.Column("thumbnail", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Drop the column (and the thumbnails in it)."""
    with op.batch_alter_table("face_embeddings") as batch:
        batch.drop_column("thumbnail")
