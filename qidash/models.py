"""The shared database schema (DESIGN.md section 2).

Every entity has a natural key (``code``, ``ods_code``, ``person_ref``...) that imports upsert on, so a
file can be loaded twice safely. Surrogate integer ids are used for joins. Tier attainment and chart
analysis are *derived* tables: rebuilt from the typed-in data after every load, never imported.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ORG_KINDS = (
    "care_home_residential",
    "care_home_nursing",
    "gp_practice",
    "acute_trust",
    "community_trust",
    "mental_health_trust",
    "ambulance_trust",
    "local_authority",
    "pharmacy",
    "hospice",
    "voluntary",
    "icb",
    "other",
)
CARE_HOME_KINDS = ("care_home_residential", "care_home_nursing")
SECTORS = ("nhs", "independent", "local_authority", "vcse")
ATTAINED_BY = ("course", "project", "faculty")
DELIVERED_BY = ("local", "external")
ENROLMENT_STATUSES = ("enrolled", "attended", "completed", "withdrawn")
FACULTY_ROLES = ("trainer", "coach", "mentor")
PROJECT_STATUSES = ("active", "completed", "stopped")
MEMBER_ROLES = ("lead", "member", "coach", "sponsor")
MEASURE_KINDS = ("outcome", "process", "balancing")
CHART_KINDS = ("run", "xmr", "p", "u", "c")
IMPROVEMENT_DIRECTIONS = ("increase", "decrease", "neutral")
CHANGE_KINDS = ("pdsa", "change", "rebase")
TARGET_SCOPES = ("system", "locality", "pcn")


class Base(DeclarativeBase):
    pass


# --- Geography -------------------------------------------------------------------------------------


class Locality(Base):
    __tablename__ = "locality"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Pcn(Base):
    __tablename__ = "pcn"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"), index=True)


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    ods_code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    sector: Mapped[str] = mapped_column(String(40), index=True)
    pcn_id: Mapped[int | None] = mapped_column(ForeignKey("pcn.id"), index=True)
    postcode: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    beds: Mapped[int | None] = mapped_column(Integer)
    staff_headcount: Mapped[int | None] = mapped_column(Integer)
    offered_on: Mapped[dt.date | None] = mapped_column(Date)
    # The CQC location ID of a care home (the key its monthly register is matched on).
    cqc_location_id: Mapped[str | None] = mapped_column(String(20), index=True)
    # The day it left its public register (closed, deregistered): kept with its people and projects,
    # but no longer counted among the organisations in scope from that day.
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


# --- People and capability -------------------------------------------------------------------------


class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_ref: Mapped[str] = mapped_column(String(60), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(80))
    is_patient_partner: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    consents_to_be_named: Mapped[bool] = mapped_column(Boolean, default=False)
    left_on: Mapped[dt.date | None] = mapped_column(Date)


class Framework(Base):
    __tablename__ = "framework"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Tier(Base):
    __tablename__ = "tier"
    __table_args__ = (UniqueConstraint("framework_id", "rank", name="uq_tier_framework_rank"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    # Tier codes are unique across frameworks because courses name their tier by code alone.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer)
    attained_by: Mapped[str] = mapped_column(String(20), default="course")


class Course(Base):
    __tablename__ = "course"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier_id: Mapped[int] = mapped_column(ForeignKey("tier.id"), index=True)
    provider: Mapped[str | None] = mapped_column(String(200))
    hours: Mapped[float | None] = mapped_column(Float)


class Cohort(Base):
    __tablename__ = "cohort"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    locality_id: Mapped[int | None] = mapped_column(ForeignKey("locality.id"), index=True)
    sessions: Mapped[int | None] = mapped_column(Integer)
    delivered_by: Mapped[str] = mapped_column(String(20), default="external")


class Enrolment(Base):
    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("person_id", "cohort_id", name="uq_enrolment_person_cohort"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    sessions_attended: Mapped[int | None] = mapped_column(Integer)


class SessionAttendance(Base):
    """Whether an enrolled person attended one numbered session of a cohort (the register)."""

    __tablename__ = "session_attendance"
    __table_args__ = (
        UniqueConstraint("person_id", "cohort_id", "session_no", name="uq_attendance_person_session"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    session_no: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[dt.date | None] = mapped_column(Date)
    attended: Mapped[bool] = mapped_column(Boolean, default=True)


class FacultyRole(Base):
    __tablename__ = "faculty_role"
    __table_args__ = (
        UniqueConstraint("person_id", "cohort_id", "role", name="uq_faculty_person_cohort_role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))


# --- Strategy ----------------------------------------------------------------------------------------


class Priority(Base):
    __tablename__ = "priority"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("priority.id"))


class Target(Base):
    __tablename__ = "target"
    __table_args__ = (
        UniqueConstraint("measure", "scope_type", "scope_code", "due_on", name="uq_target"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(60))
    value: Mapped[float] = mapped_column(Float)
    due_on: Mapped[dt.date] = mapped_column(Date)
    # "system", or "locality"/"pcn" with the code of that area in scope_code.
    scope_type: Mapped[str] = mapped_column(String(20), default="system")
    scope_code: Mapped[str] = mapped_column(String(40), default="")


# --- Projects ----------------------------------------------------------------------------------------


class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    aim: Mapped[str | None] = mapped_column(Text)
    priority_id: Mapped[int] = mapped_column(ForeignKey("priority.id"), index=True)
    lead_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    lead_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    pcn_id: Mapped[int | None] = mapped_column(ForeignKey("pcn.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"), index=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    patient_involvement: Mapped[bool] = mapped_column(Boolean, default=False)
    story: Mapped[str | None] = mapped_column(Text)
    lessons: Mapped[str | None] = mapped_column(Text)


class ProjectPartner(Base):
    """A partner organisation of a project (the import's ``partner_ods_codes`` list)."""

    __tablename__ = "project_partner"
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id"), primary_key=True, index=True
    )


