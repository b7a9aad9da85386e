"""`mlcourse report`: the JSON contract, the terminal table,
and report.html as a browser shows it.
"""

import html.parser
import json
import shutil
import subprocess

from mlcourse import report, tutorials

ALL = tutorials.discover()
KEYS = {"tutorial", "lecture", "claim", "measured", "verdict", "mode", "seeds"}


def _smoke_tour(smoke_run):
    """The log root holding a smoke run of every tutorial (the session's shared smoke runs)."""
    folders = [smoke_run(tutorial.id) for tutorial in ALL]
    return folders[0].parents[1]


def test_json_lists_every_verdict_of_every_tutorial_with_the_contract_keys(smoke_run, capsys):
    logdir = _smoke_tour(smoke_run)
    assert report.main(["--logdir", str(logdir), "--json"]) == 0
    verdicts = json.loads(capsys.readouterr().out)
    assert {v["tutorial"] for v in verdicts} == {t.id for t in ALL}
    for verdict in verdicts:
        assert KEYS <= set(verdict)
        assert verdict["mode"] == "smoke" and verdict["verdict"] == "not judged (smoke run)"
    expected = sum(
        len(json.loads((smoke_run(t.id) / "run.json").read_text())["verdicts"]) for t in ALL
    )
    assert len(verdicts) == expected


def test_terminal_table_tallies_the_verdicts_and_names_the_page(smoke_run, capsys):
    logdir = _smoke_tour(smoke_run)
    assert report.main(["--logdir", str(logdir)]) == 0
    out = capsys.readouterr().out
    count = sum(
        len(json.loads((smoke_run(t.id) / "run.json").read_text())["verdicts"]) for t in ALL
    )
    assert f"{count} verdicts from {len(ALL)} tutorials: {count} not judged (smoke run)" in out
    assert f"report page: {logdir / 'report.html'}" in out
    assert "not run yet" not in out


class _Page(html.parser.HTMLParser):
    """The images (with the load state the page's own handlers record) and the verdict rows."""

    def __init__(self):
        super().__init__()
        self.images, self.rows = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append((attrs.get("src"), attrs.get("data-loaded")))
        if tag == "tr" and attrs.get("class") == "verdict-row":
            self.rows += 1


def test_report_page_in_headless_chromium_loads_every_figure_and_shows_every_verdict(smoke_run):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium is needed: `make test` installs it (.ci/system-packages.sh)"
    logdir = _smoke_tour(smoke_run)
    assert report.main(["--logdir", str(logdir)]) == 0
    page = logdir / "report.html"
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    parsed = _Page()
    parsed.feed(result.stdout)
    pngs = sorted(p for t in ALL for p in smoke_run(t.id).glob("*.png"))
    assert len(parsed.images) == len(pngs) > 0
    not_loaded = [src for src, loaded in parsed.images if loaded != "yes"]
    assert not not_loaded, f"images the browser could not load: {not_loaded}"
    verdicts = sum(
        len(json.loads((smoke_run(t.id) / "run.json").read_text())["verdicts"]) for t in ALL
    )
    assert parsed.rows == verdicts
