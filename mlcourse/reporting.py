"""What a run shows: tables, texts, figures, verdicts and HParams, in the terminal, ``summary.md``
and TensorBoard at once.

The ``Reporter`` writes each item to the three places (tables through ``mlcourse.tables``); in a
smoke run each of them starts with ``SMOKE_BANNER``. In a notebook the figures and the verdict
table are also shown inline, under the cell that made them.

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from mlcourse.backends import require_tensorflow
from mlcourse.callbacks.figures import log_figure
from mlcourse.notebooks import in_notebook
from mlcourse.options import SMOKE_BANNER
from mlcourse.record import slug
from mlcourse.tables import escape_markdown, format_table, plain
from mlcourse.verdicts import tally, verdict_lines, verdict_rows

require_tensorflow("mlcourse.reporting")

__all__ = ["Reporter", "tag"]


def show_inline(kind, value):
    """In a notebook, display ``value`` under the running cell: ``kind`` "png" (a file) or
    "markdown" (text). Elsewhere nothing (the terminal has what was printed)."""
    if not in_notebook():
        return
    from IPython.display import Image, Markdown, display

    display(Image(filename=str(value)) if kind == "png" else Markdown(value))


def tag(text):
    """A TensorBoard tag: like a folder name, but ``/`` groups tags into sections."""
    return "/".join(slug(part) for part in str(text).split("/"))


class Reporter:
    """Writes one run's tables, texts, figures, verdicts and HParams trials.

    Args:
        folder: the run folder (``summary.md``, PNGs and the run-level TensorBoard events go here).
        record: the run's ``RunRecord`` (tables and verdicts are kept in it).
        save: a function that saves the record (``run.json``).
        where: a function returning the one-line description of the device and precision.
    """

    def __init__(self, folder, record, save, where):
        self.folder, self.record, self._save, self._where = folder, record, save, where
        self._writer = None
        self._texts = {}  # name -> its place in the run's text section
        self.banner = SMOKE_BANNER if record.mode == "smoke" else ""

    @property
    def writer(self):
        """A ``tf.summary`` writer for the run folder."""
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.folder))
        return self._writer

    def _text_tag(self, name):
        """``<tutorial>/<NN>_<name>``: one Text section per tutorial, the verdicts first (00),
        then the tables and texts in the order the run wrote them."""
        if name == "verdicts":
            number = 0
        else:
            number = self._texts.setdefault(name, len(self._texts) + 1)
        return tag(f"{self.record.tutorial['id']}/{number:02d} {name.replace('/', ' - ')}")

    def _write_text(self, name, text):
        body = f"**{self.banner}**\n\n{text}" if self.banner else text
        with self.writer.as_default():
            tf.summary.text(self._text_tag(name), body, step=0)
        self.writer.flush()

    def table(self, title, rows, columns=None, digits=4):
        """Print ``rows`` as a table and write it to TensorBoard text and ``summary.md``."""
        text = format_table(rows, columns, digits)
        print(f"\n{title}\n{text}\n")
        markdown = format_table(rows, columns, digits, markdown=True)
        self._write_text(title, f"**{escape_markdown(title)}**\n\n{markdown}")
        self.record.tables[title] = [{k: plain(v) for k, v in row.items()} for row in rows]
        self._save()
        self.write_summary(digits)
        return text

    def text(self, name, text):
        """Print ``text`` and write it as TensorBoard text ``name``."""
        print(text)
        self._write_text(name, text)

    def figure(self, name, figure, step=0):
        """Save a matplotlib figure as ``<run>/<name>.png`` and as TensorBoard image ``name``."""
        png = self.folder / f"{slug(name)}.png"
        log_figure(self.writer, tag(name), figure, step=step, png_path=png)
        show_inline("png", png)
        return png

    def verdict(self, verdict):
        """Print one verdict as it is made and keep it (run.json, summary.md, TensorBoard)."""
        mark = verdict.verdict.upper()
        lines = [
            f"\nclaim (lecture {verdict.lecture}): {verdict.claim}",
            f"  measured: {verdict.measured}"
            + (f" [n = {verdict.seeds}]" if verdict.seeds > 1 else ""),
            f"  verdict: {mark}" + (f" ({verdict.reason})" if verdict.reason else ""),
        ]
        print("\n".join(lines))
        self.record.verdicts.append(verdict.as_dict())
        self._save()
        self.write_summary()

    def verdict_table(self):
        """The run's verdicts as one table (terminal and TensorBoard text ``verdicts``)."""
        if not self.record.verdicts:
            return
        rows = verdict_rows(self.record.verdicts)
        counted = tally(self.record.verdicts)
        print(f"\nThe lecture's claims, judged by this run ({counted})")
        print("\n".join(verdict_lines(self.record.verdicts)))
        heading = f"**The lecture's claims, judged by this run** ({counted})"
        table = f"{heading}\n\n{format_table(rows, markdown=True)}"
        self._write_text("verdicts", table)
        show_inline("markdown", f"**{self.banner}**\n\n{table}" if self.banner else table)

    def hparams(self, folder, trial_id, hparams, metrics):
        """One HParams trial: its hyperparameters and final metrics, in ``folder``.

        No experiment summary (``hparams_config``) is written: with one per run, TensorBoard shows
        one run's columns for every tutorial (it takes the first it finds); without any, it builds
        the table from every trial's own hyperparameters and metrics, the union over tutorials.
        Trial ids are unique per run (``<tutorial>/<run>/<variant>``), so runs never merge.
        """
        writer = tf.summary.create_file_writer(str(folder))
        with writer.as_default():
            hp.hparams(hparams, trial_id=trial_id)
            for name, value in metrics.items():
                tf.summary.scalar(name, float(value), step=0)
        writer.close()

    def write_summary(self, digits=4):
        """``summary.md``: the banner (smoke), where it ran, the verdicts, then every table."""
        parts = [self.banner] if self.banner else []
        parts.append(self._where())
        if self.record.verdicts:
            table = format_table(verdict_rows(self.record.verdicts), markdown=True)
            parts.append(f"## The lecture's claims, judged by this run\n\n{table}")
        for name, rows in self.record.tables.items():
            parts.append(f"## {name}\n\n{format_table(rows, digits=digits, markdown=True)}")
        (self.folder / "summary.md").write_text("\n\n".join(parts) + "\n")

    def close(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
