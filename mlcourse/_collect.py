"""Gather the public names of every module in a sub-package (one concept a module)."""

import importlib
import pkgutil


def export_all(package_name, package_path, namespace):
    """Import each non-private module of a package and copy the names in its ``__all__``.

    Every module declares ``__all__``; two modules exporting the same name is an error, so a
    name always has one obvious home.
    """
    exported = []
    for info in sorted(pkgutil.iter_modules(package_path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package_name}.{info.name}")
        for name in getattr(module, "__all__", ()):
            if name in namespace and namespace[name] is not getattr(module, name):
                raise ImportError(
                    f"{package_name}: {name!r} is exported twice (again by {info.name})"
                )
            namespace[name] = getattr(module, name)
            exported.append(name)
    return sorted(exported)
