"""``mlcourse run all``: every tutorial, two at a time on a machine with two cores or more.

Most of a lecture run's time is fixed cost per trained model (tracing, callbacks, the first
epoch), which one process spends on one core; two tutorials side by side use both. Each runs in
its own process (``python -m mlcourse run ID ...``, its output kept in ``<logdir>/<id>/tour.log``);
the terminal gets one line as each starts and its verdicts as it ends, then one table. A tutorial
whose verdicts rest on timings says ``"alone": True`` in its ``TUTORIAL`` (l05's time per update,
l11's cost of attention) and runs with nothing beside it, so its clock measures only itself.
Ctrl-C stops them all; the same command resumes, each tutorial in its own run folder, and shows
a tutorial already complete with the same options without starting it again.

TensorFlow backend only: each tutorial process checks it.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mlcourse.record import complete_lines, complete_run, run_to_show
from mlcourse.verdicts import tally, verdict_lines

__all__ = ["LOG_NAME", "default_jobs", "run_parallel", "table_row"]

#: Each tutorial's output during ``mlcourse run all --jobs N`` (N > 1), in its log folder.
LOG_NAME = "tour.log"


def table_row(tutorial_id, status, seconds, verdicts):
    """A tutorial's row of ``run all``'s final table."""
    return {
        "tutorial": tutorial_id,
        "status": status,
        "seconds": round(seconds, 1),
        "verdicts": tally(verdicts) or "-",
    }


def default_jobs():
    """Tutorials run side by side: 2 where there are two cores or more, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


class _Job:
    """One tutorial's process."""

    def __init__(self, number, tutorial, config, argv):
        self.number, self.tutorial, self.config = number, tutorial, config
        self.log = Path(config.logdir) / tutorial.id / LOG_NAME
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "mlcourse", "run", tutorial.id, *argv]
        self.started = time.time()
        with open(self.log, "a") as handle:
            self.process = subprocess.Popen(
                command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C: it saves what it has

    def row(self, count):
        """Print how it ended (its verdicts); its row of the final table."""
        seconds = time.time() - self.started
        ok = self.process.returncode == 0
        _, record = complete_run(self.tutorial.id, self.config)
        verdicts = record.verdicts if record is not None and ok else []
        row = table_row(self.tutorial.id, "ok" if ok else "failed", seconds, verdicts)
        head = f"[{self.number}/{count}] {self.tutorial.id}"
        if ok:
            print(f"\n{head}: done in {seconds:.0f} s ({row['verdicts']}); its output: {self.log}")
            for line in verdict_lines(verdicts):
                print(line)
        else:
            last = self.log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            print(f"\n{head}: failed ({last[0]}); see {self.log}", file=sys.stderr)
        sys.stdout.flush()
        return row


def _show_complete(number, count, tutorial, config):
    """A tutorial already complete with these options: its verdicts and its table row, with no
    process started (``None`` when it has to run)."""
    folder, record = run_to_show(tutorial.id, config)
    if record is None:
        return None
    print("\n" + "\n".join(complete_lines(f"[{number}/{count}] {tutorial.id}", folder, record)))
    sys.stdout.flush()
    return table_row(tutorial.id, "ok", record.seconds, record.verdicts)


def run_parallel(planned, argv, jobs):
    """Run each ``(tutorial, config)`` in its own process, at most ``jobs`` at once; the rows of
    the final table (in the tutorials' order) and whether any failed. ``argv``: the flags given to
    ``mlcourse run all``, passed on to each tutorial."""
    waiting = list(enumerate(planned, start=1))
    running, rows = [], {}
    try:
        while waiting or running:
            for job in [j for j in running if j.process.poll() is not None]:
                running.remove(job)
                rows[job.number] = job.row(len(planned))
            alone_running = any(j.tutorial.alone for j in running)
            if waiting and not alone_running and len(running) < jobs:
                number, (tutorial, config) = waiting[0]
                shown = _show_complete(number, len(planned), tutorial, config)
                if shown is not None:
                    waiting.pop(0)
                    rows[number] = shown
                    continue
                if not tutorial.alone or not running:
                    waiting.pop(0)
                    side = " alone: it measures time" if tutorial.alone else ""
                    print(
                        f"\n[{number}/{len(planned)}] {tutorial.id}: lecture {tutorial.lecture}, "
                        f"{tutorial.title} ({config.mode} run) started{side}",
                        flush=True,
                    )
                    running.append(_Job(number, tutorial, config, argv))
                    continue
            time.sleep(0.2)
    except KeyboardInterrupt:
        for job in running:
            job.stop()
        for job in running:
            job.process.wait()
        raise
    ordered = [rows[n] for n in sorted(rows)]
    return ordered, any(row["status"] != "ok" for row in ordered)
