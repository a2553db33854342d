"""the national mechanism's first records: county settings and the yearly monitoring line (监测范围), each kept with
its history; risk leads (风险线索) from the three channels; the public forms' rate window

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('public_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=32), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_submission'))
    )
    with op.batch_alter_table('public_submission', schema=None) as batch_op:
        batch_op.create_index('ix_public_submission_form_addr_at', ['form', 'remote_addr', 'at'], unique=False)

    op.create_table('county_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('source_document', sa.String(length=255), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_county_setting_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_county_setting'))
    )
    with op.batch_alter_table('county_setting', schema=None) as batch_op:
        batch_op.create_index('ix_county_setting_key_effective', ['key', 'effective_from', 'id'], unique=False)

    op.create_table('monitoring_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('source_document', sa.String(length=255), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_monitoring_line_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_line'))
    )
    with op.batch_alter_table('monitoring_line', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_line_year_region', ['year', 'region_code', 'id'], unique=False)

    op.create_table('risk_lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=24), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_detail', sa.String(length=200), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('declarant_id_tail', sa.String(length=4), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('town_code', sa.String(length=9), nullable=False),
    sa.Column('reporter_name', sa.String(length=64), nullable=False),
    sa.Column('reporter_phone', sa.String(length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('discovered_on', sa.Date(), nullable=False),
    sa.Column('risk_types', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('urgency', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('open_case_id', sa.Integer(), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_risk_lead_household_id_household')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['risk_lead.id'], name=op.f('fk_risk_lead_merged_into_id_risk_lead')),
    sa.ForeignKeyConstraint(['open_case_id'], ['household_case.id'], name=op.f('fk_risk_lead_open_case_id_household_case')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_risk_lead_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['village_code'], ['area.code'], name=op.f('fk_risk_lead_village_code_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_lead')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_risk_lead_receipt_no'))
    )
    with op.batch_alter_table('risk_lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_lead_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_risk_lead_household_status', ['household_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_lead_town_code'), ['town_code'], unique=False)
        batch_op.create_index('ix_risk_lead_village_status', ['village_code', 'status'], unique=False)



def downgrade():
    with op.batch_alter_table('risk_lead', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_lead_village_status')
        batch_op.drop_index(batch_op.f('ix_risk_lead_town_code'))
        batch_op.drop_index('ix_risk_lead_household_status')
        batch_op.drop_index(batch_op.f('ix_risk_lead_created_at'))

    op.drop_table('risk_lead')
    with op.batch_alter_table('monitoring_line', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_line_year_region')

    op.drop_table('monitoring_line')
    with op.batch_alter_table('county_setting', schema=None) as batch_op:
        batch_op.drop_index('ix_county_setting_key_effective')

    op.drop_table('county_setting')
    with op.batch_alter_table('public_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_public_submission_form_addr_at')

    op.drop_table('public_submission')
