"""The tier funnel slide: how many people reached each tier of each framework, and the share of the tier
before who went on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from qidash import catalog, measures
from qidash.scope import Scope
from qidash.views.showcase.privacy import SUPPRESS_BELOW, people_count, suppressed

# Those the funnel slide alone needs: the page computes them when that slide is reached.
FUNNEL_KEYS = ("people_by_tier", "tier_conversion")


@dataclass(frozen=True)
class FunnelStage:
    code: str
    name: str
    value: int | None  # None when suppressed
    text: str
    conversion: str  # "72% of Learn", or "" (first tier, or suppressed)


@dataclass(frozen=True)
class Funnel:
    framework: str
    stages: tuple[FunnelStage, ...]


def funnels(conn: Connection, report: dict, public: bool, threshold: int) -> tuple[Funnel, ...]:
    out = []
    for ladder in catalog.frameworks(conn):
        stages = []
        tiers = ladder["tiers"]
        for i, tier in enumerate(tiers):
            n = report["people_by_tier"].get(tier["code"], 0)
            conversion = ""
            if i:
                prev = tiers[i - 1]
                before = report["people_by_tier"].get(prev["code"], 0)
                step = report["tier_conversion"].get(f"{prev['code']}->{tier['code']}") or {}
                ratio = step.get("ratio")
                if ratio is not None and not (
                    suppressed(n, public, threshold) or suppressed(before, public, threshold)
                ):
                    conversion = f"{ratio * 100:.0f}% of {prev['name']}"
            stages.append(
                FunnelStage(
                    tier["code"],
                    tier["name"],
                    None if suppressed(n, public, threshold) else n,
                    people_count(n, public, threshold),
                    conversion,
                )
            )
        if any(s.value for s in stages) or any(s.text.startswith("<") for s in stages):
            out.append(Funnel(ladder["name"], tuple(stages)))
    return tuple(out)


def showcase_funnels(
    conn: Connection, scope: Scope, as_of: dt.date, public: bool, threshold: int = SUPPRESS_BELOW
) -> tuple[Funnel, ...]:
    """The funnel slide alone: a funnel per framework with someone on it (none when nobody is trained)."""
    return funnels(conn, measures.report(conn, scope, as_of, FUNNEL_KEYS), public, threshold)

