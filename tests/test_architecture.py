"""The architecture, pinned: public names, and layers that import only downward."""

from __future__ import annotations

import ast
from pathlib import Path

import s3opstore
from s3opstore import errors

PACKAGE = Path(s3opstore.__file__).parent

# layer -> the package-internal modules it may import from
ALLOWED = {
    "errors": set(),
    "stores": {"errors", "stores"},
    "models": {"errors", "models"},
    # signing and verifying op bytes (D15): beside the models, below the registry
    "trust": {"errors", "models", "trust"},
    "registry": {"errors", "models", "stores", "trust", "registry"},
    "compat": {"errors", "models", "trust", "registry"},
    # the faces sit on the registry; none of them reaches boto3 (checked below)
    "maintenance": {"errors", "models", "stores", "trust", "registry", "maintenance"},
    "api": {"errors", "models", "stores", "trust", "registry", "api"},
    "lambda_handler": {"errors", "stores", "registry", "api"},
    "cli": {"errors", "models", "stores", "trust", "registry", "api", "maintenance", "compat",
            "cli"},
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_public_names_are_sorted_and_pinned() -> None:
    assert s3opstore.__all__ == sorted(s3opstore.__all__)
    assert s3opstore.__all__ == ["CachedLoader", "OpBytes", "OpStore", "RetryPolicy",
                                 "S3OpStoreClient", "S3OpStoreError", "UNSET", "Unset", "Version",
                                 "VersionRecord", "errors"]
    assert errors.__all__ == sorted(errors.__all__)


def test_one_exception_root_with_stable_kinds() -> None:
    classes = [getattr(errors, name) for name in errors.__all__
               if isinstance(getattr(errors, name), type)]
    assert len(classes) == len(errors.__all__) - 1  # error_kinds
    assert all(issubclass(cls, errors.S3OpStoreError) for cls in classes)
    kinds = [cls.kind for cls in classes]
    assert len(kinds) == len(set(kinds))
    assert all(400 <= cls.status < 600 for cls in classes)


# module -> why it may import boto3/botocore/s3transfer
BOTOCORE_SPEAKERS = {
    "stores/s3.py": "the S3 backend: every botocore call sits in its one _errors block",
    "stores/s3_errors.py": "the S3 backend's translation table from botocore's failures to "
                           "ours, which s3.py's _errors block applies",
    "stores/s3_client.py": "builds the S3 backend's boto3 clients; sends no request, so "
                           "it has no error to translate",
    "testing/boto_faults.py": "test-only fault injection below botocore's own retries (it "
                              "hooks a client's events and fakes AWSResponses); never "
                              "imported by the package outside s3opstore.testing",
}


def test_only_the_s3_backend_knows_botocore() -> None:
    for path in PACKAGE.rglob("*.py"):
        modules = _imports(path)
        if any(m.split(".")[0] in ("boto3", "botocore", "s3transfer") for m in modules):
            assert path.relative_to(PACKAGE).as_posix() in BOTOCORE_SPEAKERS, path


def test_the_test_kit_is_not_imported_by_the_package() -> None:
    offenders = [f"{path.relative_to(PACKAGE)}: {module}" for path in PACKAGE.rglob("*.py")
                 if _layer(path) != "testing"
                 for module in _imports(path) if module.startswith("s3opstore.testing")]
    assert not offenders, offenders


def test_layers_import_only_downward() -> None:
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        if layer not in ALLOWED:
            continue
        for module in _imports(path):
            if module.startswith("s3opstore."):
                target = module.split(".")[1]
                assert target in ALLOWED[layer], f"{path}: {layer} imports {module}"


# -- one home for the layout, and faces that go through the registry ----------------------
LAYOUT_PREFIXES = ("ops/", "links/", "aliases/", "pipelines/", "_s3opstore/", "events/")
# module -> why a layout-looking literal may stay there
LAYOUT_LITERALS_ALLOWED = {
    "models/keys.py": "the layout itself",
    "testing/store_suite.py": "example keys for the store layer, which knows no layout",
}
FACES = ("api", "cli", "compat", "lambda_handler", "ui")
PRIMITIVES = {"get", "put", "head", "delete", "list", "list_dirs", "upload", "download", "copy"}
# module -> why it still calls store primitives past the registry (to be moved down)
RAW_STORE_ALLOWED: dict[str, str] = {}


def _code_strings(tree: ast.AST) -> list[str]:
    """String constants and f-string heads, docstrings left out."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    docstrings |= {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                   for part in node.values}  # an f-string counts once, by its head
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(
                node) not in docstrings:
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(
                node.values[0], ast.Constant):
            found.append(str(node.values[0].value))
    return found


def test_layout_literals_live_in_keys_py() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in LAYOUT_LITERALS_ALLOWED:
            continue
        offenders += [f"{rel}: {text!r}" for text in _code_strings(ast.parse(path.read_text()))
                      if text.startswith(LAYOUT_PREFIXES)]
    assert not offenders, offenders


def test_faces_reach_the_store_only_through_the_registry() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if _layer(path) not in FACES or rel in RAW_STORE_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            # <anything>.store.<primitive>(...): an OpStore's raw store, used directly
            if (isinstance(node, ast.Attribute) and node.attr in PRIMITIVES
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "store"):
                offenders.append(f"{rel}:{node.lineno}: .store.{node.attr}")
    assert not offenders, offenders


def test_the_checks_above_can_fail() -> None:
    tree = ast.parse('KEY = f"ops/{op}/head.json"\nopstore.store.get(KEY)\n')
    assert [s for s in _code_strings(tree) if s.startswith(LAYOUT_PREFIXES)] == ["ops/"]
    assert any(isinstance(n, ast.Attribute) and n.attr == "get" for n in ast.walk(tree))
