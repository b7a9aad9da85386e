"""The ``mlcourse`` command: list and run tutorials, open TensorBoard, prepare the offline data.

    mlcourse list
    mlcourse run ID|all [--smoke|--full] [--seed N] [--logdir DIR] [tutorial options]
    mlcourse run all [--jobs N] ...   (N tutorials side by side, default 2 on 2+ cores)
    mlcourse report [--logdir DIR] [--json] [--mode MODE]
    mlcourse board [ID [--latest]] [--logdir DIR] [--port P]
    mlcourse data prepare|check [--download]
    mlcourse notebook ID|all [--out DIR] [--execute [--smoke|--full] [--seed N] [--logdir DIR]]
    mlcourse bench [--only GROUP,...] [--smoke] [--json PATH]   (every custom-vs-Keras timing; see
    mlcourse.bench)

A bad flag or an unknown tutorial exits with status 2 and lists the valid choices.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from mlcourse import options, quiet, tour, tutorials
from mlcourse.tables import format_table

#: Images kept per tag by `mlcourse board`: every snapshot of every run (per-epoch figures).
IMAGES_KEPT = 100_000


def _parser():
    parser = argparse.ArgumentParser(
        prog="mlcourse", description="Hands-on companion to the ML2021 course."
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{list,run,report,board,data,notebook,bench}"
    )
    commands.add_parser("list", help="one line a tutorial: id, lecture, title")
    run = commands.add_parser(
        "run",
        help="run a tutorial (or all of them)",
        add_help=False,
        usage="mlcourse run ID|all [--smoke|--full] [--seed N] [--logdir DIR] [tutorial options]",
    )
    run.add_argument("id", nargs="?")
    run.add_argument("tutorial_args", nargs=argparse.REMAINDER)
    commands.add_parser(
        "report",
        help="the report card: every verdict of the latest runs; writes logs/report.html",
        add_help=False,
    )
    board = commands.add_parser("board", help="start TensorBoard on 127.0.0.1 and print its URL")
    board.add_argument("id", nargs="?", help="only this tutorial's runs (default: every tutorial)")
    board.add_argument(
        "--latest", action="store_true", help="only the newest run of the tutorial ID"
    )
    board.add_argument("--logdir", default=None, help="log root (default: the repository's logs/)")
    board.add_argument(
        "--port",
        type=options.argument_type("--port", "natural", max=65535),
        default=6006,
        help="port 1-65535, 0 for any free one (default 6006)",
    )
    data = commands.add_parser("data", help="check or prepare the offline data sets")
    data.add_argument("action", choices=("prepare", "check"))
    data.add_argument(
        "--download", action="store_true", help="allow downloads where a registry/keras can fetch"
    )
    notebook = commands.add_parser(
        "notebook",
        help="write tutorials as Jupyter notebooks (.ipynb); --execute also runs them",
    )
    notebook.add_argument("id", help="a tutorial id or 'all'")
    notebook.add_argument(
        "--out", type=Path, default=None, help="where the .ipynb files go (default: notebooks/)"
    )
    notebook.add_argument(
        "--execute", action="store_true", help="run each notebook top to bottom in a fresh kernel"
    )
    modes = notebook.add_mutually_exclusive_group()
    for mode in ("smoke", "full"):
        modes.add_argument(
            f"--{mode}", dest="mode", action="store_const", const=mode, default="lecture"
        )
    notebook.add_argument(
        "--seed", type=options.argument_type("--seed", "natural", max=options.MAX_SEED), default=0
    )
    notebook.add_argument("--logdir", default=None, help="log root (default: the repository's)")
    commands.add_parser(  # listed for --help; main() hands its arguments to mlcourse.bench
        "bench",
        help="time every custom layer/optimizer against Keras, one table",
        add_help=False,
        usage="mlcourse bench [--only GROUP,...] [--smoke] [--json PATH] ...",
    )
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # bench and report parse their own options
        return cmd_bench(argv[1:])
    if argv[:1] == ["report"]:
        from mlcourse import report  # only report needs Jinja2

        return report.main(argv[1:])
    args = _parser().parse_args(argv)
    commands = {
        "list": cmd_list,
        "run": cmd_run,
        "board": cmd_board,
        "data": cmd_data,
        "notebook": cmd_notebook,
    }
    return commands[args.command](args)


def cmd_list(args):
    for tutorial in tutorials.discover():
        print(f"{tutorial.id:28s} L{tutorial.lecture:6s} {tutorial.title}")
    return 0


def _usage_error(message, choices, command="run"):
    print(
        f"mlcourse {command}: error: {message}\nvalid choices: {', '.join(choices)}",
        file=sys.stderr,
    )
    return 2


def cmd_run(args):
    available = tutorials.discover()
    ids = ["all"] + [t.id for t in available]
    if args.id in (None, "-h", "--help"):
        if args.id is None:
            return _usage_error("give a tutorial id or 'all'", ids)
        print(_parser().format_usage() + "tutorials: " + ", ".join(ids))
        return 0
    jobs = 1
    if args.id == "all":
        jobs, args.tutorial_args = _jobs(args.tutorial_args)
        options.parse("all", {}, args.tutorial_args)  # the common options only; exits 2 otherwise
        chosen = available
    else:
        chosen = [t for t in available if t.id == args.id]
        if not chosen:
            return _usage_error(f"unknown tutorial {args.id!r}", ids)
    planned = [(tutorial, tutorial.parse(args.tutorial_args)) for tutorial in chosen]
    if jobs > 1 and len(planned) > 1:
        return _run_side_by_side(planned, args.tutorial_args, jobs)
    return _run_tutorials(planned)


def _jobs(argv):
    """``--jobs N`` of ``mlcourse run all`` (default: ``tour.default_jobs()``); the other flags."""
    parser = argparse.ArgumentParser(prog="mlcourse run all", add_help=False)
    parser.add_argument(
        "--jobs",
        type=options.argument_type("--jobs", "count", max=64),
        default=tour.default_jobs(),
    )
    known, rest = parser.parse_known_args(argv)
    return known.jobs, rest


def _run_side_by_side(planned, argv, jobs):
    """``run all``, ``jobs`` tutorials at a time, each in its own process (``mlcourse.tour``)."""
    print(
        f"{len(planned)} tutorials, {jobs} at a time (each in its own process; --jobs 1 runs them "
        "one by one in this terminal)",
        flush=True,
    )
    try:
        rows, failed = tour.run_parallel(planned, argv, jobs)
    except KeyboardInterrupt:
        print("interrupted; run the same command to resume", file=sys.stderr)
        return 130
    _print_totals(rows)
    return 1 if failed else 0


def _print_totals(rows):
    total = sum(row["seconds"] for row in rows)
    rows = [*rows, {"tutorial": "total", "status": "", "seconds": round(total, 1), "verdicts": ""}]
    print("\n" + format_table(rows))


def _run_tutorials(planned):
    """Run each (tutorial, config); one progress line as each starts, its verdicts as it ends."""
    # only now: listing, --help and bad flags never load TensorFlow
    quiet.start_tensorflow(verbose=any(config.verbose for _, config in planned))
    import keras

    from mlcourse import runner
    from mlcourse.data.files import DataFileError
    from mlcourse.record import complete_run

    rows, failed = [], 0
    for number, (tutorial, config) in enumerate(planned, start=1):
        if len(planned) > 1:
            print(
                f"\n[{number}/{len(planned)}] {tutorial.id}: lecture {tutorial.lecture}, "
                f"{tutorial.title} ({config.mode} run)",
                flush=True,
            )
        started, status = time.time(), "ok"
        try:
            runner.execute(tutorial.meta, tutorials.load_main(tutorial), config)
        except (runner.RunError, DataFileError) as error:
            print(f"error: {tutorial.id}: {error}", file=sys.stderr)
            status, failed = "failed", failed + 1
        except KeyboardInterrupt:
            print("interrupted; run the same command to resume", file=sys.stderr)
            return 130
        finally:
            keras.backend.clear_session()
        seconds = time.time() - started
        _, record = complete_run(tutorial.id, config)
        judged = record.verdicts if record and status == "ok" else []
        rows.append(tour.table_row(tutorial.id, status, seconds, judged))
    if len(planned) > 1:
        _print_totals(rows)
    return 1 if failed else 0


def cmd_notebook(args):
    """Write the chosen tutorials as notebooks; with ``--execute`` run each one in a kernel."""
    available = tutorials.discover()
    ids = ["all"] + [t.id for t in available]
    chosen = available if args.id == "all" else [t for t in available if t.id == args.id]
    if not chosen:
        return _usage_error(f"unknown tutorial {args.id!r}", ids, command="notebook")
    from mlcourse import notebooks

    missing = notebooks.missing_tools(execute=args.execute)
    if missing:
        print(
            f"error: the notebook tools are not installed ({', '.join(missing)}): "
            "pip install -e '.[notebook]' (or run make lab)",
            file=sys.stderr,
        )
        return 1
    out = args.out or Path(tutorials.tutorials_dir()).parent / "notebooks"
    failed = 0
    for tutorial in chosen:
        path = notebooks.write(tutorial.path, out)
        if not args.execute:
            print(f"{tutorial.id}: {path}")
            continue
        failed += not _execute_notebook(notebooks, tutorial, path, args)
    return 1 if failed else 0


def _execute_notebook(notebooks, tutorial, path, args):
    """Run one written notebook with the chosen mode, seed and log folder; save its outputs."""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the kernel inherits it
    notebook = notebooks.inject(
        nbformat.read(path, as_version=4),
        mode=args.mode,
        seed=args.seed,
        logdir=str(Path(args.logdir).resolve()) if args.logdir else None,
    )
    print(f"{tutorial.id}: executing {path} ({args.mode} run)", flush=True)
    try:
        notebooks.execute(notebook, cwd=path.parent)
    except CellExecutionError as error:
        last = [line for line in str(error).strip().splitlines() if line.strip()]
        print(
            f"error: {tutorial.id}: a cell failed ({last[-1] if last else 'no message'}); "
            f"its outputs are in {path}",
            file=sys.stderr,
        )
        return False
    finally:
        nbformat.write(notebook, path)
    print(f"{tutorial.id}: executed; outputs saved in {path}")
    return True


def board_logdir(root, tutorial_id=None, latest=False):
    """The folder TensorBoard should read: the root, one tutorial's runs, or its newest run.

    Returns ``(folder, None)`` or ``(None, one-line error)``."""
    root = Path(root)
    if latest and not tutorial_id:
        return None, "--latest needs a tutorial ID: mlcourse board ID --latest"
    if not tutorial_id:
        return root, None
    ids = [t.id for t in tutorials.discover()]
    if tutorial_id not in ids:
        return None, f"unknown tutorial {tutorial_id!r}; valid choices: {', '.join(ids)}"
    folder = root / tutorial_id
    runs = (
        sorted(p for p in folder.glob("*") if (p / "run.json").exists()) if folder.is_dir() else []
    )
    if not runs:
        return None, f"no runs of {tutorial_id} under {root} yet: mlcourse run {tutorial_id}"
    return (runs[-1] if latest else folder), None


def cmd_board(args):
    logdir, error = board_logdir(args.logdir or options.default_logdir(), args.id, args.latest)
    if error:
        print(f"mlcourse board: error: {error}", file=sys.stderr)
        return 2
    quiet.start_tensorflow()
    from tensorboard import program

    board = program.TensorBoard()
    board.configure(
        argv=[
            None,
            "--logdir",
            str(logdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--samples_per_plugin",
            f"images={IMAGES_KEPT}",  # TensorBoard keeps 10 a tag by default; 0 would keep none
            "--load_fast",
            "true",  # the Rust data loader (tensorboard-data-server), without its "NOTE" banner
        ]
    )
    try:
        url = board.launch()
    except program.TensorBoardPortInUseError:
        print(
            f"mlcourse board: error: port {args.port} is in use (another TensorBoard?): "
            "pass --port N, or --port 0 for any free port",
            file=sys.stderr,
        )
        return 1
    print(f"TensorBoard for {logdir} at {url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def cmd_data(args):
    from mlcourse.data import prepare

    return prepare.run(download=args.download, check_only=args.action == "check")


def cmd_bench(argv):
    args = options.bench_parser().parse_args(argv)  # --help and bad flags: no TensorFlow
    quiet.start_tensorflow()
    from mlcourse import bench

    return bench.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
