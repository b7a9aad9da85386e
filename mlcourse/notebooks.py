"""Every tutorial is also a notebook: one jupytext percent-format file, two ways to run it.

A tutorial file is a Python script whose cells are marked ``# %%`` (code) and ``# %% [markdown]``
(the lecture's story between the steps). ``python tutorials/l07_classification_loss.py --smoke``
and ``mlcourse run l07-classification-loss`` run it as a script; jupytext opens the same file as a
notebook (``mlcourse notebook l07-classification-loss`` writes the ``.ipynb``). Nothing is written
twice: the notebook is the file.

The run's settings sit in one cell tagged ``parameters`` (papermill's convention)::

    mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
    seed = 0          # --seed
    logdir = None     # --logdir (None: $MLCOURSE_LOGDIR, else the repository's logs/)
    options = {}      # the tutorial's own options, e.g. {"epochs": 3} for --epochs 3

A script ignores them and reads its command-line flags; in a notebook ``runner.script`` turns them
into the same flags (``flags``), so both paths parse, check and resume alike. ``execute`` runs a
notebook unattended (nbclient, a real kernel) with other values injected in a cell after the
``parameters`` cell, as papermill does; cells tagged ``skip-execution`` (the one that starts a
TensorBoard server) are skipped there and run in JupyterLab.
"""

import ast
import importlib.util
import sys
from pathlib import Path

from mlcourse import quiet

__all__ = [
    "PARAMETERS",
    "execute",
    "flags",
    "in_notebook",
    "inject",
    "missing_tools",
    "read",
    "write",
]

#: The parameters every tutorial's ``parameters`` cell defines, with their script defaults.
PARAMETERS = {"mode": "lecture", "seed": 0, "logdir": None, "options": {}}
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
MODE_FLAGS = {"smoke": ["--smoke"], "lecture": [], "full": ["--full"]}
#: Options every tutorial has that ``options`` may also set, e.g. ``{"fresh": True}`` (--fresh).
COMMON = ("fresh", "deterministic", "verbose", "strategy", "mixed_precision")


def in_notebook():
    """Whether this code runs in a Jupyter kernel (not in a plain ``python`` process)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def flags(specs, mode="lecture", seed=0, logdir=None, options=None):
    """The command-line flags that say what a notebook's parameters say.

    Args:
        specs: the tutorial's ``OPTIONS``.
        mode, seed, logdir: as the flags ``--smoke``/``--full``, ``--seed``, ``--logdir``.
        options: ``{name: value}`` of the tutorial's own options (and of ``COMMON``: ``{"fresh":
            True}`` runs again a run that is complete); a list or tuple is written comma
            separated, ``True``/``False`` as ``--name``/``--no-name``.

    Raises:
        ValueError: naming the parameter and what is allowed.
    """
    if mode not in MODE_FLAGS:
        raise ValueError(f"mode must be one of {sorted(MODE_FLAGS)}, got {mode!r}")
    argv = [*MODE_FLAGS[mode], "--seed", str(seed)]
    if logdir is not None:
        argv += ["--logdir", str(logdir)]
    for name, value in dict(options or {}).items():
        if name not in specs and name not in COMMON:
            allowed = [*specs, *COMMON]
            raise ValueError(f"options: {name!r} is not an option of this tutorial: {allowed}")
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            if value or specs.get(name, {}).get("kind") == "switch":
                argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, (list, tuple)):
            argv += [flag, ",".join(str(v) for v in value)]
        else:
            argv += [flag, str(value)]
    return argv


def missing_tools(execute=False):
    """The modules of the ``notebook`` extra that are not installed (to write, or to execute)."""
    needed = ["jupytext", "nbformat"] + (["nbclient", "ipykernel"] if execute else [])
    return [name for name in needed if importlib.util.find_spec(name) is None]


def _docstring_as_markdown(notebook):
    """The file's docstring, its first cell, becomes the notebook's first Markdown cell."""
    import nbformat

    first = notebook.cells[0] if notebook.cells else None
    if first is None or first.cell_type != "code":
        return
    body = ast.parse(first.source).body
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        text = str(body[0].value.value).strip()
        title, _, rest = text.partition("\n")
        notebook.cells[0] = nbformat.v4.new_markdown_cell(f"# {title}\n{rest}")


def read(path):
    """A tutorial file as an ``nbformat`` notebook (jupytext's percent format), Python kernel."""
    import jupytext

    notebook = jupytext.read(Path(path), fmt="py:percent")
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.metadata.pop("jupytext", None)  # a plain .ipynb, not paired with the script
    _docstring_as_markdown(notebook)
    return notebook


def write(path, out_dir):
    """Write the tutorial file ``path`` as ``<out_dir>/<its name>.ipynb``; returns that path."""
    import nbformat

    target = Path(out_dir) / (Path(path).stem + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(read(path), target)
    return target


def inject(notebook, **values):
    """A code cell assigning ``values`` after the ``parameters`` cell (papermill's convention)."""
    import nbformat

    index = next(
        (i for i, c in enumerate(notebook.cells) if PARAMETERS_TAG in c.metadata.get("tags", [])),
        None,
    )
    if index is None:
        raise ValueError("the notebook has no cell tagged 'parameters'")
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"unknown parameters {unknown}: choose from {sorted(PARAMETERS)}")
    source = "# Injected parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
    notebook.cells.insert(index + 1, cell)
    return notebook


def _echo(cell, **_):
    """Print what a cell printed, as it finishes (so an unattended run reads like a script's)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            target = sys.stderr if output.get("name") == "stderr" else sys.stdout
            target.write(output.get("text", ""))
            target.flush()


def execute(notebook, cwd, timeout=1800, echo=True):
    """Run every cell in a fresh kernel (nbclient); returns the executed notebook.

    Raises ``nbclient.exceptions.CellExecutionError`` at the first failing cell; the notebook
    passed in keeps the outputs up to there.
    """
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        on_cell_executed=_echo if echo else None,
        # TensorFlow's C++ start-up lines go to the kernel's own stderr (filtered below), not
        # into the notebook
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )
    with quiet.without_start_up_lines():
        client.execute()
    return notebook
