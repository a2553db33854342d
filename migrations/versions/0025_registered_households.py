"""a village's registered households kept on its area row, so that a city's or a province's overview adds up its
villages' counts instead of counting every household of the deployment

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('area', sa.Column('registered_households', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE area SET registered_households = (SELECT count(*) FROM household h "
               "WHERE h.village_code = area.code) WHERE level = 'village'")


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of the area table would trip the foreign keys to it.
    op.drop_column('area', 'registered_households')
