"""The ``mlcourse`` command: list and run tutorials, open TensorBoard, prepare the offline data.

    mlcourse list
    mlcourse run ID|all [--smoke|--full] [--seed N] [--logdir DIR] [tutorial options]
    mlcourse report [--logdir DIR] [--json] [--mode MODE]
    mlcourse board [ID [--latest]] [--logdir DIR] [--port P]
    mlcourse data prepare|check [--download]
    mlcourse bench [--only GROUP,...] [--smoke] [--json PATH]   (every custom-vs-Keras timing; see
    mlcourse.bench)

A bad flag or an unknown tutorial exits with status 2 and lists the valid choices.
"""

import argparse
import sys
import time
from pathlib import Path

from mlcourse import options, quiet, tutorials

#: Images kept per tag by `mlcourse board`: every snapshot of every run (per-epoch figures).
IMAGES_KEPT = 100_000


def _parser():
    parser = argparse.ArgumentParser(
        prog="mlcourse", description="Hands-on companion to the ML2021 course."
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{list,run,report,board,data,bench}"
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
    }
    return commands[args.command](args)


def cmd_list(args):
    for tutorial in tutorials.discover():
        print(f"{tutorial.id:28s} L{tutorial.lecture:6s} {tutorial.title}")
    return 0


def _usage_error(message, choices):
    print(f"mlcourse run: error: {message}\nvalid choices: {', '.join(choices)}", file=sys.stderr)
    return 2


def cmd_run(args):
    available = tutorials.discover()
    ids = ["all"] + [t.id for t in available]
    if args.id in (None, "-h", "--help"):
        if args.id is None:
            return _usage_error("give a tutorial id or 'all'", ids)
        print(_parser().format_usage() + "tutorials: " + ", ".join(ids))
        return 0
    if args.id == "all":
        options.parse("all", {}, args.tutorial_args)  # the common options only; exits 2 otherwise
        chosen = available
    else:
        chosen = [t for t in available if t.id == args.id]
        if not chosen:
            return _usage_error(f"unknown tutorial {args.id!r}", ids)
    planned = [(tutorial, tutorial.parse(args.tutorial_args)) for tutorial in chosen]
    return _run_tutorials(planned)


def _run_tutorials(planned):
    """Run each (tutorial, config); one progress line as each starts, its verdicts as it ends."""
    # only now: listing, --help and bad flags never load TensorFlow
    quiet.start_tensorflow(verbose=any(config.verbose for _, config in planned))
    import keras

    from mlcourse import runner
    from mlcourse.data.files import DataFileError
    from mlcourse.record import latest_complete

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
        _, record = latest_complete(Path(config.logdir) / tutorial.id, config.fingerprint())
        counts = {}
        for verdict in record.verdicts if record and status == "ok" else ():
            counts[verdict["verdict"]] = counts.get(verdict["verdict"], 0) + 1
        rows.append(
            {
                "tutorial": tutorial.id,
                "status": status,
                "seconds": round(seconds, 1),
                "verdicts": ", ".join(f"{n} {v}" for v, n in counts.items()) or "-",
            }
        )
    if len(planned) > 1:
        total = sum(row["seconds"] for row in rows)
        rows.append({"tutorial": "total", "status": "", "seconds": round(total, 1), "verdicts": ""})
        print("\n" + runner.format_table(rows))
    return 1 if failed else 0


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