class ProjectMember(Base):
    __tablename__ = "project_member"
    __table_args__ = (UniqueConstraint("project_id", "person_id", name="uq_member_project_person"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")


class ProgressScore(Base):
    __tablename__ = "progress_score"
    __table_args__ = (UniqueConstraint("project_id", "scored_on", name="uq_progress_project_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    scored_on: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[float] = mapped_column(Float)


class Measure(Base):
    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_measure_project_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="outcome")
    chart: Mapped[str] = mapped_column(String(10), default="run")
    unit: Mapped[str | None] = mapped_column(String(60))
    improvement: Mapped[str] = mapped_column(String(20), default="increase")
    target: Mapped[float | None] = mapped_column(Float)


class Observation(Base):
    __tablename__ = "observation"
    __table_args__ = (UniqueConstraint("measure_id", "period", name="uq_observation_measure_period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    value: Mapped[float] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)


class Change(Base):
    __tablename__ = "change"
    __table_args__ = (
        UniqueConstraint("project_id", "changed_on", "title", name="uq_change_project_date_title"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    changed_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="pdsa")
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measure.id"), index=True)


# --- Derived tables (rebuilt after every load) ---------------------------------------------------------


class TierAttainment(Base):
    """The earliest date each person attained each tier (DESIGN.md section 2), derived, never typed in."""

    __tablename__ = "tier_attainment"
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tier.id"), primary_key=True, index=True)
    attained_on: Mapped[dt.date] = mapped_column(Date, index=True)


class TrainedPerson(Base):
    """Each person who has attained a tier, on the day of their first (``tier_attainment``), with the
    facts about them that counts of people trained filter on, copied from ``person``; derived at every
    load (qidash.derive.rebuild_trained_people). Counting people trained by a date, or people in post
    per organisation, then reads one row per person instead of grouping every attainment."""

    __tablename__ = "trained_person"
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    trained_on: Mapped[dt.date] = mapped_column(Date, index=True)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    is_patient_partner: Mapped[bool] = mapped_column(Boolean, default=False)


class OrganisationSpan(Base):
    """When an organisation was at a stage of the coverage funnel, derived from what is typed in
    (qidash.derive.rebuild_organisation_spans): ``state`` holds on every date from ``starts_on`` up to
    but excluding ``ends_on`` (None: still holds). An organisation has a state on a date exactly when
    one of its spans for that state holds then; spans of one state never overlap or touch.

    - ``engaged``: someone of it enrolled (not withdrawn) on a cohort that has started;
    - ``trained``: someone in post (not yet left) who has attained a tier;
    - ``with_project``: it leads or partners an active project.
    """

    __tablename__ = "organisation_span"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    starts_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)


class TierReached(Base):
    """The first day each person reached at least each tier: the earliest day they attained that tier
    or a higher one of its framework (``tier_attainment``), derived at every load
    (qidash.derive.rebuild_tier_reached). Someone who only teaches has a row for every tier below
    theirs, as the funnel counts them; a person reached at least T by D when their row for T is
    dated on or before D."""

    __tablename__ = "tier_reached"
    # Counting a tier's people by a date, or by day, reads one range of this index.
    __table_args__ = (Index("ix_tier_reached_tier_reached_on", "tier_id", "reached_on"),)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tier.id"), primary_key=True)
    reached_on: Mapped[dt.date] = mapped_column(Date)


class MeasureAnalysis(Base):
    """Each measure's SPC / run-chart analysis, computed when its observations are loaded."""

    __tablename__ = "measure_analysis"
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), primary_key=True)
    last_period: Mapped[dt.date | None] = mapped_column(Date)
    n_points: Mapped[int] = mapped_column(Integer, default=0)
    ruleset: Mapped[str | None] = mapped_column(String(20))
    centre: Mapped[float | None] = mapped_column(Float)
    lcl: Mapped[float | None] = mapped_column(Float)
    ucl: Mapped[float | None] = mapped_column(Float)
    signal: Mapped[bool] = mapped_column(Boolean, default=False)
    improving: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    concern: Mapped[bool] = mapped_column(Boolean, default=False)
    variation_icon: Mapped[str | None] = mapped_column(String(30))
    assurance_icon: Mapped[str | None] = mapped_column(String(30))
    # The icons the charts show, for every rule set (qidash.spc_charts.variation_icon and
    # assurance_icon of the result): the engine's own for the nhs rules, from the last point otherwise.
    # Kept so a page listing thousands of measures need not read their full results.
    chart_variation_icon: Mapped[str | None] = mapped_column(String(30))
    chart_assurance_icon: Mapped[str | None] = mapped_column(String(30))
    # Which meaning of "improving" applies (DESIGN.md section 4): special cause at the latest point is
    # chart_variation_icon "improvement_*"; improved since baseline is this flag, with the rebase change
    # that began the latest phase (its title and date).
    improved_since_baseline: Mapped[bool | None] = mapped_column(Boolean, default=False)
    baseline_change: Mapped[str | None] = mapped_column(String(300))
    baseline_changed_on: Mapped[dt.date | None] = mapped_column(Date)
    # The engine's full result (SpcResult.to_dict()), so charts need no recomputation on page view.
    result: Mapped[dict | None] = mapped_column(JSON)
    # Whether the measure improved on its data up to ``past_as_of`` (the Overview's comparison date, a
    # year before the data's date), which holds for every date from ``past_from`` (the last period on
    # or before it; None: before the first period) up to but excluding ``past_until`` (the next period;
    # None: no later period). Pages asking for a date in that window read it instead of re-analysing.
    past_as_of: Mapped[dt.date | None] = mapped_column(Date)
    past_improving: Mapped[bool | None] = mapped_column(Boolean)
    past_from: Mapped[dt.date | None] = mapped_column(Date)
    past_until: Mapped[dt.date | None] = mapped_column(Date)


class DismissedRecalculation(Base):
    """A suggested recalculation (a new phase at ``starts_on``; docs/spc-rules.md, "When qidash suggests
    a recalculation") that an admin dismissed, so it is not offered again; who and when are also in
    the audit trail."""

    __tablename__ = "dismissed_recalculation"
    __table_args__ = (UniqueConstraint("measure_id", "starts_on", name="uq_dismissed_recalculation"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    change_title: Mapped[str | None] = mapped_column(String(300))
    dismissed_by: Mapped[str] = mapped_column(String(320))
    dismissed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class DerivedArea(Base):
    """A PCN's or locality's area as drawn around the member organisations' sites (qidash.geo), kept
    so the Capability map need not derive them when first opened. None for a boundary file: that is
    read when drawn."""

    __tablename__ = "derived_area"
    level: Mapped[str] = mapped_column(String(10), primary_key=True)  # "pcn" or "locality"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    # geo.Area.polygons: a list of polygons, each a list of rings of [longitude, latitude].
    polygons: Mapped[list] = mapped_column(JSON)


# --- Audit and settings ------------------------------------------------------------------------------


class ImportBatch(Base):
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict | None] = mapped_column(JSON)


class Setting(Base):
    """Small key/value facts about the database: which demo scenario it holds, the data version."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


Index("ix_enrolment_status_cohort", Enrolment.status, Enrolment.cohort_id)
Index("ix_person_org_left", Person.organisation_id, Person.left_on)
# Migration 0003: the remaining filters and joins of qidash/measures.py at national scale.
Index("ix_tier_attainment_person_attained", TierAttainment.person_id, TierAttainment.attained_on)
Index("ix_enrolment_cohort_status", Enrolment.cohort_id, Enrolment.status)
Index("ix_session_attendance_cohort_session", SessionAttendance.cohort_id, SessionAttendance.session_no)
Index("ix_project_member_role_project", ProjectMember.role, ProjectMember.project_id)
Index("ix_priority_parent_id", Priority.parent_id)


# --- Access ---------------------------------------------------------------------------------------------

ROLES = ("executive", "locality_lead", "faculty", "admin")


class User(Base):
    """Who may sign in, with which role and (for locality leads) which area.

    ``localities`` / ``pcns`` are ``;``-separated codes; empty means the whole system (never for a
    locality lead). ``oidc_issuer`` / ``oidc_subject`` are who the identity provider says this user is,
    bound at their first sign-in with a verified email; from then on they are matched by these alone.
    """

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_app_user_oidc_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    localities: Mapped[str] = mapped_column(String(500), default="")
    pcns: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))


class AuditEvent(Base):
    """Sign-ins, imports, exports, user changes and refused attempts, for admins to review."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[dict | None] = mapped_column(JSON)
