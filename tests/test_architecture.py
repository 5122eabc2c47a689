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
    "registry": {"errors", "models", "stores", "registry"},
    "compat": {"errors", "models", "registry"},
    # the faces sit on the registry; none of them reaches boto3 (checked below)
    "maintenance": {"errors", "models", "stores", "registry", "maintenance"},
    "api": {"errors", "models", "stores", "registry", "api"},
    "lambda_handler": {"errors", "stores", "registry", "api"},
    "cli": {"errors", "models", "stores", "registry", "api", "maintenance", "compat", "cli"},
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
                                 "S3OpStoreClient", "S3OpStoreError", "Version", "VersionRecord",
                                 "errors"]
    assert errors.__all__ == sorted(errors.__all__)


def test_one_exception_root_with_stable_kinds() -> None:
    classes = [getattr(errors, name) for name in errors.__all__
               if isinstance(getattr(errors, name), type)]
    assert len(classes) == len(errors.__all__) - 1  # error_kinds
    assert all(issubclass(cls, errors.S3OpStoreError) for cls in classes)
    kinds = [cls.kind for cls in classes]
    assert len(kinds) == len(set(kinds))
    assert all(400 <= cls.status < 600 for cls in classes)


def test_only_the_s3_backend_knows_botocore() -> None:
    # s3_faults.py is the test-only fault injector below botocore's retries
    speaking = {"stores/s3.py", "stores/s3_faults.py"}
    for path in PACKAGE.rglob("*.py"):
        modules = _imports(path)
        if any(m.split(".")[0] in ("boto3", "botocore", "s3transfer") for m in modules):
            assert path.relative_to(PACKAGE).as_posix() in speaking, path


def test_layers_import_only_downward() -> None:
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        if layer not in ALLOWED:
            continue
        for module in _imports(path):
            if module.startswith("s3opstore."):
                target = module.split(".")[1]
                assert target in ALLOWED[layer], f"{path}: {layer} imports {module}"
