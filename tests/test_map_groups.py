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
