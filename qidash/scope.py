"""The filters every measure, page and export takes: locality, PCN, organisation kind, sector.

A person is in a scope through their organisation. A project is in a scope when its lead organisation
or any partner organisation is. An organisation with no PCN is outside every locality and PCN filter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Engine, Select, or_, select

from qidash import models as m

# Each filter in words, as the scope's label names it ("PCN", not the field name "pcn").
FILTER_WORDS = {"locality": "locality", "pcn": "PCN", "kind": "kind", "sector": "sector"}

# "care_home" is offered as a kind that means both kinds of care home.
KIND_GROUPS = {"care_home": m.CARE_HOME_KINDS}


class UnknownCode(ValueError):
    """A scope names a code or value that does not exist; the message lists what does."""


@dataclass(frozen=True)
class Scope:
    """What to count. ``within_*`` is the signed-in user's permitted area (a locality lead's
    localities or PCNs): it is ANDed into every condition, so no filter or URL can reach outside it.
    """

    locality: str | None = None
    pcn: str | None = None
    kind: str | None = None
    sector: str | None = None
    within_localities: tuple[str, ...] | None = None
    within_pcns: tuple[str, ...] | None = None

    @property
    def is_system(self) -> bool:
        return not (self.locality or self.pcn or self.kind or self.sector or self.is_restricted)

    @property
    def is_restricted(self) -> bool:
        return self.within_localities is not None or self.within_pcns is not None

    def with_(self, **changes) -> Scope:
        return replace(self, **changes)

    def label(self, names: dict[str, str] | None = None, area: str | None = None) -> str:
        """The scope in words, e.g. "locality Woking, PCN Woking Central PCN, sector NHS"; ``names`` gives
        codes' display names (without it, codes are shown as they are); ``area`` names the user's
        permitted area ("West Cornwall") when no locality or PCN is chosen within it."""
        names = names or {}
        parts = [
            f"{FILTER_WORDS[k]} {names.get(v, v)}"
            for k, v in vars(self).items()
            if v and not k.startswith("within_")
        ]
        if self.is_restricted and not (self.locality or self.pcn):
            parts.insert(0, area or "your area")
        return ", ".join(parts) if parts else "whole system"

    def kinds(self) -> tuple[str, ...] | None:
        if not self.kind:
            return None
        return KIND_GROUPS.get(self.kind, (self.kind,))

    def org_conditions(self) -> list:
        """WHERE conditions on ``Organisation`` (the caller joins nothing: sub-selects are used)."""
        conds = []
        if self.kinds():
            conds.append(m.Organisation.kind.in_(self.kinds()))
        if self.sector:
            conds.append(m.Organisation.sector == self.sector)
        if self.pcn:
            conds.append(
                m.Organisation.pcn_id.in_(select(m.Pcn.id).where(m.Pcn.code == self.pcn).scalar_subquery())
            )
        if self.locality:
            conds.append(
                m.Organisation.pcn_id.in_(
                    select(m.Pcn.id)
                    .join(m.Locality, m.Locality.id == m.Pcn.locality_id)
                    .where(m.Locality.code == self.locality)
                    .scalar_subquery()
                )
            )
        if self.is_restricted:
            conds.append(m.Organisation.pcn_id.in_(self.permitted_pcn_ids()))
        return conds

    def permitted_pcn_ids(self) -> Select:
        """SELECT of the PCN ids inside the user's permitted area (empty when none)."""
        localities = self.within_localities or ()
        pcns = self.within_pcns or ()
        return (
            select(m.Pcn.id)
            .join(m.Locality, m.Locality.id == m.Pcn.locality_id)
            .where(or_(m.Locality.code.in_(localities), m.Pcn.code.in_(pcns)))
        )

    def org_ids(self) -> Select:
        """SELECT of the ids of organisations in scope."""
        return select(m.Organisation.id).where(*self.org_conditions())

    def person_ids(self) -> Select:
        if self.is_system:
            return select(m.Person.id)
        return select(m.Person.id).where(m.Person.organisation_id.in_(self.org_ids()))

    def person_conditions(self, person_id) -> list:
        """WHERE conditions putting ``person_id`` (a column of person ids) in scope: none when
        unfiltered, where every person id names a person and a list of everyone only costs time."""
        return [] if self.is_system else [person_id.in_(self.person_ids())]

    def project_condition(self):
        """A condition on ``Project``: led by, or partnered with, an organisation in scope."""
        if self.is_system:
            return m.Project.id.is_not(None)
        orgs = self.org_ids()
        # An uncorrelated IN list of partnered projects: a correlated EXISTS made SQLite walk the
        # whole list of organisations in scope once per project (0.35 s per measure at scale 50).
        partnered = select(m.ProjectPartner.project_id).where(m.ProjectPartner.organisation_id.in_(orgs))
        return or_(m.Project.lead_organisation_id.in_(orgs), m.Project.id.in_(partnered))

    def validate(self, engine: Engine) -> None:
        """Raise UnknownCode when a filter names something the database does not hold."""
        with engine.connect() as conn:
            if self.locality:
                _check(conn, m.Locality.code, self.locality, "locality")
            if self.pcn:
                _check(conn, m.Pcn.code, self.pcn, "PCN")
        if self.kind and self.kind not in m.ORG_KINDS and self.kind not in KIND_GROUPS:
            raise UnknownCode(
                f"Unknown organisation kind {self.kind!r}. Use one of: "
                f"{', '.join((*KIND_GROUPS, *m.ORG_KINDS))}."
            )
        if self.sector and self.sector not in m.SECTORS:
            raise UnknownCode(f"Unknown sector {self.sector!r}. Use one of: {', '.join(m.SECTORS)}.")


def _check(conn, column, code: str, what: str) -> None:
    if conn.execute(select(column).where(column == code)).first() is None:
        known = [c for (c,) in conn.execute(select(column).order_by(column).limit(30))]
        hint = f" Known codes include: {', '.join(known)}." if known else " The database holds none yet."
        raise UnknownCode(f"Unknown {what} code {code!r}.{hint}")
