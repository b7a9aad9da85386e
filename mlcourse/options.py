"""A tutorial's options: three run modes, each option's value written once per mode, parsed once.

Every tutorial runs in one of three modes, chosen by one flag that is the same everywhere:

* ``--smoke``: the plumbing check for tests and CI: tiny data, a step or two; its numbers mean
  nothing and every output says so.
* no flag, the **lecture** run: sized to show the lecture's effects in a few minutes on 2 CPU cores.
* ``--full``: the headline figures (longer).

A tutorial declares its own options as a literal dict, ``OPTIONS``, beside ``TUTORIAL``; each entry
gives a kind (``KINDS``: ``count``, ``natural``, ``positive``, ``real``, ``fraction``, ``rate``,
``counts``, ``numbers``, ``choice``, ``names``, ``flag``, ``switch``) and either one ``default`` or
a value per mode (a mode left out takes ``default``)::

    OPTIONS = {
        "epochs": {"kind": "count", "smoke": 1, "lecture": 3, "full": 15, "help": "epochs per
        model"}, "learning_rate": {"kind": "positive", "default": 1e-3, "help": "Adam's step size"},
    }

``--epochs 4`` then wins in every mode: a preset never overrides a flag the user gave. The dict is
read without importing the tutorial (``ast``), so ``--help`` and a bad flag answer at once, before
TensorFlow loads. ``parse`` returns a read-only ``Config``.
"""

import argparse
import hashlib
import json
import os
from pathlib import Path

from mlcourse import validation

__all__ = [
    "COMMON",
    "KINDS",
    "MODES",
    "MODE_LINES",
    "NOT_IN_FINGERPRINT",
    "SMOKE_BANNER",
    "STRATEGIES",
    "Config",
    "check_specs",
    "default_logdir",
    "parse",
    "parser",
    "resolve",
]

MODES = ("smoke", "lecture", "full")

#: Where training can run (see ``mlcourse.distribute``); listed here so parsing needs no TensorFlow.
STRATEGIES = ("auto", "cpu", "gpu", "mirrored", "tpu", "multiworker")

#: The largest seed ``keras.utils.set_random_seed`` (NumPy's legacy seeding) accepts.
MAX_SEED = 2**32 - 1

#: Options that do not change what a run computes: a run resumed with another value is the same run.
NOT_IN_FINGERPRINT = ("logdir", "fresh", "verbose")


