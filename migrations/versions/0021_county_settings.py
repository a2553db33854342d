"""counties side by side: each county's settings are its own (a county's code on every recorded value), filled in
for the values recorded before from the county of whoever recorded them, else the deployment's one county

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('county_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_code', sa.String(length=6), nullable=False, server_default=''))
        batch_op.drop_index('ix_county_setting_key_effective')
        batch_op.create_index('ix_county_setting_county_key', ['county_code', 'key', 'effective_from', 'id'],
                              unique=False)
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE county_setting SET county_code = (SELECT substr(u.area_code, 1, 6) FROM user_account u "
        "WHERE u.id = county_setting.recorded_by_id AND length(u.area_code) >= 6) "
        "WHERE recorded_by_id IS NOT NULL"))
    connection.execute(sa.text(
        "UPDATE county_setting SET county_code = COALESCE((SELECT min(code) FROM area WHERE level = 'county'), '') "
        "WHERE county_code IS NULL OR county_code = ''"))
    with op.batch_alter_table('county_setting', schema=None) as batch_op:
        batch_op.alter_column('county_code', server_default=None)


def downgrade():
    with op.batch_alter_table('county_setting', schema=None) as batch_op:
        batch_op.drop_index('ix_county_setting_county_key')
        batch_op.create_index('ix_county_setting_key_effective', ['key', 'effective_from', 'id'], unique=False)
        batch_op.drop_column('county_code')
