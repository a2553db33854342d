"""the city's and the province's overviews (scoreboard, heatmap) kept as snapshots the timer workers refresh, so
those pages do not add up every county's rows on each request

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('overview_snapshot',
                    sa.Column('key', sa.String(length=160), nullable=False),
                    sa.Column('computed_at', sa.DateTime(), nullable=False),
                    sa.Column('payload', sa.JSON(), nullable=False),
                    sa.PrimaryKeyConstraint('key', name=op.f('pk_overview_snapshot')))


def downgrade():
    op.drop_table('overview_snapshot')
