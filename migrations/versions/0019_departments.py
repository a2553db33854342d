"""部门筛查预警 and the departments' measures: a department user's department; the departments' saved column
mappings, their uploaded lists and the matched rows kept; the warning rules the county sets (versions with history);
the department responsible for a measure and the progress it records. Department users and measures of an existing
database get their department from their unit's name.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('department_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_id'], ['user_account.id'], name=op.f('fk_department_mapping_saved_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_mapping'))
    )
    with op.batch_alter_table('department_mapping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_mapping_department'), ['department'], unique=False)

    op.create_table('department_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_matched', sa.Integer(), nullable=False),
    sa.Column('rows_already', sa.Integer(), nullable=False),
    sa.Column('rows_warned', sa.Integer(), nullable=False),
    sa.Column('leads_created', sa.Integer(), nullable=False),
    sa.Column('leads_merged', sa.Integer(), nullable=False),
    sa.Column('cases_noted', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.JSON(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_department_upload_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_upload')),
    sa.UniqueConstraint('department', 'sha256', name='uq_department_upload_file')
    )
    with op.batch_alter_table('department_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_upload_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_department_upload_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_department_upload_uploaded_at'), ['uploaded_at'], unique=False)

    op.create_table('warning_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=48), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('operator', sa.String(length=24), nullable=False),
    sa.Column('threshold', sa.String(length=255), nullable=False),
    sa.Column('risk_type', sa.String(length=24), nullable=False),
    sa.Column('national_risk_type', sa.String(length=24), nullable=False),
    sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('source_document', sa.String(length=255), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_warning_rule_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_rule'))
    )
    with op.batch_alter_table('warning_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warning_rule_department'), ['department'], unique=False)
        batch_op.create_index('ix_warning_rule_key_effective', ['key', 'effective_from', 'id'], unique=False)

    op.create_table('department_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['household_case.id'], name=op.f('fk_department_record_case_id_household_case')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_department_record_household_id_household')),
    sa.ForeignKeyConstraint(['lead_id'], ['risk_lead.id'], name=op.f('fk_department_record_lead_id_risk_lead')),
    sa.ForeignKeyConstraint(['upload_id'], ['department_upload.id'], name=op.f('fk_department_record_upload_id_department_upload')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_record')),
    sa.UniqueConstraint('department', 'month', 'fingerprint', name='uq_department_record_row')
    )
    with op.batch_alter_table('department_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_record_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_department_record_person', ['department', 'id_number', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_department_record_upload_id'), ['upload_id'], unique=False)

    op.create_table('measure_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('completed', sa.Boolean(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_measure_progress_attachment_id_attachment')),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], name=op.f('fk_measure_progress_measure_id_measure')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_measure_progress_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_progress'))
    )
    with op.batch_alter_table('measure_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_progress_measure_id'), ['measure_id'], unique=False)

    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_measure_department'), ['department'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=16), nullable=True))

    # The departments by the names a unit may go by (as app/departments/catalogue.py had them when this was written).
    connection = op.get_bind()
    for code, names in UNIT_NAMES.items():
        for name in names:
            connection.execute(sa.text("UPDATE user_account SET department = :code WHERE role = 'department' "
                                       "AND department IS NULL AND unit LIKE :name"),
                               {"code": code, "name": f"%{name}%"})
            # A town's office (镇民政办) is not the county's department.
            connection.execute(sa.text("UPDATE measure SET department = :code WHERE department IS NULL "
                                       "AND responsible_unit LIKE :name AND responsible_unit NOT LIKE '%镇%'"),
                               {"code": code, "name": f"%{name}%"})


UNIT_NAMES = {
    "yibao": ("医保", "医疗保障"), "minzheng": ("民政",), "yingji": ("应急",), "renshe": ("人社", "人力资源和社会保障"),
    "canlian": ("残联", "残疾人联合会"), "jiaoyu": ("教育", "教体"), "zhujian": ("住建", "住房和城乡建设"),
}


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('department')

    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_department'))
        batch_op.drop_column('department')

    with op.batch_alter_table('measure_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_progress_measure_id'))

    op.drop_table('measure_progress')
    with op.batch_alter_table('department_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_record_upload_id'))
        batch_op.drop_index('ix_department_record_person')
        batch_op.drop_index(batch_op.f('ix_department_record_household_id'))

    op.drop_table('department_record')
    with op.batch_alter_table('warning_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_warning_rule_key_effective')
        batch_op.drop_index(batch_op.f('ix_warning_rule_department'))

    op.drop_table('warning_rule')
    with op.batch_alter_table('department_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_upload_uploaded_at'))
        batch_op.drop_index(batch_op.f('ix_department_upload_month'))
        batch_op.drop_index(batch_op.f('ix_department_upload_department'))

    op.drop_table('department_upload')
    with op.batch_alter_table('department_mapping', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_mapping_department'))

    op.drop_table('department_mapping')
