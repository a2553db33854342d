"""the national mechanism's case: a verified risk lead opens a case of the national procedure (its channel, the day
the risk was found and the 15-day decision date, the monitoring category chosen at 民主评议, the fast path, the days
it was identified and its risk eliminated); the lead names its case; measures given first (先帮扶后认定) are marked;
the village's review meetings, the elimination checks with their criteria, and reversals of an elimination

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('elimination_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('verifiers', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('guarantee_gaps', sa.JSON(), nullable=False),
    sa.Column('risk_resolved', sa.Boolean(), nullable=False),
    sa.Column('new_risk', sa.Boolean(), nullable=False),
    sa.Column('months_above_line', sa.Integer(), nullable=False),
    sa.Column('unable_to_work', sa.JSON(), nullable=False),
    sa.Column('member_incomes', sa.JSON(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('total_income', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('business_costs', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('eligible_spending', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('per_capita_net', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('per_capita_after_spending', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('monitoring_line_id', sa.Integer(), nullable=True),
    sa.Column('line_amount', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['household_case.id'], name=op.f('fk_elimination_check_case_id_household_case')),
    sa.ForeignKeyConstraint(['monitoring_line_id'], ['monitoring_line.id'], name=op.f('fk_elimination_check_monitoring_line_id_monitoring_line')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_elimination_check_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elimination_check'))
    )
    with op.batch_alter_table('elimination_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_elimination_check_case_id'), ['case_id'], unique=False)

    op.create_table('elimination_reversal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('eliminated_on', sa.Date(), nullable=False),
    sa.Column('reverted_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reverted_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['household_case.id'], name=op.f('fk_elimination_reversal_case_id_household_case')),
    sa.ForeignKeyConstraint(['reverted_by_id'], ['user_account.id'], name=op.f('fk_elimination_reversal_reverted_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elimination_reversal'))
    )
    with op.batch_alter_table('elimination_reversal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_elimination_reversal_case_id'), ['case_id'], unique=False)

    op.create_table('review_meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('attendees', sa.Text(), nullable=False),
    sa.Column('attendance', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['household_case.id'], name=op.f('fk_review_meeting_case_id_household_case')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_review_meeting_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_meeting'))
    )
    with op.batch_alter_table('review_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_meeting_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('household_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure', sa.String(length=12), server_default='county', nullable=False))
        batch_op.add_column(sa.Column('channel', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('category', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('fast_path', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('discovered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decision_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('identified_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('eliminated_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_household_case_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_case_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_case_eliminated_on'), ['eliminated_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_case_identified_on'), ['identified_on'], unique=False)

    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_aid', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('risk_lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_risk_lead_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_risk_lead_case_id_household_case'), 'household_case', ['case_id'], ['id'])



def downgrade():
    with op.batch_alter_table('risk_lead', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_risk_lead_case_id_household_case'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_risk_lead_case_id'))
        batch_op.drop_column('case_id')

    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.drop_column('first_aid')

    with op.batch_alter_table('household_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_case_identified_on'))
        batch_op.drop_index(batch_op.f('ix_household_case_eliminated_on'))
        batch_op.drop_index(batch_op.f('ix_household_case_channel'))
        batch_op.drop_index(batch_op.f('ix_household_case_category'))
        batch_op.drop_column('eliminated_on')
        batch_op.drop_column('identified_on')
        batch_op.drop_column('decision_due_on')
        batch_op.drop_column('discovered_on')
        batch_op.drop_column('fast_path')
        batch_op.drop_column('category')
        batch_op.drop_column('channel')
        batch_op.drop_column('procedure')

    with op.batch_alter_table('review_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_meeting_case_id'))

    op.drop_table('review_meeting')
    with op.batch_alter_table('elimination_reversal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_elimination_reversal_case_id'))

    op.drop_table('elimination_reversal')
    with op.batch_alter_table('elimination_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_elimination_check_case_id'))

    op.drop_table('elimination_check')
