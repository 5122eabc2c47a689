"""The supported import paths, as README's "Public API" section lists them, are what the
code exports: each listed module imports, and its ``__all__`` is exactly the listed names."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import s3opstore

README = Path(__file__).parents[1] / "README.md"
ALL_OF_IT = "every name in its `__all__`"


def documented() -> dict[str, list[str] | None]:
    """module -> the names README lists (None: "every name in its __all__")."""
    text = README.read_text()
    section = text[text.index("## Public API\n"):]
    section = section[:section.index("\n## ", 1)]
    items = re.findall(r"^- `([\w.]+)`: (.*?)(?=^- |^\n)", section, re.M | re.S)
    assert items, "README has no Public API list"
    found: dict[str, list[str] | None] = {}
    for module, text_of_names in items:
        assert module not in found, f"{module} is listed twice"
        names = re.findall(r"`(\w+)`", text_of_names.split("(")[0])
        found[module] = None if ALL_OF_IT in text_of_names else names
    return found


def test_every_documented_module_exports_exactly_its_documented_names() -> None:
    for module_name, names in documented().items():
        module = importlib.import_module(module_name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{module_name} has no __all__"
        if names is not None:
            assert sorted(names) == sorted(exported), module_name
        for name in exported:
            assert hasattr(module, name), f"{module_name}.{name}"
        assert module.__doc__, f"{module_name} has no docstring saying what it is for"


def test_the_list_names_only_real_modules_of_the_package() -> None:
    real = {info.name for info in pkgutil.walk_packages(s3opstore.__path__, "s3opstore.")}
    real.add("s3opstore")
    assert set(documented()) <= real


def test_the_parser_above_reads_what_it_should() -> None:
    listed = documented()
    assert listed["s3opstore.errors"] is None
    assert listed["s3opstore"] == s3opstore.__all__
    assert "PrefixSuite" in (listed["s3opstore.testing.store_suite"] or [])
