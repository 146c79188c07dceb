"""scripts/load_test.py without servers: its bounds and how it sums replicas and sessions."""

import importlib.util

import pytest

from qidash import db

spec = importlib.util.spec_from_file_location("load_test", db.REPO_ROOT / "scripts" / "load_test.py")
load_test = importlib.util.module_from_spec(spec)
spec.loader.exec_module(load_test)


def test_the_load_test_reports_per_page_across_replicas_and_cpu_per_view():
    bases = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    results = [
        [{"page": "", "url": f"{bases[0]}/", "seconds": 1.0, "error": None},
         {"page": "tiers", "url": f"{bases[0]}/tiers", "seconds": 3.0, "error": None}],
        [{"page": "", "url": f"{bases[1]}/", "seconds": 2.0, "error": None},
         {"page": "tiers", "url": f"{bases[1]}/tiers", "seconds": None, "error": "TimeoutError"}],
    ]
    out = load_test.summarise("ws", bases, ["", "tiers"], 2, 1, [], results, 5.0, 10.0, 11.2)
    assert out["replicas"] == 2 and out["loads"] == 4 and out["ok"] == 3 and len(out["errors"]) == 1
    # Pages are counted by name whichever replica served them.
    assert out["per_page"][""] == {"n": 2, "p50_s": 1.5, "p95_s": 1.95}
    assert out["per_page"]["tiers"]["n"] == 1
    assert out["server_cpu_s"] == 1.2 and out["cpu_s_per_view"] == 0.4


def test_the_servers_cpu_is_summed_and_unknown_when_one_cannot_be_read(monkeypatch):
    monkeypatch.setattr(load_test, "cpu_seconds", {1: 2.0, 2: 3.5}.get)
    assert load_test.total_cpu([1, 2]) == 5.5
    assert load_test.total_cpu([1, 3]) is None


@pytest.mark.parametrize("args", [["--sessions", "51"], ["--replicas", "5"], ["--replicas", "0"],
                                  ["--url", "http://127.0.0.1:8501", "--replicas", "2"]])
def test_the_load_test_stays_within_its_bounds(args):
    with pytest.raises(SystemExit) as exc:
        load_test.main(args)
    assert exc.value.code == 2
