"""TensorBoard over a smoke tour, asked over HTTP as the browser asks: HParams, projector, text,
images; and headless Chromium on the HParams dashboard."""

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from mlcourse import cli, tutorials

ALL = tutorials.discover()

#: What each tutorial's HParams trials log: hyperparameters and metrics (at least these).
HPARAMS = {
    "l03-training-strategy": ({"remedy", "seed"}, {"gap", "train_loss", "val_loss"}),
    "l05-batch-momentum": ({"batch_size", "momentum"}, {"seconds_per_update", "val_accuracy"}),
    "l08-batch-norm": (
        {"batch_norm", "batch_size", "learning_rate"},
        {"epochs_to_target", "final_val_accuracy"},
    ),
}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url, payload):
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"X-XSRF-Protected": "1", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _get(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    try:
        return json.loads(body)
    except ValueError:
        return body.decode()


@pytest.fixture(scope="module")
def board(smoke_run, tmp_path_factory):
    """TensorBoard (through ``mlcourse board``) over every tutorial's smoke run, plus a second
    smoke run of l05 (two runs of one tutorial must stay two sets of rows)."""
    logdir = [smoke_run(t.id) for t in ALL][0].parents[1]
    assert (
        cli.main(["run", "l05-batch-momentum", "--smoke", "--fresh", "--logdir", str(logdir)]) == 0
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mlcourse", "board", "--logdir", str(logdir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert base in process.stdout.readline()
        deadline = time.time() + 120
        while time.time() < deadline:  # until the plugins have read every run
            runs = _get(f"{base}/data/runs")
            if sum(r.startswith("l12-transformer/") for r in runs) >= 1 and len(runs) > 40:
                break
            time.sleep(1)
        yield base, logdir
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_hparams_show_every_tutorials_columns_and_metrics_and_runs_stay_apart(board):
    base, logdir = board
    experiment = _post(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
    columns = {info["name"] for info in experiment["hparamInfos"]}
    metrics = {info["name"]["tag"] for info in experiment["metricInfos"]}
    for tutorial, (hparams, wanted) in HPARAMS.items():
        assert hparams <= columns, (tutorial, hparams - columns)
        assert wanted <= metrics, (tutorial, wanted - metrics)
    groups = _post(
        f"{base}/data/plugin/hparams/session_groups",
        {
            "experimentName": "",
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS"],
            "colParams": [],
            "startIndex": 0,
            "sliceSize": 1000,
        },
    )["sessionGroups"]
    names = [group["name"] for group in groups]
    assert len(names) == len(set(names))
    l05_runs = {name.split("/")[1] for name in names if name.startswith("l05-batch-momentum/")}
    assert len(l05_runs) == 2, "two runs of l05 must give two sets of rows"
    assert all(len(group["sessions"]) == 1 for group in groups), "trials were merged"


def test_projector_shows_the_words_of_the_learned_embedding(board):
    base, _ = board
    runs = _get(f"{base}/data/plugin/projector/runs")
    embedding_runs = [
        r for r in runs if r.startswith("l10-self-attention/") and r.endswith("/projector")
    ]
    assert embedding_runs, runs
    labels = {}
    for run in embedding_runs:
        info = _get(f"{base}/data/plugin/projector/info?run={urllib.parse.quote(run)}")
        (embedding,) = info["embeddings"]
        assert embedding["metadataPath"].endswith("embedding.tsv")
        words = _get(
            f"{base}/data/plugin/projector/metadata?run={urllib.parse.quote(run)}"
            f"&name={urllib.parse.quote(embedding['tensorName'])}"
        ).splitlines()
        assert len(words) == embedding["tensorShape"][0], run  # one label a point
        labels[run] = words
    # The WSJ tagger's run labels its points with the word features, e.g. "the".
    assert any("w:the" in words for words in labels.values()), list(labels)


def test_text_tables_keep_cells_with_a_pipe(board):
    base, _ = board
    tags = _get(f"{base}/data/plugin/text/tags")
    run = next(r for r in tags if r.startswith("l04-critical-points/") and "/" not in r[20:])
    tag = next(t for t in tags[run] if "Escaping" in t)
    (entry,) = _get(
        f"{base}/data/plugin/text/text?run={urllib.parse.quote(run)}&tag={urllib.parse.quote(tag)}"
    )
    html = entry["text"]
    assert "½|λ_min|t² predicts" in html.replace("&#x27;", "'"), html[:2000]
    assert html.count("<td>") >= 5
    verdicts = next(t for t in tags[run] if t.endswith("/00_verdicts"))
    assert verdicts == "l04-critical-points/00_verdicts"


def test_images_list_each_tutorials_figures(board):
    base, logdir = board
    tags = _get(f"{base}/data/plugin/images/tags")
    fetched = 0
    for tutorial in ALL:
        pngs = {p.stem for p in next((logdir / tutorial.id).iterdir()).glob("*.png")}
        runs = [r for r in tags if r.startswith(f"{tutorial.id}/") and r.count("/") == 1]
        shown = {tag.replace("/", "_") for run in runs for tag in tags[run]}
        assert pngs <= shown, (tutorial.id, pngs - shown)
        figures = [(run, tag) for run in runs for tag in tags[run]]
        for figure_run, tag in figures[:1]:
            query = urllib.parse.urlencode({"run": figure_run, "tag": tag, "sample": 0})
            (image, *_) = _get(f"{base}/data/plugin/images/images?{query}")  # data, not a tag
            with urllib.request.urlopen(
                f"{base}/data/plugin/images/individualImage?{image['query']}", timeout=60
            ) as response:
                assert response.read(8) == b"\x89PNG\r\n\x1a\n", (tutorial.id, tag)
            fetched += 1
    assert fetched >= len(ALL) // 2, f"only {fetched} tutorials' figures could be fetched"


def test_hparams_dashboard_in_headless_chromium_has_data(board, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium is needed: `make test` installs it (.ci/system-packages.sh)"
    base, _ = board
    shot = tmp_path / "hparams.png"
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1600,1200",
            "--virtual-time-budget=20000",
            f"--screenshot={shot}",
            f"{base}/#hparams",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0 and shot.stat().st_size > 10000, result.stderr[-1000:]
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{base}/#hparams",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout
    assert "No hparams data was found" not in dom and "No dashboards are active" not in dom
