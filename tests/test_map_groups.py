"""Organisations grouped where their points would overlap on the opening view of the map."""

import pandas as pd

from qidash import map_groups


def orgs(rows):
    return pd.DataFrame(rows, columns=["ods_code", "longitude", "latitude", "stage", "pcn", "trained_in_post"])


def test_points_in_one_square_of_the_view_become_one_group_and_a_lone_point_stays_itself():
    frame = orgs([
        ("A", -5.0500, 50.2600, "trained", "P1", 2),
        ("B", -5.0501, 50.2601, "offered", "P1", 0),
        ("C", -5.0502, 50.2600, "offered", "P2", 0),
        ("D", -5.0503, 50.2602, "trained", None, 3),
        ("E", -3.0000, 51.0000, "engaged", "P3", 1),  # far away: alone
        ("F", None, None, "trained", "P1", 1),  # no location: not drawn
    ])
    alone, groups = map_groups.group_overlapping(frame, zoom=6.0)
    assert alone["ods_code"].tolist() == ["E"]
    assert len(groups) == 1
    group = groups.iloc[0]
    assert group["count"] == 4 and group["trained_in_post"] == 5
    assert (group["trained"], group["offered"], group["not_offered"]) == (2, 2, 0)
    # Two trained and two offered: a tie goes to the further stage.
    assert group["stage"] == "trained"
    assert group["pcn"] == "P1"
    assert abs(group["longitude"] - -5.05015) < 1e-9


def test_the_same_points_apart_at_a_closer_zoom_are_not_grouped():
    frame = orgs([("A", -5.05, 50.26, "trained", "P1", 1), ("B", -5.049, 50.26, "offered", "P1", 0)])
    assert len(map_groups.group_overlapping(frame, zoom=5.0)[1]) == 1
    # At zoom 14 the 0.001 degree between them is about 190 pixels.
    alone, groups = map_groups.group_overlapping(frame, zoom=14.0)
    assert len(alone) == 2 and groups.empty


def test_only_a_crowded_map_is_grouped():
    few = orgs([("A", -5.0, 50.0, "trained", "P1", 1)] * map_groups.CROWDED_ABOVE)
    assert not map_groups.is_crowded(few)
    more = orgs([("A", -5.0, 50.0, "trained", "P1", 1)] * (map_groups.CROWDED_ABOVE + 1))
    assert map_groups.is_crowded(more)
    unlocated = pd.concat([few, orgs([("B", None, None, "trained", "P1", 1)])])
    assert not map_groups.is_crowded(unlocated)


def test_a_crowded_map_draws_groups_and_every_point_is_one_click_away(monkeypatch):
    # The cornwall demo's 375 organisations count as crowded here, so the page groups the overlapping ones.
    from qidash import maps
    from tests.support import deck_specs, no_exceptions, open_page

    monkeypatch.setattr(map_groups, "CROWDED_ABOVE", 100)
    at = open_page("capability_map", "cornwall")
    no_exceptions(at)
    points = next(layer for layer in deck_specs(at)[0]["layers"] if layer["id"] == maps.ORGS_ID)["data"]
    groups = [p for p in points if "count" in p]
    alone = [p for p in points if "count" not in p]
    assert groups and alone and len(points) < 375
    assert all(p["ods_code"] is None and p["count"] >= 2 and p["title"].startswith(f"{p['count']} organisations")
               for p in groups)
    assert all(p["ods_code"] for p in alone)
    located = sum(p["count"] for p in groups) + len(alone)
    toggle = at.toggle(key="every_point")
    toggle.set_value(True).run()
    no_exceptions(at)
    every = next(layer for layer in deck_specs(at)[0]["layers"] if layer["id"] == maps.ORGS_ID)["data"]
    assert len(every) == located and not any("count" in p for p in every)


def test_a_map_that_is_not_crowded_offers_no_choice():
    from tests.support import no_exceptions, open_page

    at = open_page("capability_map", "cornwall")
    no_exceptions(at)
    assert not [t for t in at.toggle if t.key == "every_point"]


def test_a_groups_pcn_code_that_looks_like_deck_code_stays_text():
    import json

    from qidash import maps

    frame = orgs([("A", -5.05, 50.26, "trained", "@@=evil", 1), ("B", -5.05, 50.26, "offered", "@@=evil", 0)])
    _alone, groups = map_groups.group_overlapping(frame, zoom=6.0)
    (row,) = json.loads(maps.group_rows(groups).text)
    assert row["pcn"] == "@\u2060@=evil" and row["count"] == 2
