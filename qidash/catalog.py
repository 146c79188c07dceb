"""Lists the filters and pickers offer: localities, PCNs, kinds and sectors present, the data's dates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select

from qidash import db
from qidash import models as m


def localities(conn: Connection) -> dict[str, str]:
    """Locality code -> name, by name."""
    return dict(conn.execute(select(m.Locality.code, m.Locality.name).order_by(m.Locality.name)).all())


def pcns(conn: Connection, locality: str | None = None) -> dict[str, str]:
    """PCN code -> name (of one locality when given), by name."""
    q = select(m.Pcn.code, m.Pcn.name).order_by(m.Pcn.name)
    if locality:
        q = q.join(m.Locality, m.Locality.id == m.Pcn.locality_id).where(m.Locality.code == locality)
    return dict(conn.execute(q).all())


def kinds_present(conn: Connection) -> list[str]:
    """Organisation kinds the database holds, in the schema's order."""
    present = set(conn.scalars(select(m.Organisation.kind).distinct()))
    return [k for k in m.ORG_KINDS if k in present]


def sectors_present(conn: Connection) -> list[str]:
    present = set(conn.scalars(select(m.Organisation.sector).distinct()))
    return [s for s in m.SECTORS if s in present]


def date_span(conn: Connection) -> tuple[dt.date | None, dt.date | None]:
    """The earliest and latest dates in the data (cohort starts, completions, observations, scores).

    Dates outside what the import accepts (db.EARLIEST_DATE to db.LATEST_DATE, e.g. a year 0001 loaded
    by an older version) are left out: the Data page's quality lists show them.
    """
    lows, highs = [], []
    for col in (m.Cohort.start_date, m.Observation.period, m.ProgressScore.scored_on, m.Project.start_date):
        plausible = col.between(db.EARLIEST_DATE, db.LATEST_DATE)
        lo, hi = conn.execute(select(func.min(col), func.max(col)).where(plausible)).one()
        if lo:
            lows.append(db.as_date(lo))
            highs.append(db.as_date(hi))
    return (min(lows) if lows else None, max(highs) if highs else None)


def priorities(conn: Connection) -> dict[str, str]:
    """Priority code -> name."""
    return dict(conn.execute(select(m.Priority.code, m.Priority.name).order_by(m.Priority.code)).all())


def tier_names(conn: Connection) -> dict[str, str]:
    """Tier code -> name, in framework and rank order."""
    return dict(
        conn.execute(select(m.Tier.code, m.Tier.name).order_by(m.Tier.framework_id, m.Tier.rank)).all()
    )


def frameworks(conn: Connection) -> list[dict]:
    """Each tier framework with its ladder: ``code``, ``name`` and ``tiers`` (dicts of ``code``,
    ``name``, ``rank``, ``attained_by``, lowest rank first), frameworks in the order they were loaded."""
    rows = conn.execute(
        select(m.Framework.code, m.Framework.name, m.Tier.code, m.Tier.name, m.Tier.rank, m.Tier.attained_by)
        .join(m.Tier, m.Tier.framework_id == m.Framework.id)
        .order_by(m.Framework.id, m.Tier.rank)
    ).all()
    out: dict[str, dict] = {}
    for fw_code, fw_name, code, name, rank, attained_by in rows:
        ladder = out.setdefault(fw_code, {"code": fw_code, "name": fw_name, "tiers": []})
        ladder["tiers"].append({"code": code, "name": name, "rank": rank, "attained_by": attained_by})
    return list(out.values())


def localities_of_pcns(conn: Connection, pcn_codes: tuple[str, ...]) -> list[str]:
    """Codes of the localities the given PCNs belong to."""
    if not pcn_codes:
        return []
    return list(
        conn.scalars(
            select(m.Locality.code).join(m.Pcn, m.Pcn.locality_id == m.Locality.id)
            .where(m.Pcn.code.in_(pcn_codes)).distinct()
        )
    )


def pcns_within(conn: Connection, locality_codes: tuple[str, ...], pcn_codes: tuple[str, ...]) -> set[str]:
    """Codes of the PCNs inside the given localities, plus the given PCNs."""
    inside = set(
        conn.scalars(
            select(m.Pcn.code).join(m.Locality, m.Locality.id == m.Pcn.locality_id)
            .where(m.Locality.code.in_(locality_codes or ()))
        )
    )
    return inside | set(pcn_codes)


def projects_query(scope=None, as_of: dt.date | None = None, *columns):
    """SELECT code, title and ``columns`` of the projects started by ``as_of`` (every project when None)
    led by or partnered with an organisation in ``scope`` (every project when None), by code: what
    every list of projects to choose from reads (add joins for ``columns`` from other tables)."""
    q = select(m.Project.code, m.Project.title, *columns).order_by(m.Project.code)
    if scope is not None:
        q = q.where(scope.project_condition())
    if as_of is not None:
        q = q.where(m.Project.start_date <= as_of)
    return q


def projects(conn: Connection, scope=None, as_of: dt.date | None = None) -> dict[str, str]:
    """Project code -> "code · title", by code, of :func:`projects_query`."""
    return {code: f"{code} · {title}" for code, title in conn.execute(projects_query(scope, as_of))}


def pcn_localities(conn: Connection) -> list[dict]:
    """Every PCN with its locality, by PCN code: ``pcn``, ``pcn_name``, ``locality``, ``locality_name``."""
    rows = conn.execute(
        select(m.Pcn.code, m.Pcn.name, m.Locality.code, m.Locality.name)
        .join(m.Locality, m.Locality.id == m.Pcn.locality_id)
        .order_by(m.Pcn.code)
    ).all()
    return [{"pcn": p, "pcn_name": pn, "locality": lc, "locality_name": ln} for p, pn, lc, ln in rows]


def pcn_sites(conn: Connection) -> list[tuple[str, float, float]]:
    """(PCN code, latitude, longitude) of every organisation that belongs to a PCN and has a location,
    by PCN code then ODS code: the sites PCN areas are drawn around when no boundary file is supplied."""
    return [
        tuple(r)
        for r in conn.execute(
            select(m.Pcn.code, m.Organisation.latitude, m.Organisation.longitude)
            .join(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
            .where(m.Organisation.latitude.is_not(None), m.Organisation.longitude.is_not(None))
            .order_by(m.Pcn.code, m.Organisation.ods_code)
        )
    ]
