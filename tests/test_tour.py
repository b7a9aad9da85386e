"""``mlcourse run all``: tutorials side by side in their own processes, a timing one alone."""

import os
import subprocess
import sys

import pytest

FAKE = '''"""Lecture 98: a tutorial that only records when it ran."""

import time
from pathlib import Path

from mlcourse import runner

TUTORIAL = {{"id": "{id}", "lecture": "98", "title": "{id}", "alone": {alone}}}
OPTIONS = {{}}


def main(config):
    with runner.Run(TUTORIAL, config) as run:
        started = time.time()
        time.sleep(3)
        with open(Path(config.logdir) / "times.txt", "a") as times:
            times.write(f"{{TUTORIAL['id']}} {{started}} {{time.time()}}\\n")
        run.verdict("{id} holds", "nothing measured", True)


if __name__ == "__main__":
    runner.script(main, TUTORIAL, OPTIONS, __doc__)
'''


def _tour(tmp_path, *flags):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcourse",
            "run",
            "all",
            "--smoke",
            "--logdir",
            str(tmp_path / "logs"),
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MLCOURSE_TUTORIALS": str(tmp_path / "tutorials")},
    )


@pytest.mark.slow
def test_two_at_a_time_and_the_timing_tutorial_alone(tmp_path):
    folder = tmp_path / "tutorials"
    folder.mkdir()
    for name, alone in (("l98_a", False), ("l98_b", False), ("l98_c", True)):
        tutorial_id = name.replace("_", "-")
        (folder / f"{name}.py").write_text(FAKE.format(id=tutorial_id, alone=alone))
    result = _tour(tmp_path, "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    times = {}
    for line in (tmp_path / "logs" / "times.txt").read_text().splitlines():
        name, start, end = line.split()
        times[name] = (float(start), float(end))
    (a_start, a_end), (b_start, b_end), (c_start, _) = (
        times["l98-a"],
        times["l98-b"],
        times["l98-c"],
    )
    assert a_start < b_end and b_start < a_end, "a and b ran side by side"
    assert c_start > max(a_end, b_end), "the timing tutorial ran with nothing beside it"
    out = result.stdout
    assert "3 tutorials, 2 at a time" in out
    assert "l98-c: lecture 98, l98-c (smoke run) started alone: it measures time" in out
    assert "[3/3] l98-c: done in" in out and "[not judged (smoke run)] l98-c holds" in out
    assert "total" in out.splitlines()[-1]
    assert (tmp_path / "logs" / "l98-a" / "tour.log").read_text().startswith("l98-a: l98-a")
    again = _tour(tmp_path, "--jobs", "2")  # complete: shown, no process started
    assert again.returncode == 0, again.stdout + again.stderr
    assert "[2/3] l98-b: already complete with these options in" in again.stdout
    assert "--fresh runs it again" in again.stdout and "started" not in again.stdout
    assert "[not judged (smoke run)] l98-b holds" in again.stdout
    assert len((tmp_path / "logs" / "times.txt").read_text().splitlines()) == 3


def test_bad_jobs_flag_exits_2_naming_it(tmp_path):
    result = _tour(tmp_path, "--jobs", "0")
    assert result.returncode == 2 and "--jobs" in result.stderr