def _number(cast, check):
    """An argparse type: ``cast`` the text, then ``check(value)``; errors become usage errors."""

    def parse_text(text):
        try:
            value = cast(text)
        except ValueError:
            value = text  # the check names what was expected
        try:
            return check(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse_text


def _names(text):
    """``"a,b"`` -> ``("a", "b")``."""
    return tuple(part.strip() for part in str(text).split(",") if part.strip())


def _check_names(name, value, choices):
    items = tuple(value) if isinstance(value, (list, tuple)) else None
    if not items or any(item not in choices for item in items):
        raise ValueError(
            f"{name} must be one or more of {', '.join(choices)} (comma separated), got {value!r}"
        )
    return items


def _numbers(text):
    """``"0,0.5,0.9"`` -> ``(0.0, 0.5, 0.9)``."""
    try:
        return tuple(float(part) for part in str(text).split(","))
    except ValueError:
        return text


def _check_numbers(name, value, spec):
    items = tuple(value) if isinstance(value, (list, tuple)) else None
    if not items:
        raise ValueError(f"{name} must be one or more numbers, comma separated, got {value!r}")
    return tuple(
        validation.check_float(name, item, spec.get("min"), spec.get("max")) for item in items
    )


def _counts(text):
    """``"8,8"`` -> ``(8, 8)``: one or more positive integers, comma separated."""
    try:
        return tuple(int(part) for part in str(text).split(","))
    except ValueError:
        return text


#: kind -> (text to value, check of a value, what it is). Each check raises ValueError naming
#: the option.
KINDS = {
    "count": (
        int,
        lambda n, v: validation.check_positive_int(n, v, validation.MAX_SIZE),
        "an integer >= 1",
    ),
    "natural": (int, lambda n, v: validation.check_non_negative_int(n, v), "an integer >= 0"),
    "positive": (float, lambda n, v: validation.check_positive(n, v), "a finite number > 0"),
    "real": (float, lambda n, v: validation.check_float(n, v), "a finite number"),
    "fraction": (
        float,
        lambda n, v: validation.check_float(n, v, low=0, high=1, low_open=True),
        "a number in (0, 1]",
    ),
    "rate": (float, lambda n, v: validation.check_unit_interval(n, v), "a number in [0, 1)"),
    "counts": (
        _counts,
        lambda n, v: validation.check_int_tuple(
            n, v, len(v) if isinstance(v, (tuple, list)) else 1
        ),
        "integers >= 1, comma separated",
    ),
    "choice": (str, None, "one of the choices"),
    "names": (_names, None, "one or more of the choices, comma separated"),
    "numbers": (_numbers, None, "finite numbers, comma separated"),
    "flag": (None, lambda n, v: validation.check_bool(n, v), "a flag"),
    "switch": (None, lambda n, v: validation.check_bool(n, v), "on or off (--x / --no-x)"),
}


def _check(name, spec, value):
    """``value`` checked against the option's kind and its optional ``min`` / ``max``."""
    kind = spec["kind"]
    if kind == "choice":
        return validation.check_choice(name, value, spec["choices"])
    if kind == "names":
        return _check_names(name, value, spec["choices"])
    if kind == "numbers":
        return _check_numbers(name, value, spec)
    bounded = "min" in spec or "max" in spec
    if bounded and kind in ("count", "natural"):  # its own bounds replace the kind's
        low = spec.get("min", 1 if kind == "count" else 0)
        return validation.check_int(name, value, low, spec.get("max", validation.MAX_SIZE))
    value = KINDS[kind][1](name, value)
    if bounded and kind in ("positive", "real"):
        value = validation.check_float(name, value, spec.get("min"), spec.get("max"))
    return value


def check_specs(specs):
    """Check a tutorial's ``OPTIONS`` dict: known kinds, a value for every mode,
    each value valid.
    """
    if not isinstance(specs, dict):
        raise ValueError(
            f"OPTIONS must be a dict of option name -> spec, got {type(specs).__name__}"
        )
    for name, spec in specs.items():
        if name in COMMON:
            raise ValueError(
                f"option {name!r} is one every tutorial has already; pick another name"
            )
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise ValueError(f"option {name!r} needs a 'kind', one of {', '.join(KINDS)}")
        if spec["kind"] in ("choice", "names") and not spec.get("choices"):
            raise ValueError(f"option {name!r} of kind {spec['kind']} needs 'choices'")
        if not spec.get("help"):
            raise ValueError(f"option {name!r} needs a 'help' text")
        if spec["kind"] == "flag":
            continue
        for mode in MODES:
            if mode not in spec and "default" not in spec:
                raise ValueError(f"option {name!r} has no value for the {mode} mode and no default")
            _check(name, spec, spec.get(mode, spec.get("default")))
    return specs


def resolve(spec, mode):
    """The value of an option in ``mode`` when the user did not give it."""
    if spec["kind"] == "flag":
        return bool(spec.get(mode, spec.get("default", False)))
    value = spec.get(mode, spec.get("default"))
    return tuple(value) if isinstance(value, list) else value


def _preset_text(spec):
    if spec["kind"] == "flag":
        return ""
    values = [resolve(spec, mode) for mode in MODES]
    if spec["kind"] == "switch":
        values = ["on" if v else "off" for v in values]
    show = ",".join(map(str, values[0])) if isinstance(values[0], tuple) else None
    if len({json.dumps(v) for v in values}) == 1:
        return f" (default {show or values[0]})"
    shown = [",".join(map(str, v)) if isinstance(v, tuple) else v for v in values]
    return (
        " (" + ", ".join(f"{mode} {value}" for mode, value in zip(MODES, shown, strict=True)) + ")"
    )


def default_logdir():
    """``$MLCOURSE_LOGDIR``, else the repository's ``logs/`` (from a checkout), else ``./logs``."""
    if os.environ.get("MLCOURSE_LOGDIR"):
        return Path(os.environ["MLCOURSE_LOGDIR"])
    repo_logs = Path(__file__).resolve().parents[1] / "logs"
    return repo_logs if (repo_logs / ".keep").exists() else Path.cwd() / "logs"


SMOKE_BANNER = (
    "SMOKE RUN: a plumbing check on tiny data; its numbers mean nothing and no claim is judged. "
    "Run without --smoke for the lecture run."
)

#: The first line a run prints, by mode.
MODE_LINES = {
    "smoke": SMOKE_BANNER,
    "lecture": "Lecture run: sized to show the lecture's effects in minutes on 2 CPU cores; "
    "--full gives the headline figures.",
    "full": "Full run: the headline figures.",
}

#: The options every tutorial has (their names are reserved).
COMMON = (
    "mode",
    "smoke",
    "full",
    "seed",
    "logdir",
    "deterministic",
    "fresh",
    "strategy",
    "mixed_precision",
    "verbose",
)


def argument_type(name, kind, **bounds):
    """An ``argparse`` type for one option of ``kind`` (a key of ``KINDS``), with optional
    ``min`` / ``max``: the text is cast, then checked; a bad value is a usage error naming it."""
    spec = {"kind": kind, **bounds}
    return _number(KINDS[kind][0], lambda value: _check(name, spec, value))


def parser(tutorial_id, specs=None, description=None):
    """The ``argparse`` parser of one tutorial: the options every tutorial has, then its own."""
    result = argparse.ArgumentParser(
        prog=f"mlcourse run {tutorial_id}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(result.add_argument_group("options every tutorial has"))
    if specs:
        _add_own(result.add_argument_group(f"options of {tutorial_id}"), specs)
    return result


def _add_common(group):
    modes = group.add_mutually_exclusive_group()
    modes.add_argument(
        "--smoke",
        dest="mode",
        action="store_const",
        const="smoke",
        help="plumbing check for tests and CI: tiny and fast, its numbers mean nothing",
    )
    modes.add_argument(
        "--full",
        dest="mode",
        action="store_const",
        const="full",
        help="the headline figures (longer); without --smoke or --full: the lecture run",
    )
    seed = argument_type("--seed", "natural", max=MAX_SEED)
    group.add_argument("--seed", type=seed, default=0, help=f"random seed 0-{MAX_SEED} (default 0)")
    group.add_argument(
        "--logdir", type=Path, default=None, help="log root (default: the repository's logs/)"
    )
    group.add_argument(
        "--deterministic", action="store_true", help="TensorFlow op determinism (slower)"
    )
    group.add_argument(
        "--fresh", action="store_true", help="start a new run folder instead of resuming or reusing"
    )
    group.add_argument(
        "--strategy", choices=STRATEGIES, default="auto", help="where to train (default auto)"
    )
    group.add_argument(
        "--mixed-precision",
        action="store_true",
        help="mixed_float16 on a GPU, mixed_bfloat16 on a TPU (refused on a CPU)",
    )
    group.add_argument(
        "--verbose", action="store_true", help="Keras's per-epoch lines for every model"
    )


def _add_own(group, specs):
    for name, spec in specs.items():
        flag = "--" + name.replace("_", "-")
        text = (spec["help"] + _preset_text(spec)).replace("%", "%%")  # argparse formats help
        if spec["kind"] == "flag":
            group.add_argument(flag, dest=name, action="store_true", default=None, help=text)
        elif spec["kind"] == "switch":
            switch = argparse.BooleanOptionalAction
            group.add_argument(flag, dest=name, action=switch, default=None, help=text)
        elif spec["kind"] == "choice":
            group.add_argument(flag, dest=name, choices=spec["choices"], default=None, help=text)
        else:
            check = _number(KINDS[spec["kind"]][0], lambda v, n=name, s=spec: _check(n, s, v))
            metavar = name.upper()
            group.add_argument(
                flag, dest=name, type=check, default=None, metavar=metavar, help=text
            )


class Config:
    """The options of one run, resolved for its mode: read-only attributes.

    ``config.epochs`` is the user's ``--epochs`` if given, else the mode's preset. ``given`` holds
    the names of the tutorial options the user set. Common: ``mode``, ``seed``, ``logdir``,
    ``deterministic``, ``fresh``, ``strategy``, ``mixed_precision``, ``verbose``.
    """

    def __init__(self, tutorial_id, values, given=()):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "tutorial_id", tutorial_id)
        object.__setattr__(self, "given", frozenset(given))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self.tutorial_id} has no option {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError(
            f"options are read-only ({name!r}): pass --{name.replace('_', '-')} instead"
        )

    def __repr__(self):
        shown = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Config({self.tutorial_id}: {shown})"

    @property
    def smoke(self):
        return self.mode == "smoke"

    @property
    def full(self):
        return self.mode == "full"

    def as_dict(self):
        """Every option and its value (paths as text), as written to ``run.json``."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in self._values.items()}

    def fingerprint(self):
        """A short hash of what the run computes: same fingerprint, same run (resume, or reuse)."""
        kept = {k: v for k, v in self.as_dict().items() if k not in NOT_IN_FINGERPRINT}
        text = json.dumps([self.tutorial_id, kept], sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse(tutorial_id, specs, argv, description=None):
    """Parse ``argv`` into a ``Config`` (exits with status 2 and a usage line on a bad flag)."""
    specs = specs or {}
    namespace = parser(tutorial_id, specs, description).parse_args(list(argv))
    return _config(tutorial_id, specs, vars(namespace))


def from_values(tutorial_id, specs, values):
    """A ``Config`` from plain values (a notebook's parameters): ``None`` means the mode's preset.

    Raises ``ValueError`` naming the option for a bad value.
    """
    specs = specs or {}
    known = set(COMMON) | set(specs)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {tutorial_id}; known: {sorted(known)}")
    merged = {
        "mode": "lecture",
        "seed": 0,
        "logdir": None,
        "deterministic": False,
        "fresh": False,
        "strategy": "auto",
        "mixed_precision": False,
        "verbose": False,
    }
    merged.update({k: v for k, v in values.items() if v is not None or k not in merged})
    validation.check_choice("mode", merged["mode"], MODES)
    validation.check_int("seed", merged["seed"], 0, MAX_SEED)
    validation.check_choice("strategy", merged["strategy"], STRATEGIES)
    for name in ("deterministic", "fresh", "mixed_precision", "verbose"):
        validation.check_bool(name, merged[name])
    for name, spec in specs.items():
        if merged.get(name) is not None:
            merged[name] = _check(name, spec, merged[name])
    return _config(tutorial_id, specs, merged)


def _config(tutorial_id, specs, raw):
    mode = raw.get("mode") or "lecture"
    values = {
        "mode": mode,
        "seed": raw["seed"],
        "logdir": Path(raw["logdir"]) if raw.get("logdir") else default_logdir(),
        **{k: raw[k] for k in ("deterministic", "fresh", "strategy", "mixed_precision", "verbose")},
    }
    given = [name for name in specs if raw.get(name) is not None]
    for name, spec in specs.items():
        values[name] = raw[name] if name in given else resolve(spec, mode)
    return Config(tutorial_id, values, given)


# ---- mlcourse bench ------------------------------------------------------------------------------
#: ``mlcourse bench`` groups: name -> module under ``mlcourse.bench``.
BENCH_GROUPS = {
    "optimizers": "optimizers",
    "normalization": "normalization",
    "attention": "attention",
    "convolution": "convolution",
    "attention-cost": "attention_cost",
    "hessian": "hessian",
}
#: ``mlcourse bench --clock`` choices (``mlcourse.bench.CLOCKS`` maps them to clocks).
BENCH_CLOCKS = ("cpu", "wall")


def bench_parser():
    """The arguments of ``mlcourse bench``, parsed before TensorFlow starts (``mlcourse.bench``)."""
    parser = argparse.ArgumentParser(
        prog="mlcourse bench",
        description="Time every custom component against its Keras twin (see mlcourse.bench).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        type=_bench_groups,
        default=list(BENCH_GROUPS),
        help=f"comma-separated groups (default all): {', '.join(BENCH_GROUPS)}",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="small shapes and few rounds: a plumbing check, its numbers mean nothing",
    )
    parser.add_argument(
        "--rounds",
        type=argument_type("--rounds", "count"),
        default=None,
        help="alternating rounds (default 15, smoke 3)",
    )
    parser.add_argument(
        "--min-seconds",
        type=argument_type("--min-seconds", "positive"),
        default=None,
        help="shortest single measurement (default 0.2, smoke 0.01)",
    )
    parser.add_argument(
        "--clock", choices=BENCH_CLOCKS, default="cpu", help="process CPU time or wall time"
    )
    parser.add_argument(
        "--threads",
        type=argument_type("--threads", "natural"),
        default=1,
        help="TensorFlow intra/inter-op threads, 0 for its default (default 1)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="where to write the results (default logs/bench/)"
    )
    return parser


def _bench_groups(text):
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCH_GROUPS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown group(s) {unknown or text!r}; valid: {', '.join(BENCH_GROUPS)}"
        )
    return chosen
