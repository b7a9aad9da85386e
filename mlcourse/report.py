"""``mlcourse report``: the course's report card, from the latest complete run of every tutorial.

It reads ``run.json`` only (no TensorFlow), prints one table of every verdict (lecture, claim,
measured, verdict, mode, seeds), and writes ``<logdir>/report.html``: one section per lecture with
its verdicts and the figures its run saved, readable in any browser without TensorBoard.
``--json`` prints the verdicts as a JSON list instead; the keys ``tutorial``, ``lecture``,
``claim``, ``measured``, ``verdict``, ``mode`` and ``seeds`` are a contract.
"""

import argparse
import json
import sys
from pathlib import Path

import jinja2

from mlcourse import options, tutorials
from mlcourse.commands import command
from mlcourse.options import SMOKE_BANNER
from mlcourse.record import latest_complete
from mlcourse.tables import format_table
from mlcourse.verdicts import OUTCOMES

__all__ = ["collect", "main", "render_html"]

CONTRACT = ("tutorial", "lecture", "claim", "measured", "verdict", "mode", "seeds")


def _css(outcome):
    return {"holds": "holds", "does not hold": "does-not-hold", "inconclusive": "inconclusive"}.get(
        outcome, "not-judged"
    )


def collect(logdir, mode=None):
    """One section per tutorial (in course order) with its latest complete run, if any.

    Args:
        logdir: the log root.
        mode: only runs of this mode (``smoke``, ``lecture``, ``full``); ``None``: any.
    """
    logdir = Path(logdir)
    sections = []
    for tutorial in tutorials.discover():
        folder, record = latest_complete(logdir / tutorial.id, mode=mode)
        section = {
            "id": tutorial.id,
            "lecture": tutorial.lecture,
            "title": tutorial.title,
            "record": record,
            "command": f"mlcourse run {tutorial.id}",
            "verdicts": [],
            "figures": [],
        }
        if record is not None:
            section.update(
                folder=str(folder),
                mode=record.mode,
                seed=record.options.get("seed", 0),
                finished=record.finished.replace("T", " "),
                seconds=f"{record.seconds:.0f}",
                banner=SMOKE_BANNER if record.mode == "smoke" else "",
                verdicts=list(record.verdicts),
                figures=[
                    {"name": png.stem, "src": png.relative_to(logdir).as_posix()}
                    for png in sorted(folder.glob("*.png"))
                ],
            )
        sections.append(section)
    return sections


def verdict_list(sections):
    """Every verdict of every section, as dicts with the contract's keys first."""
    found = []
    for section in sections:
        for verdict in section["verdicts"]:
            row = {key: verdict.get(key) for key in CONTRACT}
            row.update(reason=verdict.get("reason", ""), run=section.get("folder", ""))
            found.append(row)
    return found


def tally(verdicts):
    """``[(outcome, count), ...]`` in the order of ``OUTCOMES``, outcomes that occur only."""
    counts = {outcome: 0 for outcome in OUTCOMES}
    for verdict in verdicts:
        counts[verdict["verdict"]] = counts.get(verdict["verdict"], 0) + 1
    return [(outcome, n) for outcome, n in counts.items() if n]


def render_html(sections, logdir):
    """The report page as a string (Jinja2 template ``mlcourse/templates/report.html.j2``)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mlcourse", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    environment.filters["css"] = _css
    verdicts = verdict_list(sections)
    board = _board(logdir)
    for section in sections:
        section["board"] = command("board", section["id"], logdir=logdir)
    return environment.get_template("report.html.j2").render(
        sections=sections, verdicts=verdicts, tally=tally(verdicts), logdir=logdir, board=board
    )


def _board(logdir):
    return command("board", logdir=logdir)


def print_table(sections):
    """The terminal report: one wrapped table of every verdict, then the tally."""
    verdicts = verdict_list(sections)
    rows = [
        {
            "lecture": v["lecture"],
            "claim": v["claim"],
            "measured": v["measured"],
            "verdict": v["verdict"] + (f": {v['reason']}" if v["reason"] else ""),
            "mode": v["mode"],
            "seeds": v["seeds"],
        }
        for v in verdicts
    ]
    if rows:
        print(format_table(rows, wrap={"claim": 44, "measured": 48, "verdict": 28}))
    missing = [s["id"] for s in sections if s["record"] is None]
    counts = ", ".join(f"{n} {outcome}" for outcome, n in tally(verdicts))
    print(
        f"\n{len(verdicts)} verdicts from {len(sections) - len(missing)} tutorials: "
        f"{counts or 'none'}"
    )
    if missing:
        print("not run yet: " + ", ".join(missing) + " (mlcourse run ID, or make tour)")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="mlcourse report",
        description="The course's report card: every verdict of the latest complete runs.",
    )
    parser.add_argument("--logdir", type=Path, default=None, help="log root (default logs/)")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.add_argument(
        "--mode", choices=options.MODES, default=None, help="only runs of this mode"
    )
    args = parser.parse_args(argv)
    logdir = args.logdir or options.default_logdir()
    sections = collect(logdir, args.mode)
    if args.json:
        json.dump(verdict_list(sections), sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    print_table(sections)
    if not logdir.is_dir():
        return 0
    page = logdir / "report.html"
    page.write_text(render_html(sections, logdir), encoding="utf-8")
    print(f"report page: {page} (open it in any browser)")
    return 0
