"""The per-request S3 counter counts each thread's own requests (it was shared before)."""

from __future__ import annotations

import threading
from typing import Any

from s3opstore.api.observe import S3RequestCounter


def test_overlapping_requests_on_threads_keep_their_own_counts() -> None:
    counter = S3RequestCounter()
    counter.attached = True  # as if hooked on a client; the hook is _on_send
    started = threading.Barrier(2)
    sent = threading.Barrier(2)
    seen: dict[int, Any] = {}

    def request(n: int) -> None:
        counter.reset()
        started.wait(timeout=10)
        for _ in range(n):
            counter._on_send()
        sent.wait(timeout=10)  # both threads have sent everything before either reads
        seen[n] = counter.count

    threads = [threading.Thread(target=request, args=(n,)) for n in (3, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert seen == {3: 3, 5: 5}
