"""Public mode (an audience in the room): what a slide may show of people.

- counts of people under the threshold (default 5) are shown as "<5", and ratios built on such a
  count are not shown (they would give it away); a total split into staff and patients is shown
  without the split when either part is suppressed;
- nobody is named unless they consented to be named (:func:`person_name`); the people of a team who
  are not named are counted, not listed by role (a role in a small team identifies a person).

Organisation and project counts are not people and are never suppressed. Every slide's builder shows
people through these three functions, so public mode means the same on every slide and export.
"""

from __future__ import annotations

from qidash.palette import fmt_int

SUPPRESS_BELOW = 5


def people_count(n: int | None, public: bool, threshold: int = SUPPRESS_BELOW) -> str:
    """A count of people as it may be shown: "1,234", or "<5" in public mode when under the threshold
    (0 is shown: nobody cannot be identified)."""
    if n is None:
        return "–"
    if public and 0 < n < threshold:
        return f"<{threshold}"
    return fmt_int(n)


def suppressed(n: int | None, public: bool, threshold: int = SUPPRESS_BELOW) -> bool:
    """True when ``n`` people may not be shown as a number."""
    return bool(public and n is not None and 0 < n < threshold)


def person_name(display_name: str | None, consents: bool, can_see_people: bool) -> str | None:
    """The name a slide may give a person: only when they consented to be named and the viewer may see
    person-level detail; None otherwise (public mode included: consent is always required)."""
    if consents and display_name and can_see_people:
        return display_name
    return None
