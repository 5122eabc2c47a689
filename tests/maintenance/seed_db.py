"""A Chariots OpStore as the seed leaves it: its SQLite schema, its rules, its files.

``SeedOpStore`` replays the seed server's behaviour on a real SQLite file:
versions are numbered against the op's FIRST version (its ordering bug), each
``register_valid_link`` call inserts a row (duplicates included), each
``register_new_pipeline`` call inserts a row, and ``save_op_bytes`` writes
``<root>/models/<op>/<version string>`` like its FileSaver.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from s3opstore.models.version import Version

SCHEMA = """
CREATE TABLE db_op (
    id INTEGER NOT NULL,
    op_name VARCHAR,
    PRIMARY KEY (id)
);
CREATE TABLE db_version (
    id INTEGER NOT NULL,
    op_id INTEGER,
    version_time DATETIME,
    major_hash VARCHAR,
    major_version_number INTEGER,
    minor_hash VARCHAR,
    minor_version_number INTEGER,
    patch_hash VARCHAR,
    patch_version_number INTEGER,
    PRIMARY KEY (id),
    FOREIGN KEY(op_id) REFERENCES db_op (id)
);
CREATE TABLE db_validated_link (
    id INTEGER NOT NULL,
    upstream_op_id INTEGER,
    downstream_op_id INTEGER,
    upstream_op_version_id INTEGER,
    PRIMARY KEY (id),
    FOREIGN KEY(upstream_op_id) REFERENCES db_op (id),
    FOREIGN KEY(downstream_op_id) REFERENCES db_op (id),
    FOREIGN KEY(upstream_op_version_id) REFERENCES db_version (id)
);
CREATE TABLE db_pipeline (
    id INTEGER NOT NULL,
    pipeline_name VARCHAR,
    last_op_id INTEGER,
    PRIMARY KEY (id),
    FOREIGN KEY(last_op_id) REFERENCES db_op (id)
);
"""


class SeedOpStore:
    def __init__(self, db_path: Path, root: Path) -> None:
        self.db_path = db_path
        self.root = root
        self.db = sqlite3.connect(db_path)
        self.db.executescript(SCHEMA)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def close(self) -> None:
        self.db.commit()
        self.db.close()

    def op_id(self, name: str) -> int:
        row = self.db.execute("SELECT id FROM db_op WHERE op_name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        cursor = self.db.execute("INSERT INTO db_op (op_name) VALUES (?)", (name,))
        return int(cursor.lastrowid or 0)

    def version_id(self, op: str, version: Version) -> int:
        op_id = self.op_id(op)
        row = self.db.execute(
            "SELECT id FROM db_version WHERE op_id = ? AND major_hash = ? AND minor_hash = ? "
            "AND patch_hash = ?", (op_id, *version.hashes)).fetchone()
        if row is not None:
            return int(row[0])
        # The seed's bug: ascending order, first row: it compares with the FIRST version.
        first = self.db.execute(
            "SELECT major_hash, major_version_number, minor_hash, minor_version_number, "
            "patch_hash, patch_version_number FROM db_version WHERE op_id = ? ORDER BY "
            "major_version_number, minor_version_number, patch_version_number LIMIT 1",
            (op_id,)).fetchone()
        if first is None:
            number = (1, 0, 0)
        elif first[0] != version.major:
            number = (first[1] + 1, 0, 0)
        elif first[2] != version.minor:
            number = (first[1], first[3] + 1, 0)
        elif first[4] != version.patch:
            number = (first[1], first[3], first[5] + 1)
        else:
            number = (first[1], first[3], first[5])
        # SQLAlchemy's SQLite DATETIME storage format: always six fraction digits.
        moment = version.creation_time.strftime("%Y-%m-%d %H:%M:%S.%f")
        cursor = self.db.execute(
            "INSERT INTO db_version (op_id, version_time, major_hash, major_version_number, "
            "minor_hash, minor_version_number, patch_hash, patch_version_number) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (op_id, moment, version.major, number[0], version.minor, number[1], version.patch,
             number[2]))
        return int(cursor.lastrowid or 0)

    def register_valid_link(self, downstream: str | None, upstream: str,
                            version: Version) -> None:
        upstream_id = self.op_id(upstream)
        version_id = self.version_id(upstream, version)
        if downstream is None:
            return
        self.db.execute(
            "INSERT INTO db_validated_link (upstream_op_id, downstream_op_id, "
            "upstream_op_version_id) VALUES (?, ?, ?)",
            (upstream_id, self.op_id(downstream), version_id))

    def register_new_pipeline(self, name: str, last_op: str) -> None:
        self.db.execute("INSERT INTO db_pipeline (pipeline_name, last_op_id) VALUES (?, ?)",
                        (name, self.op_id(last_op)))

    def save_op_bytes(self, op: str, version: Version, data: bytes) -> None:
        path = self.root / "models" / op / str(version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def raw_link(self, upstream: str, downstream: str, version_id: int) -> None:
        self.db.execute(
            "INSERT INTO db_validated_link (upstream_op_id, downstream_op_id, "
            "upstream_op_version_id) VALUES (?, ?, ?)",
            (self.op_id(upstream), self.op_id(downstream), version_id))


def at(day: int, micro: int = 0) -> datetime:
    return datetime(2019, 10, day, 12, 34, 56, micro)


def build_seed(tmp: Path) -> tuple[SeedOpStore, dict[str, list[Version]]]:
    """The fixture history: 6 pca versions (the seed misnumbers 3), a classifier
    version without bytes, duplicate links and pipelines, a link to a lost version."""
    seed = SeedOpStore(tmp / "chariots.db", tmp / "saver")
    seed.register_new_pipeline("iris", "classifier")
    seed.register_new_pipeline("iris", "classifier")  # the seed duplicates pipelines
    pca = [
        Version.from_parts(b"pca-2", b"fit-1", b"", creation_time=at(1)),  # 1.0.0 / 1.0.0
        Version.from_parts(b"pca-2", b"fit-2", b"", creation_time=at(2, 5)),  # 1.1.0 / 1.1.0
        Version.from_parts(b"pca-2", b"fit-3", b"", creation_time=at(3, 123456)),  # 1.1.0 / 1.2.0
        Version.from_parts(b"pca-3", b"fit-3", b"", creation_time=at(4)),  # 2.0.0 / 2.0.0
        Version.from_parts(b"pca-3", b"fit-3", b"f32", creation_time=at(5)),  # 2.0.0 / 2.0.1
        Version.from_parts(b"pca-3", b"fit-4", b"f32", creation_time=at(6)),  # 2.0.0 / 2.1.0
    ]
    classifier = [Version.from_parts(b"lr", b"fit-1", creation_time=at(7)),
                  Version.from_parts(b"lr", b"fit-2", creation_time=at(8))]
    for index, version in enumerate(pca):
        seed.register_valid_link(None, "pca", version)
        seed.save_op_bytes("pca", version, f"pickled pca {index}".encode() * 100)
    for version in pca[3:]:
        seed.register_valid_link("classifier", "pca", version)
        seed.register_valid_link("classifier", "pca", version)  # duplicate rows
    seed.register_valid_link(None, "classifier", classifier[0])
    seed.save_op_bytes("classifier", classifier[0], b"pickled classifier 0")
    seed.register_valid_link(None, "classifier", classifier[1])  # never saved: no file
    seed.raw_link("pca", "classifier", 999)  # a link to a version row that is gone
    seed.close()
    return seed, {"pca": pca, "classifier": classifier}


def build_ordinary_seed(tmp: Path) -> tuple[SeedOpStore, dict[str, list[Version]]]:
    """A store as Chariots' pipelines leave it, nothing broken: an outer pipeline whose data
    source and nested pipeline ("inner pipe") register versions and links but never save
    bytes, the nested pipeline's own ops saved under their names, and a model trained twice."""
    seed = SeedOpStore(tmp / "chariots.db", tmp / "saver")
    versions: dict[str, list[Version]] = {
        "iris data": [Version.from_parts(b"loader-1", creation_time=at(1, 17))],
        "inner pipe": [Version.from_parts(b"inner-1", creation_time=at(2))],
        "pca": [Version.from_parts(b"pca-1", b"fit-1", creation_time=at(3, 1))],
        "Scaler.v2": [Version.from_parts(b"scaler-1", b"fit-1", creation_time=at(4))],
        "Logistic Régression": [Version.from_parts(b"lr-1", b"fit-1", creation_time=at(5)),
                                Version.from_parts(b"lr-1", b"fit-2", creation_time=at(6, 9))],
    }
    seed.register_new_pipeline("iris pipe", "Logistic Régression")
    seed.register_new_pipeline("inner pipe", "Scaler.v2")
    for model in versions["Logistic Régression"]:  # two trainings of the same pipeline
        # the inner pipeline saves itself: its ops, its own links, its end
        seed.register_valid_link("Scaler.v2", "pca", versions["pca"][0])
        seed.save_op_bytes("pca", versions["pca"][0], b"pickled pca")
        seed.register_valid_link(None, "Scaler.v2", versions["Scaler.v2"][0])
        seed.save_op_bytes("Scaler.v2", versions["Scaler.v2"][0], b"pickled scaler")
        # the outer pipeline: a data source and the nested pipeline are never saved
        seed.register_valid_link("inner pipe", "iris data", versions["iris data"][0])
        seed.register_valid_link("Logistic Régression", "inner pipe", versions["inner pipe"][0])
        seed.register_valid_link(None, "Logistic Régression", model)
        seed.save_op_bytes("Logistic Régression", model, b"pickled " + model.minor.encode())
    seed.close()
    return seed, versions
