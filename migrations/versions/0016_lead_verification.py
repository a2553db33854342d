"""a risk lead's home verification (入户核实) and income assessment (收支测算): the lead names its workflow instance,
its outcome and when it closed; the signed 承诺授权书, the verification record and the income assessment (with the
monitoring line it was weighed against) are kept beside it

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('income_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('member_incomes', sa.JSON(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('total_income', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('business_costs', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('eligible_spending', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('per_capita_net', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('per_capita_after_spending', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('monitoring_line_id', sa.Integer(), nullable=False),
    sa.Column('line_amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('within_line', sa.Boolean(), nullable=False),
    sa.Column('proposed_category', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_income_assessment_household_id_household')),
    sa.ForeignKeyConstraint(['lead_id'], ['risk_lead.id'], name=op.f('fk_income_assessment_lead_id_risk_lead')),
    sa.ForeignKeyConstraint(['monitoring_line_id'], ['monitoring_line.id'], name=op.f('fk_income_assessment_monitoring_line_id_monitoring_line')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_income_assessment_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_assessment'))
    )
    with op.batch_alter_table('income_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_income_assessment_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_income_assessment_lead_id'), ['lead_id'], unique=False)

    op.create_table('lead_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['risk_lead.id'], name=op.f('fk_lead_document_lead_id_risk_lead')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_lead_document_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_document'))
    )
    with op.batch_alter_table('lead_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_document_lead_id'), ['lead_id'], unique=False)

    op.create_table('lead_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('verifiers', sa.String(length=200), nullable=False),
    sa.Column('guarantee_gaps', sa.JSON(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['risk_lead.id'], name=op.f('fk_lead_verification_lead_id_risk_lead')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_lead_verification_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_verification'))
    )
    with op.batch_alter_table('lead_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_verification_lead_id'), ['lead_id'], unique=False)

    with op.batch_alter_table('risk_lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('outcome_reason', sa.Text(), server_default='', nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_risk_lead_instance_id'), ['instance_id'])
        batch_op.create_foreign_key(batch_op.f('fk_risk_lead_instance_id_workflow_instance'), 'workflow_instance', ['instance_id'], ['id'])



def downgrade():
    with op.batch_alter_table('risk_lead', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_risk_lead_instance_id_workflow_instance'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_risk_lead_instance_id'), type_='unique')
        batch_op.drop_column('outcome_reason')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('instance_id')

    with op.batch_alter_table('lead_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_verification_lead_id'))

    op.drop_table('lead_verification')
    with op.batch_alter_table('lead_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_document_lead_id'))

    op.drop_table('lead_document')
    with op.batch_alter_table('income_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_income_assessment_lead_id'))
        batch_op.drop_index(batch_op.f('ix_income_assessment_household_id'))

    op.drop_table('income_assessment')
