"""Process entry points for the concurrent-history test (spawn-safe, top level).

Each writer links one common version of the shared op to a downstream op of its
own (all four append to that version's link chain at once), then registers
versions on the shared op and on its own op, links each shared version, and
moves an alias of the shared op, all started together by a barrier; it returns
what it was told succeeded, so the test can find each acknowledged write's event.
"""

from __future__ import annotations

import os
from typing import Any


def writer(url: str, env: dict[str, str], shared: str, worker: int, rounds: int,
           start: Any) -> list[dict[str, Any]]:
    os.environ.update(env)
    os.environ["S3OPSTORE_ACTOR"] = f"writer-{worker}"
    from s3opstore.models.keys import alias_key, link_key
    from s3opstore.models.version import Version
    from s3opstore.registry.opstore import OpStore

    store = OpStore.from_url(url)
    store.check_store()
    start.wait(timeout=300)
    acked: list[dict[str, Any]] = []
    own = f"own-{worker}"
    common = Version.from_parts("every writer")
    # the key holds the creation time of the first registration, not necessarily ours
    record = store.register_valid_link(f"down-{worker}", shared, common)
    canonical = record.version
    if record.registered_pid == os.getpid():  # the one of the four that registered it
        acked.append({"op": shared, "action": "version.register", "vid": common.vid})
    acked.append({"op": shared, "action": "link.register",
                  "key": link_key(f"down-{worker}", shared, canonical)})
    for i in range(rounds):
        version = Version.from_parts(f"writer {worker}", str(i))
        for op in (shared, own):
            store.register_version(op, version)
            acked.append({"op": op, "action": "version.register", "vid": version.vid})
        canonical = store.register_valid_link("down", shared, version).version
        acked.append({"op": shared, "action": "link.register",
                      "key": link_key("down", shared, canonical)})
        entry = store.set_alias(shared, f"w{worker}", version)
        acked.append({"op": shared, "action": "alias.set",
                      "key": alias_key(shared, entry.alias, entry.seq)})
    return acked
