"""indexes for the measures' filters and joins at national scale

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:00:00

Chosen by reading every filter and join in qidash/measures.py and qidash/scope.py and checking the
query plans of the pages at scale 50 (about 15,000 care homes) on SQLite and PostgreSQL. Most filters
were already covered by the indexes of 0001 (organisation kind/sector/pcn_id, person organisation_id,
project start_date/status/lead_organisation_id/priority_id, cohort start_date/locality_id, the unique
natural keys of observation, progress_score and enrolment); these cover the rest.
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

INDEXES = (
    # First-trained dates and the "trained and still in post" checks: min(attained_on) per person.
    ("ix_tier_attainment_person_attained", "tier_attainment", ["person_id", "attained_on"]),
    # Enrolments of one cohort by status (cohort tables, attendance, a cohort's register).
    ("ix_enrolment_cohort_status", "enrolment", ["cohort_id", "status"]),
    # A cohort's register, session by session.
    ("ix_session_attendance_cohort_session", "session_attendance", ["cohort_id", "session_no"]),
    # Coaches and project teams are picked by role.
    ("ix_project_member_role_project", "project_member", ["role", "project_id"]),
    # The foreign key of the priority tree (PostgreSQL does not index foreign keys by itself).
    ("ix_priority_parent_id", "priority", ["parent_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
