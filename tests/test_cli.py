"""The mlcourse command: list, run (smoke), bad ids and flags, and board over TensorBoard's HTTP
API.
"""

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from mlcourse import cli, tutorials


def test_list_prints_one_line_a_tutorial_without_tensorflow():
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-m", "mlcourse", "list"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(tutorials.discover()) >= 3
    assert any(line.split()[:2] == ["l02-regression", "L2"] for line in lines)
    assert time.time() - started < 20


def test_unknown_tutorial_exits_2_and_lists_the_choices(capsys):
    assert cli.main(["run", "no-such-tutorial"]) == 2
    err = capsys.readouterr().err
    assert "unknown tutorial" in err and "l02-regression" in err and "all" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "l02-regression", "--bogus"],
        ["run", "all", "--epochs", "3"],
        ["run", "l02-regression", "--seed", "minus"],
        ["board", "--port", "99999"],
        ["frobnicate"],
    ],
)
def test_bad_flags_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert "usage" in capsys.readouterr().err


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_board_serves_the_runs_over_http(tmp_path):
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(tmp_path / "demo" / "20260101-000000" / "variant"))
    with writer.as_default():
        tf.summary.scalar("epoch_loss", 1.0, step=0)
    writer.close()
    port = _free_port()
    board = subprocess.Popen(
        [sys.executable, "-m", "mlcourse", "board", "--logdir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = board.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline, runs = time.time() + 60, []
        while time.time() < deadline and "demo/20260101-000000/variant" not in runs:
            time.sleep(1)
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/data/runs", timeout=5
            ) as response:
                runs = json.loads(response.read())
        assert "demo/20260101-000000/variant" in runs
    finally:
        board.terminate()
        board.wait(timeout=30)


@pytest.mark.parametrize(
    "argv, code",
    [
        (["run", "l09-cnn", "--help"], 0),
        (["run", "l09-cnn", "--epochs", "0"], 2),
        (["run", "l09-cnn", "--bogus"], 2),
        (["list"], 0),
        (["report", "--help"], 0),
        (["bench", "--help"], 0),
        (["bench", "--clock", "sundial"], 2),
    ],
)
def test_help_and_bad_flags_answer_without_importing_tensorflow(argv, code):
    script = (
        "import sys\n"
        "from mlcourse import cli\n"
        "try:\n"
        f"    code = cli.main({argv!r})\n"
        "except SystemExit as exit_:\n"
        "    code = exit_.code\n"
        "print('CODE', code, 'TF', 'tensorflow' in sys.modules, 'KERAS', 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert f"CODE {code} TF False KERAS False" in result.stdout, (
        result.stdout[-500:] + result.stderr
    )
    if code == 2:
        assert "usage" in result.stderr and "Traceback" not in result.stderr


def test_tutorial_help_lists_each_option_with_its_value_per_mode():
    result = subprocess.run(
        [sys.executable, "-m", "mlcourse", "run", "l09-cnn", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--smoke" in result.stdout and "--full" in result.stdout
    assert "(smoke 1, lecture 6, full 15)" in result.stdout  # --epochs


@pytest.mark.parametrize(
    "argv, named",
    [
        (["run", "l02-regression", "--seed", "4294967296"], "--seed"),
        (["run", "l04-critical-points", "--hidden", "0"], "--hidden"),
        (["run", "l05-batch-momentum", "--learning-rate", "inf"], "--learning-rate"),
        (["run", "l07-classification-loss", "--target-accuracy", "5"], "--target-accuracy"),
        (["run", "l07-classification-loss", "--start-w", "nan"], "--start-w"),
        (["bench", "--rounds", "1.5"], "--rounds"),
    ],
)
def test_bad_values_exit_2_at_parse_time_naming_the_flag(argv, named, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    error_lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and named in error_lines[0], error_lines


def test_board_on_a_busy_port_says_to_pass_another_in_one_line(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["board", "--logdir", str(tmp_path), "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--port" in err and "Traceback" not in err


def test_ctrl_c_ends_with_one_line_that_says_how_to_resume(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    from mlcourse import runner

    monkeypatch.setattr(runner, "execute", interrupted)
    code = cli.main(["run", "l07-classification-loss", "--smoke", "--logdir", str(tmp_path)])
    assert code == 130
    assert capsys.readouterr().err.strip() == "interrupted; run the same command to resume"


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU machine runs it")
def test_mixed_precision_on_a_cpu_is_refused_in_one_line(tmp_path, capsys):
    argv = [
        "run",
        "l07-classification-loss",
        "--smoke",
        "--mixed-precision",
        "--logdir",
        str(tmp_path),
    ]
    assert cli.main(argv) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "needs a GPU or a TPU" in errors[0], errors
