"""Request budgets per operation, counted as real HTTP requests through botocore events.

Budgets (uncontended, after the one-time probe) as README.md's table states them:
latest_version == 1; load_op_bytes <= 2 + the blob transfer; register_version of a new
version == 4, 3 while the op has at most 64 versions (the head's window of recent
versions reaches seq 0; the first: 2); register_valid_link with the version registered
<= 3; get_versions of N versions == 1 + ceil(N/1000) (one GET, LIST pages);
get_validated_links of N links == ceil(N/1000); pipeline_exists == 1; get_alias and
resolve("op@alias") == 1; set_alias 6-7 (the first of an alias: 5-6); delete_alias 5; a warm
CachedLoader.load_ref("op@alias") == 1 with a binding TTL (a 304), 3 without. A new process
reads the store's root manifest (design.md, D13) once: one more GET, once.

Every write also appends its event to the op's history (design.md, D16): requests to
``events/`` are counted apart, so each budget is asserted without the log (the budget
before D16) and for the log alone: 1 PUT once the process knows the chain's head, and a
LIST (plus a GET when the chain is not empty) the first time it appends to a chain, but
for a link chain (one per upstream version), nearly always empty: 1 PUT of event 0. A
version's event rides in its op head; the next version's writer stores it (1 PUT, which
never races: its key is the version's own seq), so a first version logs with no request.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from s3opstore import CachedLoader, OpStore, Version
from s3opstore.models.keys import op_head_key
from s3opstore.models.seen import SEEN_BITS
from s3opstore.registry.context import forget_probes
from s3opstore.registry.events import forget_heads
from s3opstore.stores.s3 import S3Store
from tests.conftest import _session_bucket


class RequestCounter:
    """Requests by operation; those to the history (``events/``) are kept apart."""

    def __init__(self, client: Any) -> None:
        self.by_operation: Counter[str] = Counter()
        self.log: Counter[str] = Counter()
        client.meta.events.register("before-send.s3", self._count)

    def _count(self, event_name: str, request: Any = None, **_: Any) -> None:
        # "before-send.s3.PutObject": fired once per HTTP attempt, retries included
        operation = event_name.rsplit(".", 1)[-1]
        url = str(getattr(request, "url", ""))
        if "/events/" in url or ("prefix=" in url and "events%2F" in url):
            self.log[operation] += 1
        else:
            self.by_operation[operation] += 1

    def take(self) -> Counter[str]:
        """Requests without the log since the last take (the log's: :meth:`take_log`)."""
        taken = Counter(self.by_operation)
        self.by_operation.clear()
        return taken

    def take_log(self) -> Counter[str]:
        taken = Counter(self.log)
        self.log.clear()
        return taken


@pytest.fixture(params=["seaweed", "moto_server"])
def counted(request: pytest.FixtureRequest) -> Iterator[tuple[OpStore, RequestCounter]]:
    server = request.getfixturevalue(request.param)
    client = server.client()
    counter = RequestCounter(client)
    import uuid

    store = OpStore(S3Store(_session_bucket(server), f"budget/{uuid.uuid4().hex[:8]}",
                            client=client))
    store.check_store()
    counter.take()
    counter.take_log()
    yield store, counter


def v(i: int, part: str = "major") -> Version:
    return Version.from_parts(**{part: f"{i}"})  # type: ignore[arg-type]


def total(counts: Counter[str]) -> int:
    return sum(counts.values())


def test_register_and_read_budgets(counted: tuple[OpStore, RequestCounter]) -> None:
    store, counter = counted
    store.register_version("op", v(0))
    assert total(counter.take()) == 2  # first version: GET head (404) + create head
    assert total(counter.take_log()) == 0  # its event rides in the head it created
    store.register_version("op", v(1))
    # GET head, CAS: v(0) stays in the head as its previous version, so nothing is listed
    assert counter.take() == Counter({"GetObject": 1, "PutObject": 1})
    assert total(counter.take_log()) == 0
    for i in range(2, 4):
        store.register_version("op", v(i))
        counts = counter.take()
        # GET head, PUT the entry of the version leaving the head, PUT head: the head's
        # filter of the versions it has seen proves v(i) new without the LIST
        assert total(counts) == 3, counts
        assert counts["PutObject"] == 2 and counts["GetObject"] == 1
        assert counter.take_log() == Counter({"PutObject": 1})  # the leaving one's event
    store.register_version("op", v(1))  # already registered, not the latest
    assert total(counter.take()) <= 2
    assert total(counter.take_log()) == 0  # nothing written, nothing logged

    assert store.latest_version("op") is not None
    assert counter.take() == Counter({"GetObject": 1})  # README: latest_version costs 1

    store.register_valid_link("down", "op", v(3))  # the latest
    assert total(counter.take()) <= 3
    # logged in the version's own link chain, which this process has not seen: the
    # create-only PUT of event 0 straight away, no LIST (a LIST + PUT in the op's chain
    # before link chains)
    assert counter.take_log() == Counter({"PutObject": 1})
    store.register_valid_link("down", "op", v(1))  # an older one: another chain, the same
    assert total(counter.take()) <= 3
    assert counter.take_log() == Counter({"PutObject": 1})
    # The same links again: the create answers 412 and the link is read back to confirm
    # it (a 412 is never taken on trust), so an existing link to an older version costs 4.
    store.register_valid_link("down", "op", v(3))
    assert total(counter.take()) <= 3
    store.register_valid_link("down", "op", v(1))
    assert total(counter.take()) <= 4
    assert total(counter.take_log()) == 0

    assert len(store.get_versions("op")) == 4
    assert total(counter.take()) == 1 + math.ceil(4 / 1000)  # GET head + LIST entries
    assert len(store.get_validated_links("down", "op")) == 2
    assert total(counter.take()) == math.ceil(2 / 1000)  # LIST pages only

    store.register_pipeline("pipe", "down")
    assert total(counter.take()) == 2  # PUT pipeline, PUT op marker
    # the store's chain and down's are new: LIST + PUT each
    assert counter.take_log() == Counter({"ListObjectsV2": 2, "PutObject": 2})
    assert store.pipeline_exists("pipe")
    assert total(counter.take()) == 1
    assert total(counter.take_log()) == 0  # reads never touch the history

    store.set_alias("op", "prod", v(3))
    assert total(counter.take()) <= 5  # find the version (1-2), LIST + GET newest, PUT
    # the op's own chain is new to this process: LIST (empty) + PUT, what any write's
    # first event in a chain costs (the links no longer found it first)
    assert counter.take_log() == Counter({"ListObjectsV2": 1, "PutObject": 1})
    store.set_tags("op", {"team": "a"})
    assert counter.take_log() == Counter({"PutObject": 1})


def test_a_new_process_finds_the_chain_head_once(
        counted: tuple[OpStore, RequestCounter]) -> None:
    """A process that does not know a chain's head reads it once: LIST + GET, then PUTs."""
    store, counter = counted
    store.register_version("op", v(0))
    store.set_tags("op", {"turn": "0"})
    forget_probes()
    forget_heads()
    counter.take()
    counter.take_log()
    reopened = OpStore(store.store)
    reopened.set_tags("op", {"turn": "1"})
    assert counter.take_log() == Counter({"ListObjectsV2": 1, "GetObject": 1, "PutObject": 1})
    reopened.set_tags("op", {"turn": "2"})
    assert counter.take_log() == Counter({"PutObject": 1})


def test_bytes_budgets(counted: tuple[OpStore, RequestCounter]) -> None:
    store, counter = counted
    store.register_version("op", v(0))
    store.save_op_bytes("op", v(0), b"weights" * 1000)
    counter.take()
    assert counter.take_log() == Counter({"ListObjectsV2": 1, "PutObject": 1})  # the binding
    assert store.load_op_bytes("op", v(0)) == b"weights" * 1000
    counts = counter.take()
    assert counts["GetObject"] == 2 and counts["ListObjectsV2"] == 1  # binding + blob
    assert total(counts) <= 2 + 1
    # Saving the same bytes again writes nothing and looks at the blob once.
    store.save_op_bytes("op", v(0), b"weights" * 1000)
    counts = counter.take()
    assert counts["PutObject"] == 0 and counts["HeadObject"] == 1, counts
    assert total(counter.take_log()) == 0  # nothing bound, nothing logged


def test_alias_budgets(counted: tuple[OpStore, RequestCounter], tmp_path: Path) -> None:
    store, counter = counted
    for i in range(3):
        store.register_version("op", v(i))
    store.save_op_bytes("op", v(2), b"weights" * 100)
    counter.take()
    store.set_alias("op", "production", v(2))  # the latest: 1 GET finds it
    counts = counter.take()  # GET op head, LIST history, PUT position, GET + PUT alias head
    assert total(counts) == 5 and counts["PutObject"] == 2, counts
    store.set_alias("op", "production", v(0))  # older: GET + LIST find it
    counts = counter.take()  # + GET newest position, the head CAS (If-Match)
    assert total(counts) == 7 and counts["PutObject"] == 2, counts
    store.set_alias("op", "production", v(2))
    assert total(counter.take()) == 6

    assert store.get_alias("op", "production").version == v(2)
    assert counter.take() == Counter({"GetObject": 1})  # README: get_alias costs 1
    assert store.resolve("op@production").number == (3, 0, 0)
    assert counter.take() == Counter({"GetObject": 1})

    warm = CachedLoader(store, tmp_path / "warm", binding_ttl=60)
    assert warm.load_ref("op@production")[1] == b"weights" * 100
    counter.take()
    assert warm.load_ref("op@production")[1] == b"weights" * 100
    assert counter.take() == Counter({"GetObject": 1})  # If-None-Match: 304, no blob
    strict = CachedLoader(store, tmp_path / "strict")
    strict.load_ref("op@production")
    counter.take()
    strict.load_ref("op@production")
    assert counter.take() == Counter({"GetObject": 1, "ListObjectsV2": 2})  # + status, binding

    store.delete_alias("op", "production")
    assert total(counter.take()) == 5  # LIST + GET history, PUT deletion, GET + PUT head


@pytest.mark.slow
@pytest.mark.parametrize("counted", ["seaweed"], indirect=True)
def test_costs_do_not_grow_with_history(counted: tuple[OpStore, RequestCounter]) -> None:
    """The 1,005th registration costs what the 3rd did, and listings page by 1000.

    The head's filter of every version it has seen (design.md, D2) proves each new
    version new without the LIST of its entries, but for its false positives (under
    0.1% at this size), which pay that LIST: 4 requests instead of 3.
    """
    store, counter = counted
    per_registration, logged = [], []
    for i in range(1005):
        store.register_version("op", v(i))
        per_registration.append(total(counter.take()))
        logged.append(total(counter.take_log()))
    assert per_registration[:2] == [2, 2]  # nothing leaves the head yet
    assert set(per_registration[2:]) <= {3, 4}
    assert per_registration[2:].count(4) <= 5
    assert max(logged[1:]) == 1  # the history costs one PUT, however long it is
    assert len(store.get_versions("op")) == 1005
    assert total(counter.take()) <= math.ceil(1005 / 1000) + 2
    assert store.latest_version("op") is not None
    assert total(counter.take()) == 1


@pytest.mark.parametrize("filter_state", ["saturated", "absent"])
def test_a_head_filter_that_proves_nothing_costs_the_list_not_a_duplicate(
        counted: tuple[OpStore, RequestCounter], filter_state: str) -> None:
    """A filter that holds every bit (false positives for all) or none at all (a head
    from older code) makes registration LIST the version's entries, as before it."""
    store, counter = counted
    for i in range(3):
        store.register_version("op", v(i))
    key = op_head_key("op")
    raw = orjson.loads(store.store.get(key).data)
    if filter_state == "saturated":
        raw["seen"] = base64.b64encode(b"\xff" * (SEEN_BITS // 8)).decode()
    else:
        del raw["seen"], raw["seen_from"]
    raw["recent"] = []  # nor does the window of recent versions prove anything
    store.store.put(key, orjson.dumps(raw))
    counter.take()
    assert store.register_version("op", v(0)).seq == 0  # listed: found by the LIST
    assert counter.take()["ListObjectsV2"] == 1
    assert store.register_version("op", v(3)).seq == 3  # new: the LIST finds nothing
    assert counter.take()["ListObjectsV2"] == 1
    assert [r.seq for r in store.get_versions("op")] == [0, 1, 2, 3]
    assert store.register_version("op", v(4)).seq == 4
    # the next head's filter: grown (still saturated), or started at seq 3
    head = orjson.loads(store.store.get(key).data)
    assert head["seen_from"] == (0 if filter_state == "saturated" else 3)


def test_a_new_process_reads_the_store_format_once(
        counted: tuple[OpStore, RequestCounter]) -> None:
    """D13: the root manifest costs one GET per store and process, then nothing."""
    store, counter = counted
    store.register_version("op", v(0))
    counter.take()
    forget_probes()  # a new process (a cold Lambda) opening the existing store
    reopened = OpStore(store.store)
    assert reopened.latest_version("op") is not None
    assert counter.take() == Counter({"GetObject": 2})  # the root manifest, the head
    assert reopened.latest_version("op") is not None
    assert OpStore(store.store).pipeline_exists("pipe") is False
    assert counter.take() == Counter({"GetObject": 1, "HeadObject": 1})


def test_readme_states_the_alias_budgets_asserted_here() -> None:
    """README's request table says what test_alias_budgets asserts, row for row."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for row in ('| `get_alias`, `resolve("op@alias")` | 1 |',
                "| `set_alias` | 6–7 (the first position of an alias: 5–6) |",
                "| `delete_alias` | 5 |",
                '| `CachedLoader.load_ref("op@alias")`, warm and unchanged | 1 with '
                "`binding_ttl` > 0 (a conditional GET answered 304, no blob); 3 with the "
                "default `binding_ttl=0` (+ the version's status and binding LISTs) |"):
        assert row in readme, row


def test_signing_and_verifying_add_no_request(counted: tuple[OpStore, RequestCounter]) -> None:
    """D15: the signature rides in the binding, and is checked from the binding alone."""
    from s3opstore.trust import SigningKey, TrustedKeys

    store, counter = counted
    key = SigningKey.generate()
    signing = OpStore(store.store, signer=key)
    trusting = OpStore(store.store, trusted_keys=TrustedKeys.of(key))
    for i, (saver, loader) in enumerate([(store, store), (signing, trusting)]):
        saver.register_version("op", v(i))
        counter.take()
        saved = saver.save_op_bytes("op", v(i), b"weights %d" % i * 1000)
        save_counts = counter.take()
        assert loader.load_op_bytes("op", v(i)) == b"weights %d" % i * 1000
        load_counts = counter.take()
        assert saved.signer == (None if saver is store else key.key_id)
        if saver is store:
            unsigned_save, unsigned_load = save_counts, load_counts
    assert save_counts == unsigned_save, (save_counts, unsigned_save)
    assert load_counts == unsigned_load == Counter({"GetObject": 2, "ListObjectsV2": 1})
