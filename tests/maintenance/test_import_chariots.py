"""import-chariots: a seed database and saver directory move into the store, resumably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3opstore.errors import StorageAccessError, StorageUnavailableError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.import_chariots import import_chariots
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore
from s3opstore.stores.wrappers import Fault, FaultyStore
from tests.cli.support import CliStore, run_cli
from tests.maintenance.seed_db import build_seed

CapSys = pytest.CaptureFixture[str]
S3_NUMBERS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.0.1", "2.1.0"]


def _check_migrated(store: OpStore, versions: dict[str, list[Version]]) -> None:
    pca = store.get_versions("pca")
    # Version strings byte for byte as Chariots knew them, in registration order.
    assert [str(r.version) for r in pca] == [str(v) for v in versions["pca"]]
    assert str(pca[0].version).endswith("_2019-10-01 12:34:56")  # no ".000000"
    assert str(pca[1].version).endswith("_2019-10-02 12:34:56.000005")
    assert [r.number_text for r in pca] == S3_NUMBERS
    for index, version in enumerate(versions["pca"]):
        assert store.load_op_bytes("pca", version) == f"pickled pca {index}".encode() * 100
        bindings = list(store.store.list(f"ops/pca/bytes/{version.vid}/"))
        assert len(bindings) == 1  # never a duplicate binding
    assert store.load_op_bytes("classifier", versions["classifier"][0]) == (
        b"pickled classifier 0")
    assert [r.number_text for r in store.get_versions("classifier")] == ["1.0.0", "1.1.0"]
    assert store.get_validated_links("classifier", "pca") == set(versions["pca"][3:])
    assert len(list(store.store.list("links/classifier/pca/"))) == 3
    assert store.list_pipelines() == ["iris"]
    assert store.get_pipeline("iris").last_op_name == "classifier"
    report = fsck(store, deep=True)
    assert report.ok, report.problems


def _check_report(report_json: dict[str, object]) -> None:
    assert report_json["complete"] is False
    assert report_json["ops"] == 2
    assert report_json["versions"] == {"rows": 8, "registered": 8, "existing": 0}
    assert report_json["bytes"] == {"bound": 7, "missing": 1}
    assert report_json["links"] == {"rows": 7, "migrated": 3, "duplicates_collapsed": 3}
    assert report_json["pipelines"] == {"rows": 2, "migrated": 1, "duplicates_collapsed": 1}
    renumbered = report_json["renumbered"]
    assert isinstance(renumbered, list)
    assert [(r["chariots_number"], r["number"]) for r in renumbered] == [
        ("1.1.0", "1.2.0"), ("2.0.0", "2.0.1"), ("2.0.0", "2.1.0")]
    not_migrated = report_json["not_migrated"]
    assert isinstance(not_migrated, list)
    assert [(n["kind"], n["row"]) for n in not_migrated] == [("bytes", 8), ("link", 7)]
    assert "no file models/classifier/" in not_migrated[0]["message"]
    assert "version id 999" in not_migrated[1]["message"]


def test_import_end_to_end(cli_store: CliStore, capsys: CapSys, tmp_path: Path) -> None:
    seed, versions = build_seed(tmp_path)
    result = run_cli(capsys, cli_store, "--json", "import-chariots", "--db", seed.url,
                     "--ops-dir", str(seed.root))
    assert result.code == 1  # something could not be migrated, and the report says what
    _check_report(json.loads(result.out))
    store = cli_store.open()
    _check_migrated(store, versions)

    again = run_cli(capsys, cli_store, "import-chariots", "--db", seed.url,
                    "--ops-dir", str(seed.root))
    assert "versions: 8 rows, 0 registered now, 8 already there" in again.out
    assert "pca 5b0" not in again.out
    assert "chariots 1.1.0 -> 1.2.0" in again.out
    assert "bytes row 8: no file models/classifier/" in again.out
    _check_migrated(store, versions)


@pytest.mark.parametrize(("fault", "expected", "interrupts"), [
    # The process "dies" (the error escapes) at several points of the import...
    (Fault("put", nth=9, kind="error", exc=StorageAccessError("connection reset")),
     StorageAccessError, True),
    (Fault("put", nth=25, kind="error", exc=StorageAccessError("killed")),
     StorageAccessError, True),
    (Fault("upload", nth=4, kind="ambiguous"), StorageUnavailableError, True),
    # ...or a response is lost and the registry recognises its own write.
    (Fault("put", nth=2, kind="ambiguous", key_part="links/"), StorageUnavailableError, False),
])
def test_interrupted_import_resumes_without_duplicates(
        tmp_path: Path, fault: Fault, expected: type[Exception], interrupts: bool) -> None:
    seed, versions = build_seed(tmp_path)
    inner = LocalStore(tmp_path / "store")
    broken = OpStore(FaultyStore(inner, [fault]))
    try:
        import_chariots(broken, seed.url, seed.root)
        interrupted = False
    except expected:
        interrupted = True
    assert fault.fired == 1
    assert interrupted is interrupts
    store = OpStore(inner)
    report = import_chariots(store, seed.url, seed.root)
    if interrupted:
        assert report.versions_existing > 0
    assert report.versions_registered + report.versions_existing == 8
    assert report.bytes_bound == 7
    _check_migrated(store, versions)


def test_unsupported_database_urls(local_store: CliStore, capsys: CapSys,
                                   tmp_path: Path) -> None:
    result = run_cli(capsys, local_store, "import-chariots", "--db",
                     "postgresql://user@host/chariots", "--ops-dir", str(tmp_path))
    assert result.code == 3
    assert result.err.startswith("error [invalid_input]: cannot read database URL")
    assert "SQLAlchemy" in result.err
    missing = run_cli(capsys, local_store, "import-chariots", "--db",
                      f"sqlite:///{tmp_path}/nope.db", "--ops-dir", str(tmp_path))
    assert missing.code == 3
    assert "no database file" in missing.err
    (tmp_path / "empty.db").write_bytes(b"")
    empty = run_cli(capsys, local_store, "import-chariots", "--db",
                    f"sqlite:///{tmp_path}/empty.db", "--ops-dir", str(tmp_path))
    assert empty.code == 3
    assert "no readable Chariots table db_op" in empty.err
