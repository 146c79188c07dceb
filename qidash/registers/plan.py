"""From the registers' rows to what a load changes: the plan per kind (add, update, close, reopen,
leave) and the section-3 rows that carry it out through the import path (qidash.ingest: the same
checks, rejected-row report, audit record, derived tables and data version as an import).

The rules (DESIGN.md section 9):
- Only one ICB's rows are kept: practices and trusts by their ICB column; care homes by their sub-ICB
  location (``Location Commissioning CCG Code``, looked up in the shipped ODS list), or, where the
  file does not say, by their coordinates falling inside the ICB's outline.
- Care homes match what is stored on their CQC location ID, then on their ODS code (CQC's, or
  ``CQC-`` and the location ID where CQC gives none); practices and trusts on their ODS code.
- Names, beds, kinds, postcodes, coordinates and practices' PCNs follow the register. What an admin
  set stays: sector, a trust's kind, offered_on, staff headcount, a home's PCN, a PCN's locality.
- A home, practice or trust of the register that is stored but no longer in it is closed
  (``closed_on``: the register's close date where it gives one, else the day of the load), never
  deleted; one that comes back reopens. A loaded organisation that the register never listed (no
  CQC ID for a home; a practice or trust the file lists under another ICB) is left alone.
- Rows with only a postcode are placed with the postcode lookup when one is given; otherwise they
  load without coordinates (and the data-quality panel lists them), never with invented ones.
- A new PCN goes to a locality named after its sub-ICB location. A new care home, which CQC does
  not align to a PCN, joins the PCN of its nearest practice; an admin can change both by import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from qidash import models as m
from qidash.map_fast_paths import nearest
from qidash.registers import cqc as cqc_reader
from qidash.registers import epcn as epcn_reader
from qidash.registers import lookups
from qidash.registers import ods as ods_reader
from qidash.registers import postcodes as postcode_lookup
from qidash.registers.tables import RegisterError, Source

TRUST_KINDS = ("acute_trust", "community_trust", "mental_health_trust", "ambulance_trust")
KIND_LABELS = {
    "care_homes": "care homes",
    "practices": "GP practices",
    "trusts": "NHS trusts",
    "pcns": "PCNs",
    "localities": "localities",
}
TOWN_LABELS = 12  # the main towns labelled on the map


@dataclass
class KindPlan:
    """What a load does to one kind: the names of what it adds, updates, closes and reopens, and how
    many stored ones it leaves as they are."""

    kind: str
    add: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    close: list[str] = field(default_factory=list)
    reopen: list[str] = field(default_factory=list)
    leave: int = 0

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def changes(self) -> int:
        return len(self.add) + len(self.update) + len(self.close) + len(self.reopen)


@dataclass
class Plan:
    """A planned load: ``kinds`` to show, ``frames`` (entity -> [(file, row, values)]) to write,
    ``notes`` for the admin, ``unplaced`` (names without coordinates), ``towns`` for the map."""

    icb: lookups.Icb
    kinds: dict[str, KindPlan]
    frames: dict[str, list[tuple[str, int | None, dict]]]
    files: list[Source]
    notes: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    towns: list[dict] = field(default_factory=list)
    postcode_lookup: bool = False  # whether a postcode lookup was given

    @property
    def changes(self) -> int:
        return sum(k.changes for k in self.kinds.values())


@dataclass
class _Stored:
    """What the database holds of organisations, PCNs and localities, read once."""

    orgs: dict[str, dict]  # ods_code -> columns (pcn_code for the PCN)
    by_cqc: dict[str, str]  # cqc_location_id -> ods_code
    pcns: dict[str, dict]
    localities: set[str]


def _stored(engine: Engine) -> _Stored:
    pcn = aliased(m.Pcn)
    o = m.Organisation
    cols = (
        o.ods_code,
        o.name,
        o.kind,
        o.sector,
        pcn.code.label("pcn_code"),
        o.postcode,
        o.latitude,
        o.longitude,
        o.beds,
        o.cqc_location_id,
        o.closed_on,
    )
    with engine.connect() as conn:
        orgs = {
            r["ods_code"]: dict(r)
            for r in conn.execute(select(*cols).outerjoin(pcn, pcn.id == o.pcn_id)).mappings()
        }
        loc = aliased(m.Locality)
        pcns = {
            r["code"]: dict(r)
            for r in conn.execute(
                select(m.Pcn.code, m.Pcn.name, loc.code.label("locality_code")).join(
                    loc, loc.id == m.Pcn.locality_id
                )
            ).mappings()
        }
        localities = set(conn.execute(select(m.Locality.code)).scalars())
    by_cqc = {r["cqc_location_id"]: code for code, r in orgs.items() if r["cqc_location_id"]}
    return _Stored(orgs, by_cqc, pcns, localities)


def plan(
    engine: Engine,
    icb_code: str,
    *,
    cqc=None,
    practices=None,
    pcns=None,
    trusts=None,
    postcodes=None,
    as_of: dt.date | None = None,
) -> Plan:
    """Read the registers given (paths or (name, bytes) uploads) and plan their load for one ICB.

    Raises RegisterError when nothing can be loaded: an unknown ICB, an unreadable file, a missing
    column, or files holding nothing of this ICB."""
    try:
        icb = lookups.icb(icb_code)
    except KeyError:
        raise RegisterError(
            f"There is no ICB with the ODS code {icb_code!r}. ICB codes are three characters, e.g. QT6 "
            "(Cornwall and the Isles of Scilly) or QJK (Devon)."
        ) from None
    if not any((cqc, practices, pcns, trusts)):
        raise RegisterError(
            "Give at least one register: a CQC file, practices (epraccur), PCNs (ePCN) or trusts (etr)."
        )
    as_of = as_of or dt.date.today()
    files: list[Source] = []
    homes = practice_rows = trust_rows = epcn = None
    if cqc is not None:
        source = Source.of(cqc)
        files.append(source)
        homes = (source, cqc_reader.read(source))
    if practices is not None:
        source = Source.of(practices)
        files.append(source)
        practice_rows = (source, ods_reader.read(source, "practices"))
    if trusts is not None:
        source = Source.of(trusts)
        files.append(source)
        trust_rows = (source, ods_reader.read(source, "trusts"))
    if pcns is not None:
        source = Source.of(pcns)
        files.append(source)
        epcn = (source, epcn_reader.read(source))
    lookup_files = postcode_lookup.sources(postcodes) if postcodes is not None else None
    if lookup_files:
        files.extend(lookup_files)

    builder = _Builder(icb, _stored(engine), as_of)
    # Keep this ICB's rows, before looking up postcodes for them.
    my_practices = my_trusts = my_homes = None
    if practice_rows:
        my_practices = builder.icb_rows(
            practice_rows, "practices", lambda r: r.setting == ods_reader.GP_PRACTICE
        )
    if trust_rows:
        my_trusts = builder.icb_rows(trust_rows, "trusts", lambda r: True)
    if homes:
        my_homes = builder.icb_homes(*homes, lookup_files)
    if epcn:
        builder.pcns(epcn, my_practices)

    wanted = {
        postcode_lookup.key(r.postcode)
        for rows in (my_practices, my_trusts)
        if rows
        for r in rows[1]
        if r.active
    }
    wanted |= {postcode_lookup.key(h.postcode) for h in (my_homes or ()) if h.latitude is None}
    builder.places = postcode_lookup.lookup(lookup_files, wanted - {""}) if lookup_files else {}
    builder.have_lookup = bool(lookup_files)

    if my_practices:
        builder.practices(*my_practices, epcn[1] if epcn else None)
    if my_trusts:
        builder.trusts(*my_trusts)
    if my_homes is not None:
        builder.homes(homes[0], my_homes)
    return builder.finish(files)


class _Builder:
    def __init__(self, icb: lookups.Icb, stored: _Stored, as_of: dt.date):
        self.icb, self.stored, self.as_of = icb, stored, as_of
        self.kinds: dict[str, KindPlan] = {}
        self.frames: dict[str, list] = {"localities": [], "pcns": [], "organisations": []}
        self.notes: list[str] = []
        self.unplaced: list[str] = []
        self.places: dict[str, tuple[float, float]] = {}
        self.have_lookup = False
        self.sites: list[tuple[float, float, str | None]] = []  # practices: lat, lon, PCN code
        self.towns: dict[str, list[tuple[float, float]]] = {}
        self.counties: set[str] = set()
        self.planned_pcns: set[str] = set()

    # --- which rows are this ICB's ------------------------------------------------------------------

    def icb_rows(self, rows, what: str, keep):
        source, all_rows = rows
        mine = [r for r in all_rows if r.icb_code == self.icb.code and keep(r)]
        if not mine:
            self._other_icb(source, what, [r.icb_code for r in all_rows if keep(r)])
        # Listed under another ICB, open: someone else's, whatever this database holds of them.
        elsewhere = {r.code for r in all_rows if r.icb_code != self.icb.code and r.active}
        return source, mine, elsewhere

    def _other_icb(self, source: Source, what: str, codes: list[str]):
        from collections import Counter

        common = Counter(c for c in codes if c).most_common(3)
        shown = ", ".join(
            f"{code} {lookups.icbs()[code].name if code in lookups.icbs() else ''} ({n:,})".replace("  ", " ")
            for code, n in common
        )
        raise RegisterError(
            f"{source.name} holds no {what} of ICB {self.icb.code} ({self.icb.name})"
            + (f"; its rows are in {shown}" if shown else "")
            + ". Choose the ICB the file is for, or the file for this ICB."
        )

    def icb_homes(self, source: Source, file: cqc_reader.CqcFile, lookup_files):
        """The homes of this ICB: by sub-ICB location, else by where they are (their coordinates, or
        their postcode's) inside the ICB's outline."""
        from shapely import Point

        subs = lookups.sub_icbs()
        mine, elsewhere, unplaced = [], [], []
        for home in file.homes:
            sub = subs.get(home.sub_icb or "")
            if sub is not None:
                (mine if sub.icb_code == self.icb.code else elsewhere).append(home)
            else:
                unplaced.append(home)
        if unplaced:
            outline = lookups.icb_shape(self.icb.code)
            wanted = {postcode_lookup.key(h.postcode) for h in unplaced if h.latitude is None}
            places = postcode_lookup.lookup(lookup_files, wanted) if lookup_files and wanted else {}
        unknown = 0
        for home in unplaced:
            lat, lon = home.latitude, home.longitude
            if lat is None or lon is None:
                lat, lon = places.get(postcode_lookup.key(home.postcode), (None, None))
            if lat is None:
                unknown += 1
            elif outline is not None and outline.contains(Point(lon, lat)):
                mine.append(home)
            else:
                elsewhere.append(home)
        if not mine:
            codes = [subs[h.sub_icb].icb_code for h in elsewhere if h.sub_icb in subs]
            self._other_icb(source, "care homes", codes)
        if unknown:
            self.notes.append(
                f"{source.name}: {unknown:,} care home{'s' if unknown != 1 else ''} name no sub-ICB "
                "location and have "
                "no coordinates (nor a postcode in the lookup), so whether they are in this ICB cannot be "
                "told; "
                "they were left out."
            )
        return mine

    # --- PCNs and localities ---------------------------------------------------------------------------

    def pcns(self, epcn, practices):
        source, file = epcn
        subs = {code for code, s in lookups.sub_icbs().items() if s.icb_code == self.icb.code}
        codes = {code for code, p in file.pcns.items() if p.sub_icb in subs and p.closed_on is None}
        if practices:
            codes |= {file.members[r.code] for r in practices[1] if r.active and r.code in file.members}
        codes &= set(file.pcns)
        if not codes:
            self._other_icb(
                source,
                "PCNs",
                [
                    lookups.sub_icbs()[p.sub_icb].icb_code
                    for p in file.pcns.values()
                    if p.sub_icb in lookups.sub_icbs()
                ],
            )
        kind = self.kinds.setdefault("pcns", KindPlan("pcns"))
        localities = self.kinds.setdefault("localities", KindPlan("localities"))
        new_localities: set[str] = set()
        for code in sorted(codes):
            p = file.pcns[code]
            name = lookups.place_name(p.name)
            old = self.stored.pcns.get(code)
            values = {"code": code, "name": name}
            if old is not None:
                values["locality_code"] = old["locality_code"]  # an admin's assignment stays
            else:
                sub = lookups.sub_icbs().get(p.sub_icb or "")
                locality = p.sub_icb or self.icb.code
                values["locality_code"] = locality
                if locality not in self.stored.localities and locality not in new_localities:
                    new_localities.add(locality)
                    locality_name = lookups.place_name(sub.name) if sub else self.icb.name
                    localities.add.append(locality_name)
                    self.frames["localities"].append(
                        (source.name, None, {"code": locality, "name": locality_name})
                    )
                kind.add.append(name)
            if old is not None and old["name"] != name:
                kind.update.append(name)
            elif old is not None:
                kind.leave += 1
            self.frames["pcns"].append((source.name, p.row, values))
        kind.leave += len(set(self.stored.pcns) - codes)
        localities.leave = len(self.stored.localities)
        self.planned_pcns = codes

    # --- organisations -------------------------------------------------------------------------------

    def _coordinates(self, values: dict, old: dict | None, lat, lon, postcode, name: str) -> None:
        """Set the row's coordinates: the register's, else the postcode lookup's; kept as stored when
        neither says and the postcode is unchanged; otherwise blank (listed as unplaced)."""
        if lat is None or lon is None:
            lat_lon = self.places.get(postcode_lookup.key(postcode))
            lat, lon = lat_lon if lat_lon else (None, None)
        if lat is not None:
            values["latitude"], values["longitude"] = round(lat, 6), round(lon, 6)
        elif old is not None and old["postcode"] == postcode and old["latitude"] is not None:
            lat, lon = old["latitude"], old["longitude"]  # left out: kept
        else:
            values["latitude"] = values["longitude"] = None
            self.unplaced.append(name)
        return lat, lon

    def _org(
        self, kind: KindPlan, file: str, row: int, old: dict | None, values: dict, compare: tuple
    ) -> None:
        values["closed_on"] = None
        name = values["name"]
        if old is None:
            kind.add.append(name)
        elif old["closed_on"] is not None:
            kind.reopen.append(name)
        elif any(old.get(c) != values[c] for c in compare if c in values):
            kind.update.append(name)
        else:
            kind.leave += 1
        self.frames["organisations"].append((file, row, values))

    def _closures(
        self,
        kind: KindPlan,
        file: str,
        kinds: tuple[str, ...],
        seen: set[str],
        elsewhere: set[str],
        closed: dict[str, dt.date],
        only=lambda old: True,
    ) -> None:
        """Close what the register listed before and lists no more; count what is left as it is."""
        for code, old in sorted(self.stored.orgs.items()):
            if old["kind"] not in kinds or code in seen:
                continue
            if old["closed_on"] is None and code not in elsewhere and only(old):
                kind.close.append(old["name"])
                self.frames["organisations"].append(
                    (
                        file,
                        None,
                        {
                            "ods_code": code,
                            "name": old["name"],
                            "kind": old["kind"],
                            "sector": old["sector"],
                            "closed_on": closed.get(code, self.as_of),
                        },
                    )
                )
            else:
                kind.leave += 1

    def practices(self, source: Source, rows: list, elsewhere: set[str], epcn) -> None:
        kind = self.kinds.setdefault("practices", KindPlan("practices"))
        seen = set()
        towns = ods_reader.towns([r for r in rows if r.active])
        for r in rows:
            if not r.active:
                continue
            old = self.stored.orgs.get(r.code)
            seen.add(r.code)
            name = lookups.place_name(r.name)
            values = {
                "ods_code": r.code,
                "name": name,
                "kind": "gp_practice",
                "sector": old["sector"] if old else "nhs",
                "postcode": r.postcode,
            }
            if epcn is not None:
                pcn = epcn.members.get(r.code)
                values["pcn_code"] = pcn if pcn in self.planned_pcns or pcn in self.stored.pcns else None
            lat, lon = self._coordinates(values, old, None, None, r.postcode, name)
            if lat is not None:
                pcn = values.get("pcn_code", old["pcn_code"] if old else None)
                self.sites.append((lat, lon, pcn))
                self._town(towns.get(r.code), lat, lon)
            self._org(
                kind,
                source.name,
                r.row,
                old,
                values,
                ("name", "kind", "postcode", "latitude", "longitude", "pcn_code"),
            )
        closed = {r.code: r.closed_on for r in rows if r.closed_on}
        self._closures(kind, source.name, ("gp_practice",), seen, elsewhere, closed)

    def trusts(self, source: Source, rows: list, elsewhere: set[str]) -> None:
        kind = self.kinds.setdefault("trusts", KindPlan("trusts"))
        seen = set()
        for r in rows:
            if not r.active:
                continue
            old = self.stored.orgs.get(r.code)
            seen.add(r.code)
            name = lookups.place_name(r.name)
            values = {
                "ods_code": r.code,
                "name": name,
                "kind": old["kind"] if old else ods_reader.trust_kind(r.name),
                "sector": old["sector"] if old else "nhs",
                "postcode": r.postcode,
            }
            self._coordinates(values, old, None, None, r.postcode, name)
            self._org(kind, source.name, r.row, old, values, ("name", "postcode", "latitude", "longitude"))
        closed = {r.code: r.closed_on for r in rows if r.closed_on}
        self._closures(kind, source.name, TRUST_KINDS, seen, elsewhere, closed)

    def homes(self, source: Source, homes: list) -> None:
        kind = self.kinds.setdefault("care_homes", KindPlan("care_homes"))
        seen, dormant, without_pcn = set(), [], []
        for h in homes:
            code = self.stored.by_cqc.get(h.location_id) or h.ods_code or f"CQC-{h.location_id}"
            if code in seen:
                continue  # a location listed twice
            old = self.stored.orgs.get(code)
            seen.add(code)
            values = {
                "ods_code": code,
                "name": h.name,
                "kind": "care_home_nursing" if h.nursing else "care_home_residential",
                "sector": old["sector"] if old else h.sector,
                "postcode": h.postcode,
                "beds": h.beds,
                "cqc_location_id": h.location_id,
            }
            lat, lon = self._coordinates(values, old, h.latitude, h.longitude, h.postcode, h.name)
            if (old is None or old["pcn_code"] is None) and lat is not None:
                without_pcn.append((values, lat, lon))
            if h.dormant:
                dormant.append(h.name)
            if lat is not None:
                self._town(h.city, lat, lon)
            if h.county:
                self.counties.add(h.county.upper())
            self._org(
                kind,
                source.name,
                h.row,
                old,
                values,
                ("name", "kind", "postcode", "beds", "latitude", "longitude", "cqc_location_id"),
            )
        self._nearest_pcns(without_pcn, kind)
        # Homes the register gave us (a CQC ID) that it lists no more; homes typed in by hand stay.
        self._closures(
            kind,
            source.name,
            m.CARE_HOME_KINDS,
            seen,
            set(),
            {},
            only=lambda old: old["cqc_location_id"] is not None,
        )
        if dormant:
            self.notes.append(
                f"{len(dormant):,} care home{'s are' if len(dormant) != 1 else ' is'} dormant in CQC's "
                "register (registered, "
                "not providing care now) and still load: "
                f"{', '.join(dormant[:5])}{' ...' if len(dormant) > 5 else ''}."
            )

    def _nearest_pcns(self, homes: list, kind: KindPlan) -> None:
        """New homes (and stored ones with no PCN) join the PCN of the nearest practice."""
        sites = [s for s in self.sites if s[2]]
        if not sites:
            for old in self.stored.orgs.values():
                if (
                    old["kind"] == "gp_practice"
                    and old["pcn_code"]
                    and old["latitude"] is not None
                    and old["closed_on"] is None
                ):
                    sites.append((old["latitude"], old["longitude"], old["pcn_code"]))
        if not sites or not homes:
            return
        at, _km = nearest(
            [lat for _values, lat, _lon in homes],
            [lon for _values, _lat, lon in homes],
            [s[0] for s in sites],
            [s[1] for s in sites],
        )
        given = 0
        for (values, _lat, _lon), site in zip(homes, at.tolist(), strict=True):
            values["pcn_code"] = sites[site][2]
            given += 1
            old = self.stored.orgs.get(values["ods_code"])
            if old is not None and old["closed_on"] is None and values["name"] not in kind.update:
                kind.update.append(values["name"])
                kind.leave -= 1
        if given:
            self.notes.append(
                f"{given:,} care home{'s' if given != 1 else ''} without a PCN joined the PCN of the "
                "nearest practice "
                "(CQC does not say which PCN a home is aligned to); change any of them through the import."
            )

    def _town(self, town: str | None, lat: float, lon: float) -> None:
        if town:
            self.towns.setdefault(lookups.place_name(town.strip().upper()), []).append((lat, lon))

    def finish(self, files: list[Source]) -> Plan:
        counties = {lookups.place_name(c) for c in self.counties}
        towns = []
        for name, points in sorted(self.towns.items(), key=lambda kv: -len(kv[1])):
            if name in counties or len(points) < 3:
                continue
            lats, lons = sorted(p[0] for p in points), sorted(p[1] for p in points)
            towns.append(
                {
                    "name": name,
                    "latitude": lats[len(lats) // 2],
                    "longitude": lons[len(lons) // 2],
                    "sites": len(points),
                }
            )
            if len(towns) == TOWN_LABELS:
                break
        order = ("care_homes", "practices", "trusts", "pcns", "localities")
        kinds = {k: self.kinds[k] for k in order if k in self.kinds}
        return Plan(self.icb, kinds, self.frames, files, self.notes, self.unplaced, towns, self.have_lookup)
