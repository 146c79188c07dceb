"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 06:54:38.674199
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('framework',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=200), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('rows_accepted', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('locality',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('priority',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['priority.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('setting',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('scope_type', sa.String(length=20), nullable=False),
    sa.Column('scope_code', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('measure', 'scope_type', 'scope_code', 'due_on', name='uq_target')
    )
    op.create_table('pcn',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('locality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('pcn', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pcn_locality_id'), ['locality_id'], unique=False)

    op.create_table('tier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('attained_by', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['framework.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('framework_id', 'rank', name='uq_tier_framework_rank')
    )
    with op.batch_alter_table('tier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tier_framework_id'), ['framework_id'], unique=False)

    op.create_table('course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['tier_id'], ['tier.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_tier_id'), ['tier_id'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ods_code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('sector', sa.String(length=40), nullable=False),
    sa.Column('pcn_id', sa.Integer(), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('beds', sa.Integer(), nullable=True),
    sa.Column('staff_headcount', sa.Integer(), nullable=True),
    sa.Column('offered_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['pcn_id'], ['pcn.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ods_code')
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_pcn_id'), ['pcn_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_sector'), ['sector'], unique=False)

    op.create_table('cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('locality_id', sa.Integer(), nullable=True),
    sa.Column('sessions', sa.Integer(), nullable=True),
    sa.Column('delivered_by', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], ),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_locality_id'), ['locality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_start_date'), ['start_date'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_ref', sa.String(length=60), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=80), nullable=True),
    sa.Column('is_patient_partner', sa.Boolean(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('consents_to_be_named', sa.Boolean(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_ref')
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_org_left', ['organisation_id', 'left_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('sessions_attended', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'cohort_id', name='uq_enrolment_person_cohort')
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_enrolment_status_cohort', ['status', 'cohort_id'], unique=False)

    op.create_table('faculty_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'cohort_id', 'role', name='uq_faculty_person_cohort_role')
    )
    with op.batch_alter_table('faculty_role', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faculty_role_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faculty_role_person_id'), ['person_id'], unique=False)

    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('aim', sa.Text(), nullable=True),
    sa.Column('priority_id', sa.Integer(), nullable=False),
    sa.Column('lead_person_id', sa.Integer(), nullable=True),
    sa.Column('lead_organisation_id', sa.Integer(), nullable=False),
    sa.Column('pcn_id', sa.Integer(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('patient_involvement', sa.Boolean(), nullable=False),
    sa.Column('story', sa.Text(), nullable=True),
    sa.Column('lessons', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.ForeignKeyConstraint(['lead_organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['lead_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['pcn_id'], ['pcn.id'], ),
    sa.ForeignKeyConstraint(['priority_id'], ['priority.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_lead_organisation_id'), ['lead_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_lead_person_id'), ['lead_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_pcn_id'), ['pcn_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_priority_id'), ['priority_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_start_date'), ['start_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_status'), ['status'], unique=False)

    op.create_table('session_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('session_no', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'cohort_id', 'session_no', name='uq_attendance_person_session')
    )
    with op.batch_alter_table('session_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_attendance_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_attendance_person_id'), ['person_id'], unique=False)

    op.create_table('tier_attainment',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=False),
    sa.Column('attained_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['tier_id'], ['tier.id'], ),
    sa.PrimaryKeyConstraint('person_id', 'tier_id')
    )
    with op.batch_alter_table('tier_attainment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tier_attainment_attained_on'), ['attained_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tier_attainment_tier_id'), ['tier_id'], unique=False)

    op.create_table('measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('chart', sa.String(length=10), nullable=False),
    sa.Column('unit', sa.String(length=60), nullable=True),
    sa.Column('improvement', sa.String(length=20), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'code', name='uq_measure_project_code')
    )
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_project_id'), ['project_id'], unique=False)

    op.create_table('progress_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('scored_on', sa.Date(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'scored_on', name='uq_progress_project_date')
    )
    with op.batch_alter_table('progress_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_score_project_id'), ['project_id'], unique=False)

    op.create_table('project_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'person_id', name='uq_member_project_person')
    )
    with op.batch_alter_table('project_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_member_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_member_project_id'), ['project_id'], unique=False)

    op.create_table('project_partner',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('project_id', 'organisation_id')
    )
    with op.batch_alter_table('project_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_partner_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'changed_on', 'title', name='uq_change_project_date_title')
    )
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_measure_id'), ['measure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_project_id'), ['project_id'], unique=False)

    op.create_table('measure_analysis',
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('last_period', sa.Date(), nullable=True),
    sa.Column('n_points', sa.Integer(), nullable=False),
    sa.Column('ruleset', sa.String(length=20), nullable=True),
    sa.Column('centre', sa.Float(), nullable=True),
    sa.Column('lcl', sa.Float(), nullable=True),
    sa.Column('ucl', sa.Float(), nullable=True),
    sa.Column('signal', sa.Boolean(), nullable=False),
    sa.Column('improving', sa.Boolean(), nullable=False),
    sa.Column('concern', sa.Boolean(), nullable=False),
    sa.Column('variation_icon', sa.String(length=30), nullable=True),
    sa.Column('assurance_icon', sa.String(length=30), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], ),
    sa.PrimaryKeyConstraint('measure_id')
    )
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_analysis_improving'), ['improving'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('measure_id', 'period', name='uq_observation_measure_period')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_measure_id'), ['measure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_period'), ['period'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_period'))
        batch_op.drop_index(batch_op.f('ix_observation_measure_id'))

    op.drop_table('observation')
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_analysis_improving'))

    op.drop_table('measure_analysis')
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_project_id'))
        batch_op.drop_index(batch_op.f('ix_change_measure_id'))

    op.drop_table('change')
    with op.batch_alter_table('project_partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_partner_organisation_id'))

    op.drop_table('project_partner')
    with op.batch_alter_table('project_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_member_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_member_person_id'))

    op.drop_table('project_member')
    with op.batch_alter_table('progress_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_score_project_id'))

    op.drop_table('progress_score')
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_project_id'))

    op.drop_table('measure')
    with op.batch_alter_table('tier_attainment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tier_attainment_tier_id'))
        batch_op.drop_index(batch_op.f('ix_tier_attainment_attained_on'))

    op.drop_table('tier_attainment')
    with op.batch_alter_table('session_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_attendance_person_id'))
        batch_op.drop_index(batch_op.f('ix_session_attendance_cohort_id'))

    op.drop_table('session_attendance')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_status'))
        batch_op.drop_index(batch_op.f('ix_project_start_date'))
        batch_op.drop_index(batch_op.f('ix_project_priority_id'))
        batch_op.drop_index(batch_op.f('ix_project_pcn_id'))
        batch_op.drop_index(batch_op.f('ix_project_lead_person_id'))
        batch_op.drop_index(batch_op.f('ix_project_lead_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_project_cohort_id'))

    op.drop_table('project')
    with op.batch_alter_table('faculty_role', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faculty_role_person_id'))
        batch_op.drop_index(batch_op.f('ix_faculty_role_cohort_id'))

    op.drop_table('faculty_role')
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolment_status_cohort')
        batch_op.drop_index(batch_op.f('ix_enrolment_person_id'))
        batch_op.drop_index(batch_op.f('ix_enrolment_cohort_id'))

    op.drop_table('enrolment')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_organisation_id'))
        batch_op.drop_index('ix_person_org_left')

    op.drop_table('person')
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_start_date'))
        batch_op.drop_index(batch_op.f('ix_cohort_locality_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_course_id'))

    op.drop_table('cohort')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_sector'))
        batch_op.drop_index(batch_op.f('ix_organisation_pcn_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_kind'))

    op.drop_table('organisation')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_tier_id'))

    op.drop_table('course')
    with op.batch_alter_table('tier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tier_framework_id'))

    op.drop_table('tier')
    with op.batch_alter_table('pcn', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pcn_locality_id'))

    op.drop_table('pcn')
    op.drop_table('target')
    op.drop_table('setting')
    op.drop_table('priority')
    op.drop_table('locality')
    op.drop_table('import_batch')
    op.drop_table('framework')
