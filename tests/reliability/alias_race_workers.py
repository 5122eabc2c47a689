"""Worker for the separate-process alias race (spawned: importable, top-level only)."""

from __future__ import annotations

import os

from s3opstore import OpStore
from s3opstore.models.codec import decode
from s3opstore.models.keys import alias_head_key
from s3opstore.models.manifests import AliasHead


def move_alias(url: str, env: dict[str, str], op: str, alias: str, versions: list[str],
               worker: int, rounds: int) -> list[tuple[int, str, int]]:
    """Move the alias ``rounds`` times; after each acknowledged move, read the head.

    Returns (acknowledged seq, its token, the seq the head showed right after).
    """
    os.environ.update(env)
    store = OpStore.from_url(url)
    seen = []
    for i in range(rounds):
        position = store.set_alias(op, alias, versions[(worker + i) % len(versions)])
        key = alias_head_key(op, alias)
        head = decode(AliasHead, store.store.get(key).data, key)
        seen.append((position.seq, position.token, head.position.seq))
    return seen
