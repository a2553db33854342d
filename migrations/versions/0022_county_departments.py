"""counties side by side: a county's departments keep their own column mappings and its county office its own
warning rules (a county's code on each), filled in for those recorded before from the county of whoever saved or
recorded them, else the deployment's one county

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('department_mapping', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_code', sa.String(length=6), nullable=False, server_default=''))
        batch_op.drop_index('ix_department_mapping_department')
        batch_op.create_index('ix_department_mapping_county_department', ['county_code', 'department', 'id'],
                              unique=False)
    with op.batch_alter_table('warning_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_code', sa.String(length=6), nullable=False, server_default=''))
        batch_op.drop_index('ix_warning_rule_key_effective')
        batch_op.create_index('ix_warning_rule_county_key_effective', ['county_code', 'key', 'effective_from', 'id'],
                              unique=False)
    connection = op.get_bind()
    for table, who in (("department_mapping", "saved_by_id"), ("warning_rule", "recorded_by_id")):
        connection.execute(sa.text(
            f"UPDATE {table} SET county_code = (SELECT substr(u.area_code, 1, 6) FROM user_account u "
            f"WHERE u.id = {table}.{who} AND length(u.area_code) >= 6) WHERE {who} IS NOT NULL"))
        connection.execute(sa.text(
            f"UPDATE {table} SET county_code = COALESCE((SELECT min(code) FROM area WHERE level = 'county'), '') "
            f"WHERE county_code IS NULL OR county_code = ''"))
    for table in ("department_mapping", "warning_rule"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('county_code', server_default=None)


def downgrade():
    with op.batch_alter_table('warning_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_warning_rule_county_key_effective')
        batch_op.create_index('ix_warning_rule_key_effective', ['key', 'effective_from', 'id'], unique=False)
        batch_op.drop_column('county_code')
    with op.batch_alter_table('department_mapping', schema=None) as batch_op:
        batch_op.drop_index('ix_department_mapping_county_department')
        batch_op.create_index('ix_department_mapping_department', ['department'], unique=False)
        batch_op.drop_column('county_code')
