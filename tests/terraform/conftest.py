"""Fixtures for the Terraform module tests.

`terraform validate` cannot run here (providers cannot be downloaded), so the tests
parse the HCL with python-hcl2 and assert on the parsed structure. python-hcl2 keeps
string literals with their quotes (``'"python3.12"'``) and expressions as
``'${...}'`` text; `normalise` strips the quotes of literals and of block labels and
drops the parser's bookkeeping keys, so a test reads ``runtime == "python3.12"`` and
``architectures == ["${var.architecture}"]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = REPO_ROOT / "terraform"
EXAMPLE_DIR = MODULE_DIR / "examples" / "basic"

_BOOKKEEPING = {"__is_block__", "__comments__", "__start_line__", "__end_line__"}


def unquote(value: str) -> str:
    """'"text"' -> 'text'; anything else is returned unchanged."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def normalise(node: Any) -> Any:
    if isinstance(node, dict):
        return {unquote(k): normalise(v) for k, v in node.items() if k not in _BOOKKEEPING}
    if isinstance(node, list):
        return [normalise(v) for v in node]
    if isinstance(node, str):
        return unquote(node)
    return node


def squash(text: str) -> str:
    """Remove all whitespace, so expression text compares independently of formatting."""
    return re.sub(r"\s+", "", text)


@dataclass
class Statement:
    """One statement of an aws_iam_policy_document, static or from a dynamic block."""

    body: dict[str, Any]
    for_each: str | None = None  # the dynamic block's for_each expression, if any

    @property
    def effect(self) -> str:
        return str(self.body.get("effect", "Allow"))

    @property
    def actions(self) -> list[str]:
        return list(self.body.get("actions", []))

    @property
    def resources(self) -> list[str]:
        return list(self.body.get("resources", []))

    def conditions(self) -> list[tuple[dict[str, Any], str | None]]:
        """(condition body, for_each of its dynamic block or None)."""
        found: list[tuple[dict[str, Any], str | None]] = [
            (c, None) for c in self.body.get("condition", [])
        ]
        for dyn in self.body.get("dynamic", []):
            for label, block in dyn.items():
                if label == "condition":
                    found.extend((c, block["for_each"]) for c in block["content"])
        return found


@dataclass
class Module:
    """All top-level blocks of the .tf files of one directory, merged and normalised."""

    directory: Path
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    providers: list[dict[str, Any]] = field(default_factory=list)
    terraform: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> Module:
        module = cls(directory)
        for path in sorted(directory.glob("*.tf")):
            with path.open(encoding="utf-8") as fh:
                parsed = normalise(hcl2.load(fh))
            module.files[path.name] = parsed
            for block in parsed.get("resource", []):
                for rtype, by_name in block.items():
                    for name, body in by_name.items():
                        assert name not in module.resources.get(rtype, {}), (rtype, name)
                        module.resources.setdefault(rtype, {})[name] = body
            for block in parsed.get("data", []):
                for dtype, by_name in block.items():
                    for name, body in by_name.items():
                        module.data.setdefault(dtype, {})[name] = body
            for kind, target in (
                ("variable", module.variables),
                ("output", module.outputs),
                ("module", module.modules),
            ):
                for block in parsed.get(kind, []):
                    target.update(block)
            for block in parsed.get("locals", []):
                module.locals.update(block)
            module.providers.extend(parsed.get("provider", []))
            module.terraform.extend(parsed.get("terraform", []))
        return module

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        assert rtype in self.resources, f"no {rtype} resource in {self.directory}"
        assert name in self.resources[rtype], f"no {rtype}.{name} in {self.directory}"
        return self.resources[rtype][name]

    def datasource(self, dtype: str, name: str) -> dict[str, Any]:
        assert name in self.data.get(dtype, {}), f"no data.{dtype}.{name} in {self.directory}"
        return self.data[dtype][name]

    def policy_statements(self, name: str) -> list[Statement]:
        doc = self.datasource("aws_iam_policy_document", name)
        statements = [Statement(body) for body in doc.get("statement", [])]
        for dyn in doc.get("dynamic", []):
            for label, block in dyn.items():
                if label == "statement":
                    statements.extend(Statement(c, block["for_each"]) for c in block["content"])
        return statements

    def local(self, name: str) -> str:
        assert name in self.locals, f"no local.{name}"
        return str(self.locals[name])


@pytest.fixture(scope="session")
def module() -> Module:
    return Module.load(MODULE_DIR)


@pytest.fixture(scope="session")
def example() -> Module:
    return Module.load(EXAMPLE_DIR)


@pytest.fixture(scope="session")
def module_dir() -> Path:
    return MODULE_DIR


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def squashed() -> Callable[[str], str]:
    """Whitespace-free form of an expression, for formatting-independent comparisons."""
    return squash
