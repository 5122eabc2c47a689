"""The alias sentinel is public and typed: ``expected: Version | Unset | None = UNSET``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from mypy import api

import s3opstore
from s3opstore import UNSET, OpStore, Unset, Version
from s3opstore.errors import ConflictError


def test_unset_is_one_public_value() -> None:
    assert isinstance(UNSET, Unset) and UNSET is Unset.UNSET
    assert repr(UNSET) == "UNSET"
    assert list(Unset) == [UNSET]
    assert {"UNSET", "Unset"} <= set(s3opstore.__all__)


def test_unset_none_and_a_version_mean_three_things() -> None:
    store = OpStore.from_url("memory://")
    a, b = Version.from_parts(b"a"), Version.from_parts(b"b")
    for version in (a, b):
        store.register_version("op", version)
    store.set_alias("op", "prod", a, expected=None)  # must not exist yet
    with pytest.raises(ConflictError, match="does not exist yet"):
        store.set_alias("op", "prod", b, expected=None)
    store.set_alias("op", "prod", b, expected=UNSET)  # no condition
    with pytest.raises(ConflictError, match="points at"):
        store.set_alias("op", "prod", a, expected=a)


@pytest.mark.slow
def test_a_caller_can_annotate_with_it_under_mypy_strict(tmp_path: Path) -> None:
    snippet = tmp_path / "caller.py"
    snippet.write_text(textwrap.dedent('''
        from s3opstore import UNSET, OpStore, Unset, Version

        def move(store: OpStore, version: Version,
                 expected: Version | Unset | None = UNSET) -> str:
            if expected is UNSET:
                return str(store.set_alias("op", "prod", version).version)
            narrowed: Version | None = expected
            return str(store.set_alias("op", "prod", version, expected=narrowed).version)
    '''))
    out, err, status = api.run([str(snippet), "--strict", "--cache-dir", str(tmp_path / "c")])
    assert status == 0, out + err
