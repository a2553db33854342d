"""a case keeps its household's kind (lifted | non_poor) from its opening, so the annual review reads a year's
certifications (返贫 or 新致贫) off the cases' own rows instead of looking up each household

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('household_case', sa.Column('household_kind', sa.String(length=10), server_default='',
                                              nullable=False))
    if op.get_bind().dialect.name == "postgresql":  # one join, not a subquery a row: a million cases in a province
        op.execute("UPDATE household_case c SET household_kind = h.kind FROM household h WHERE h.id = c.household_id")
    else:
        op.execute("UPDATE household_case SET household_kind = (SELECT h.kind FROM household h "
                   "WHERE h.id = household_case.household_id)")


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of the table would trip the foreign keys to it.
    op.drop_column('household_case', 'household_kind')
