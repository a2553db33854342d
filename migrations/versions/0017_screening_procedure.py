"""the procedure a monthly screening was started under (county | national), from the county's setting: a national
screening ends once its households are checked, its risk households becoming leads

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("screening") as batch:
        batch.add_column(sa.Column("procedure", sa.String(length=12), server_default="county", nullable=False))


def downgrade():
    with op.batch_alter_table("screening") as batch:
        batch.drop_column("procedure")
