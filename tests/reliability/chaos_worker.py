"""One writer of the crash test, run as ``python -m tests.reliability.chaos_worker``.

It performs operations ``0..ops-1`` of a fixed per-writer script against the
store at ``url``, appending to its journal ``start <i>`` before and a JSON
``done`` line after each one (flushed and fsynced), so a SIGKILL can land
anywhere. Restarted, it resumes at the first operation without a ``done``
line and repeats it with the same idempotency key, as a crashed job's retry
would. The script mixes contended and private writes:

    step 0: register a new version of the shared op (contended head CAS)
    step 1: link that version to a downstream op shared by half the writers
    step 2: save bytes for it (a fresh blob)
    step 3: move this writer's alias to it
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SHARED_OP = "shared"
T0 = datetime(2025, 1, 1)


def version_of(writer: int, round_: int) -> Any:
    from s3opstore.models.version import Version

    return Version.from_parts(f"w{writer}", f"r{round_}", b"",
                              creation_time=T0 + timedelta(seconds=writer * 10_000 + round_))


def payload(writer: int, round_: int) -> bytes:
    return f"model of writer {writer} round {round_};".encode() * (1 + round_ % 7)


def completed(journal: Path) -> set[int]:
    if not journal.exists():
        return set()
    done = set()
    for line in journal.read_text().splitlines():
        if line.startswith("{"):
            try:
                done.add(int(json.loads(line)["i"]))
            except (ValueError, KeyError):
                continue  # a line torn by the kill
    return done


def run(url: str, writer: int, ops: int, journal: Path) -> None:
    from s3opstore.registry.opstore import OpStore

    store = OpStore.from_url(url)
    done = completed(journal)
    with open(journal, "a") as out:
        def note(line: str) -> None:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

        for i in range(ops):
            if i in done:
                continue
            round_, step = divmod(i, 4)
            version = version_of(writer, round_)
            key = f"chaos-w{writer}-op{i}"
            note(f"start {i}")
            entry: dict[str, Any] = {"i": i, "step": step, "vid": version.vid}
            if step == 0:
                record = store.register_version(SHARED_OP, version, idempotency_key=key)
                entry.update(seq=record.seq, number=list(record.number))
            elif step == 1:
                store.register_valid_link(f"down{writer % 2}", SHARED_OP, version,
                                          idempotency_key=key)
            elif step == 2:
                info = store.save_op_bytes(SHARED_OP, version, payload(writer, round_),
                                           idempotency_key=key)
                entry.update(sha256=info.sha256)
            else:
                entry.update(alias_seq=store.set_alias(SHARED_OP, f"w{writer}", version,
                                                       idempotency_key=key).seq)
            note(json.dumps(entry))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("writer", type=int)
    parser.add_argument("ops", type=int)
    parser.add_argument("journal", type=Path)
    args = parser.parse_args()
    run(args.url, args.writer, args.ops, args.journal)


if __name__ == "__main__":
    main()
