"""import-chariots: a seed database and saver directory move into the store, resumably."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from s3opstore import S3OpStoreClient
from s3opstore.errors import BytesNotFoundError, StorageAccessError, StorageUnavailableError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.import_chariots import import_chariots
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore
from s3opstore.stores.wrappers import Fault, FaultyStore
from tests.cli.support import CliStore, run_cli
from tests.compat_support import FakeChariotsVersion, Op
from tests.maintenance.seed_db import SeedOpStore, build_ordinary_seed, build_seed

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
    assert report_json["bytes"] == {"bound": 7, "never_saved": 1}
    assert report_json["links"] == {"rows": 7, "migrated": 3, "duplicates_collapsed": 3}
    assert report_json["pipelines"] == {"rows": 2, "migrated": 1, "duplicates_collapsed": 1}
    renumbered = report_json["renumbered"]
    assert isinstance(renumbered, list)
    assert [(r["chariots_number"], r["number"]) for r in renumbered] == [
        ("1.1.0", "1.2.0"), ("2.0.0", "2.0.1"), ("2.0.0", "2.1.0")]
    not_migrated = report_json["not_migrated"]
    assert isinstance(not_migrated, list)
    # The link to a version row that is gone is the only failure; the classifier version
    # that was never saved is migrated as it is and reported as such.
    assert [(n["kind"], n["row"]) for n in not_migrated] == [("link", 7)]
    assert "version id 999" in not_migrated[0]["message"]
    without = report_json["without_bytes"]
    assert isinstance(without, list)
    assert [(w["op"], w["number"]) for w in without] == [("classifier", "1.1.0")]


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
    assert "1 versions without bytes (never saved in Chariots)" in again.out
    assert "  classifier: 1.1.0" in again.out
    assert "link row 7: links version id 999" in again.out
    _check_migrated(store, versions)


@pytest.mark.parametrize(("fault", "expected", "interrupts"), [
    # The process "dies" (the error escapes) at several points of the import...
    (Fault("put", nth=9, kind="error", exc=StorageAccessError("connection reset")),
     StorageAccessError, True),
    (Fault("put", nth=24, kind="error", exc=StorageAccessError("killed")),
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
    assert "not 'postgresql'; copy the Chariots tables into SQLite first" in result.err
    assert "extra" not in result.err  # no optional extra offers other databases
    missing = run_cli(capsys, local_store, "import-chariots", "--db",
                      f"sqlite:///{tmp_path}/nope.db", "--ops-dir", str(tmp_path))
    assert missing.code == 3
    assert "no database file" in missing.err
    (tmp_path / "empty.db").write_bytes(b"")
    empty = run_cli(capsys, local_store, "import-chariots", "--db",
                    f"sqlite:///{tmp_path}/empty.db", "--ops-dir", str(tmp_path))
    assert empty.code == 3
    assert "no readable Chariots table db_op" in empty.err


def test_ordinary_chariots_store_imports_with_exit_0(cli_store: CliStore, capsys: CapSys,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seed, versions = build_ordinary_seed(tmp_path)
    result = run_cli(capsys, cli_store, "import-chariots", "--db", seed.url,
                     "--ops-dir", str(seed.root))
    assert result.code == 0, result.out + result.err
    assert "could not migrate" not in result.out
    assert "import complete: everything was migrated" in result.out
    assert "bytes: 4 bound, 2 versions without bytes (never saved in Chariots)" in result.out
    assert "  iris data: 1.0.0" in result.out and "  inner pipe: 1.0.0" in result.out

    as_json = run_cli(capsys, cli_store, "--json", "import-chariots", "--db", seed.url,
                      "--ops-dir", str(seed.root))
    assert as_json.code == 0
    report = json.loads(as_json.out)
    assert report["complete"] is True and report["not_migrated"] == []
    assert set(report) == {"complete", "ops", "versions", "bytes", "links", "pipelines",
                           "renumbered", "without_bytes", "not_migrated", "notes"}  # docs/cli.md
    assert report["bytes"] == {"bound": 4, "never_saved": 2}
    assert sorted(w["op"] for w in report["without_bytes"]) == ["inner pipe", "iris data"]

    store = cli_store.open()
    assert sorted(store.list_ops()) == sorted(versions)
    assert sorted(store.list_pipelines()) == ["inner pipe", "iris pipe"]
    assert store.get_pipeline("iris pipe").last_op_name == "Logistic Régression"
    for op, expected in versions.items():
        assert [str(r.version) for r in store.get_versions(op)] == [str(v) for v in expected]
    assert store.load_op_bytes("Scaler.v2", versions["Scaler.v2"][0]) == b"pickled scaler"
    model = versions["Logistic Régression"][1]
    assert store.load_op_bytes("Logistic Régression", model) == b"pickled " + model.minor.encode()
    assert store.get_validated_links("Logistic Régression", "inner pipe") == set(
        versions["inner pipe"])
    assert fsck(store, deep=True).ok

    # Chariots, pointed at the migrated store, sees the version strings it knew.
    monkeypatch.setitem(sys.modules, "chariots", None)
    client = S3OpStoreClient(store)
    assert client.get_all_versions_of_op(Op("Logistic Régression")) == {
        FakeChariotsVersion.parse(str(v)) for v in versions["Logistic Régression"]}
    assert client.get_validated_links("inner pipe", "iris data") == {
        FakeChariotsVersion.parse(str(versions["iris data"][0]))}


def test_files_outside_the_saver_models_folder_are_never_read(tmp_path: Path) -> None:
    seed = SeedOpStore(tmp_path / "chariots.db", tmp_path / "saver")
    version = Version.from_parts(b"escape")
    seed.register_valid_link(None, "../../secret", version)
    seed.close()
    secret = tmp_path / "secret" / str(version)
    secret.parent.mkdir()
    secret.write_bytes(b"not for the registry")
    (tmp_path / "saver").mkdir()
    store = OpStore(LocalStore(tmp_path / "store"))
    report = import_chariots(store, seed.url, seed.root)
    assert [(n.kind, n.row) for n in report.not_migrated] == [("bytes", 1)]
    assert "outside" in report.not_migrated[0].message
    assert [str(r.version) for r in store.get_versions("../../secret")] == [str(version)]
    with pytest.raises(BytesNotFoundError):
        store.load_op_bytes("../../secret", version)
