"""The one benchmark command: harness, verdicts, the CLI and its JSON (timing targets are not
asserted here).
"""

import json
import subprocess
import sys

import pytest

from mlcourse import bench, options


class FakeClock:
    """A clock that advances by the cost each fake step declares, so ratios are exact."""

    def __init__(self):
        self.now, self.calls = 0.0, []

    def __call__(self):
        return self.now

    def step(self, name, cost):
        def run():
            self.calls.append(name)
            self.now += cost
            return 0.0

        return run


def test_measure_alternates_after_a_warm_up_and_reports_per_round_ratios():
    clock = FakeClock()
    timing = bench.measure(
        clock.step("ours", 3.0), clock.step("ref", 2.0), rounds=4, calls=1, clock=clock
    )
    assert timing["ratios"] == [1.5] * 4
    assert timing["ours"] == [3.0] * 4 and timing["reference"] == [2.0] * 4
    assert clock.calls[:4] == ["ours", "ours", "ref", "ref"]  # warm-up of each
    assert clock.calls[4:] == ["ours", "ref", "ref", "ours", "ours", "ref", "ref", "ours"]


def test_measure_picks_enough_calls_for_the_shortest_measurement():
    clock = FakeClock()
    timing = bench.measure(
        clock.step("ours", 0.01), clock.step("ref", 0.02), rounds=1, min_seconds=0.1, clock=clock
    )
    assert timing["calls"] == 5 and timing["ratios"] == [pytest.approx(0.5)]


def test_verdict_flags_a_median_over_its_target():
    assert bench.verdict(1.04, 1.05) == "ok"
    assert bench.verdict(1.06, 1.05) == "MISS"
    assert bench.verdict(7.0, None) == "story"


def test_every_group_has_comparisons_with_targets_where_the_issue_sets_them():
    import importlib

    targets = {}
    for group, module in options.BENCH_GROUPS.items():
        comparisons = list(
            importlib.import_module(f"mlcourse.bench.{module}").comparisons(smoke=False)
        )
        assert comparisons and all(c.group == group for c in comparisons)
        targets[group] = {c.target for c in comparisons}
    assert 1.05 in targets["optimizers"]
    assert targets["normalization"] == {1.2} and targets["attention"] == {1.2}
    assert targets["convolution"] == targets["attention-cost"] == targets["hessian"] == {None}


def test_bench_runs_groups_in_one_process_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    status = bench.main(
        ["--smoke", "--only", "normalization,attention-cost", "--rounds", "2", "--json", str(path)]
    )
    result = json.loads(path.read_text())
    rows = result["rows"]
    assert {row["group"] for row in rows} == {"normalization", "attention-cost"} and len(rows) == 4
    for row in rows:
        assert row["rounds"] == 2 and row["ratio min"] <= row["ratio median"] <= row["ratio max"]
        assert row["ours ms"] > 0 and row["reference ms"] > 0
    assert {row["verdict"] for row in rows if row["group"] == "attention-cost"} == {"story"}
    missed = [row for row in rows if row["verdict"] == "MISS"]
    assert status == (1 if missed else 0)
    out = capsys.readouterr().out
    assert "ratio median" in out and f"{len(missed)} missed" in out
    assert result["environment"]["rounds"] == 2 and result["environment"]["smoke"] is True


@pytest.mark.parametrize(
    "argv, allowed",
    [
        (["--only", "nosuch"], "valid: optimizers, normalization, attention"),
        (["--rounds", "0"], "--rounds must be an integer in [1, "),
        (["--clock", "sundial"], "choose from 'cpu', 'wall'"),
    ],
)
def test_bad_bench_flags_exit_2_with_the_choices(argv, allowed):
    result = subprocess.run(
        [sys.executable, "-m", "mlcourse", "bench", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert allowed in result.stderr, result.stderr


def test_bench_clock_names_are_the_ones_the_parser_offers():
    assert set(bench.CLOCKS) == set(options.BENCH_CLOCKS)
