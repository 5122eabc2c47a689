"""Building a Version from its parts, without Chariots."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore import Version
from s3opstore.errors import InvalidInputError
from s3opstore.models.version import EMPTY_DIGEST
from s3opstore.registry.build import build_version, part_digest


def sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def test_bytes_and_text_hash_as_from_parts_does() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9)
    built = build_version(b"a", "b", creation_time=when)
    assert built == Version.from_parts(b"a", b"b", creation_time=when)
    assert built.patch == EMPTY_DIGEST
    assert built.creation_time == when


def test_files_directories_and_json_data(tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00\x01" * 1000)
    assert part_digest(weights) == sha1(b"\x00\x01" * 1000)
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "a.txt").write_bytes(b"A")
    (model / "sub" / "b.txt").write_bytes(b"B")
    first = part_digest(model)
    (model / "sub" / "b.txt").rename(model / "sub" / "c.txt")
    assert part_digest(model) != first  # a renamed file is a different part
    assert part_digest({"lr": 0.1, "depth": 3}) == part_digest({"depth": 3, "lr": 0.1})
    assert part_digest({"lr": 0.1}) == sha1(b'{"lr":0.1}')


def test_unstable_or_missing_parts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="of type object cannot be hashed stably"):
        build_version(object())  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="neither a file nor a directory"):
        build_version(tmp_path / "absent")
