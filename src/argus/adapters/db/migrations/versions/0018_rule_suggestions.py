"""Rule suggestions from false-positive verdicts (issue 21, part E): no schema change.

The suggestions and their decisions are one document of the settings store
(``rule_suggestions``), and a rule's exclusion areas (``Rule.exclude_areas``,
what an applied exclusion-zone suggestion sets) are part of its stored
definition (``rules.definition``, the JSON of ``Rule.to_dict``) like every other
condition of a rule: a column of their own would hold a second copy. Rules
stored before read as having no areas, and a rule without areas is stored
without the key, so code that predates them still reads it. The revision stays so the chain of
revision ids is the one the issue's groundwork laid out.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Nothing to change (see the module docstring)."""


def downgrade() -> None:
    """Nothing to undo; a rule that has areas keeps them in its definition, which older code
    refuses (an unknown key): clear them with the API before downgrading the code."""
