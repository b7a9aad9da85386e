"""One module per concept, each exporting ``CASES`` (a list of battery cases)."""

import importlib
import pkgutil


def all_cases():
    cases = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases
