"""Every tutorial is also a notebook (jupytext percent format): its cells tell the lecture's story,
the CI executes each one in smoke mode in a real kernel (the session's ``smoke_run``), the script
path gives the same tables, and a machine without the Debian data package still gets the data."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys

import jupytext
import nbformat
import pytest

from mlcourse import notebooks, tutorials
from mlcourse.data import fashion_mnist
from mlcourse.data.files import DataFileError

ALL = tutorials.discover()
PARAMETER_NAMES = list(notebooks.PARAMETERS)
RUN_CALL = "mode=mode, seed=seed, logdir=logdir, options=options"


def _cells(tutorial):
    return jupytext.read(tutorial.path, fmt="py:percent").cells


def _tagged(cells, tag):
    return [c for c in cells if tag in c.metadata.get("tags", [])]


@pytest.mark.parametrize("tutorial", ALL, ids=[t.id for t in ALL])
def test_every_tutorial_is_a_notebook_that_tells_the_lecture_story(tutorial):
    cells = _cells(tutorial)
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    assert len(markdown) >= 6, "the story between the steps is in Markdown cells"
    story = "\n".join(markdown)
    number = tutorial.lecture.split("-")[0]
    assert re.search(rf"Lectures? (\d+[–-])?{number}\b", story), "the lecture it follows"
    flat = " ".join(story.split()).lower()
    assert "from the course notes:**" in flat, "the student's question (or the notes' claim)"
    assert "$" in story, "the concept's formula"
    assert "## Run it" in story and "TensorBoard" in story
    (parameters,) = _tagged(cells, notebooks.PARAMETERS_TAG)
    assigned = [t.id for node in ast.parse(parameters.source).body for t in node.targets]
    assert assigned == PARAMETER_NAMES
    namespace = {}
    exec(parameters.source, namespace)  # the script's defaults are the lecture run's
    assert {k: namespace[k] for k in PARAMETER_NAMES} == notebooks.PARAMETERS
    (board,) = _tagged(cells, "skip-execution")
    assert "%tensorboard --logdir" in board.source
    assert any("%run -m mlcourse data prepare --download" in c.source for c in cells)
    code = [c.source for c in cells if c.cell_type == "code"]
    assert RUN_CALL in " ".join(code[-2].split()), "the run cell passes the parameters"
    names = [i for i, c in enumerate(cells) if c.cell_type == "code" and "def main(" in c.source]
    runs = [i for i, c in enumerate(cells) if "runner.script(" in c.source]
    assert names and runs and names[0] < runs[0], "no cell uses what a later cell defines"


def test_mlcourse_notebook_writes_every_tutorial_as_a_valid_notebook(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mlcourse", "notebook", "all", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    written = sorted(tmp_path.glob("*.ipynb"))
    assert [p.stem for p in written] == sorted(t.path.stem for t in ALL)
    for path in written:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells[0].cell_type == "markdown"
        assert notebook.cells[0].source.startswith("# Lecture")  # the docstring, as the title
        assert notebook.metadata.kernelspec.name == "python3"
        assert _tagged(notebook.cells, notebooks.PARAMETERS_TAG)


def _outputs(notebook, kind):
    return [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if kind in o.get("data", {}) or o.get("output_type") == kind
    ]


@pytest.mark.parametrize("tutorial", ALL, ids=[t.id for t in ALL])
def test_executed_smoke_notebook_shows_its_figures_and_verdict_table_inline(tutorial, smoke_run):
    folder = smoke_run(tutorial.id)
    notebook = nbformat.read(
        folder.parents[1] / "notebooks" / f"{tutorial.path.stem}.ipynb", as_version=4
    )
    assert not _outputs(notebook, "error")
    injected = _tagged(notebook.cells, notebooks.INJECTED_TAG)
    assert injected and "mode = 'smoke'" in injected[0].source
    figures = list(folder.glob("*.png"))
    assert len(_outputs(notebook, "image/png")) >= len(figures) > 0 or not figures
    tables = [o["data"]["text/markdown"] for o in _outputs(notebook, "text/markdown")]
    verdicts = [t for t in tables if "The lecture's claims, judged by this run" in t]
    assert len(verdicts) == 1
    claims = json.loads((folder / "run.json").read_text())["verdicts"]
    shown = verdicts[0].replace("\\|", "|")  # a pipe in a cell is escaped in Markdown
    assert all(v["claim"] in shown for v in claims)
    board = _tagged(notebook.cells, "skip-execution")[0]
    assert not board.get("outputs"), "the TensorBoard cell is left for JupyterLab"


def test_script_and_notebook_give_the_same_tables_for_the_same_seed(smoke_run, tmp_path):
    tutorial = next(t for t in ALL if t.id == "l07-classification-loss")
    notebook_run = json.loads((smoke_run(tutorial.id) / "run.json").read_text())
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, str(tutorial.path), "--smoke", "--logdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (folder,) = (tmp_path / tutorial.id).iterdir()
    script_run = json.loads((folder / "run.json").read_text())
    assert script_run["tables"] and script_run["tables"] == notebook_run["tables"]
    measured = [v["measured"] for v in script_run["verdicts"]]
    assert measured == [v["measured"] for v in notebook_run["verdicts"]]
    assert script_run["fingerprint"] == notebook_run["fingerprint"]  # the same options


def test_notebook_parameters_become_the_scripts_flags():
    specs = next(t for t in ALL if t.id == "l10-self-attention").options
    assert notebooks.flags(specs) == ["--seed", "0"]
    assert notebooks.flags(specs, "smoke", 3, "/tmp/x", {"epochs": 2}) == [
        "--smoke",
        "--seed",
        "3",
        "--logdir",
        "/tmp/x",
        "--epochs",
        "2",
    ]
    switch = next(n for n, s in specs.items() if s["kind"] == "switch")
    flag = "--" + switch.replace("_", "-")
    assert notebooks.flags(specs, "full", options={switch: False})[-1] == "--no-" + flag[2:]
    assert notebooks.flags(specs, options={"fresh": True})[-1] == "--fresh"
    with pytest.raises(ValueError, match="mode must be one of"):
        notebooks.flags(specs, "quick")
    with pytest.raises(ValueError, match="options: 'epoch' is not an option"):
        notebooks.flags(specs, options={"epoch": 2})


def test_inject_puts_the_values_after_the_parameters_cell_and_names_unknown_ones():
    tutorial = next(t for t in ALL if t.id == "l07-classification-loss")
    notebook = notebooks.read(tutorial.path)
    index = notebook.cells.index(_tagged(notebook.cells, notebooks.PARAMETERS_TAG)[0])
    notebooks.inject(notebook, mode="smoke", seed=2)
    assert notebook.cells[index + 1].source.endswith("mode = 'smoke'\nseed = 2\n")
    with pytest.raises(ValueError, match="unknown parameters \\['epochs'\\]"):
        notebooks.inject(notebook, epochs=3)


def test_a_failing_cell_ends_with_one_line_and_keeps_the_outputs(tmp_path):
    folder = tmp_path / "tutorials"
    folder.mkdir()
    (folder / "l99_broken.py").write_text(
        '"""Lecture 99: a tutorial whose second step fails."""\n\n'
        '# %% tags=["parameters"]\nmode = "lecture"\nseed = 0\nlogdir = None\noptions = {}\n\n'
        '# %%\nTUTORIAL = {"id": "l99-broken", "lecture": "99", "title": "broken"}\n'
        'print("first step ran")\n\n# %%\nraise ValueError("the second step failed")\n'
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcourse",
            "notebook",
            "l99-broken",
            "--execute",
            "--smoke",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MLCOURSE_TUTORIALS": str(folder)},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: l99-broken: a cell failed (")
    assert "the second step failed" in result.stderr and "Traceback" not in result.stderr
    saved = nbformat.read(tmp_path / "out" / "l99_broken.ipynb", as_version=4)
    assert any("first step ran" in o.get("text", "") for o in _outputs(saved, "stream"))


def test_without_the_debian_package_prepare_fetches_fashion_mnist_and_checks_it(
    tmp_path, monkeypatch
):
    """A laptop or Colab: no /usr/share/datasets, an empty cache; ``keras.datasets`` fetches."""
    real = fashion_mnist.find_dir()  # this machine's copy stands in for the download
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian-package")
    monkeypatch.setenv("MLCOURSE_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(fashion_mnist.Path, "home", lambda: tmp_path / "home")
    with pytest.raises(DataFileError, match="mlcourse data prepare --download"):
        fashion_mnist.prepare(allow_download=False)
    fetched = []

    def load_data(damaged=False):
        target = tmp_path / "keras" / "datasets" / "fashion-mnist"
        target.mkdir(parents=True, exist_ok=True)
        for name in fashion_mnist.FILES:
            shutil.copy(real / name, target / name)
        if damaged:
            with open(target / "t10k-labels-idx1-ubyte.gz", "r+b") as handle:
                handle.write(b"damaged")
        fetched.append(target)

    import keras

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", load_data)
    assert fashion_mnist.prepare(allow_download=True) == fetched[0]
    (x_train, _), (x_test, _) = fashion_mnist.load(fetched[0])
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    shutil.rmtree(fetched[0])
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: load_data(damaged=True))
    with pytest.raises(DataFileError, match="t10k-labels"):
        fashion_mnist.prepare(allow_download=True)
