"""Connections on `serve`: many idle ones, stalled clients, and bursts of one-shot clients."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from s3opstore.api.server import make_server
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, OpStore]]:
    store = OpStore(LocalStore(tmp_path / "s"))
    server = make_server(store, idle_timeout=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url, store
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """True once the server closed ``sock`` (EOF or reset), False if the deadline passes."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        if not data:
            return True
    return False


def test_300_idle_connections_do_not_block_requests_and_are_closed(
        served: tuple[str, OpStore]) -> None:
    url, _ = served
    host, port = url.removeprefix("http://").rsplit(":", 1)
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(300)]
    stalled = socket.create_connection((host, int(port)), timeout=10)
    stalled.sendall(b"POST /v1/list_ops HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")  # no end
    try:
        for _ in range(5):  # more than the worker threads are busy with
            answer = requests.post(url + "/v1/list_ops", json={}, timeout=10)
            assert (answer.status_code, answer.json()) == (200, {"ops": []})
        deadline = time.monotonic() + 30  # the timeout is 2 s; the bound only ends a failure
        assert _closed_by_server(stalled, deadline)
        assert all(_closed_by_server(sock, deadline) for sock in idle)
        answer = requests.post(url + "/v1/list_ops", json={}, timeout=10)
        assert answer.status_code == 200
    finally:
        for sock in [*idle, stalled]:
            sock.close()


def test_64_simultaneous_one_shot_clients_are_all_answered(
        served: tuple[str, OpStore]) -> None:
    url, store = served
    barrier = threading.Barrier(64)
    results: list[object] = []

    def client(i: int) -> None:
        barrier.wait(timeout=30)
        try:  # a fresh connection per call, as Chariots' requests.post does
            answer = requests.post(url + "/v1/register_new_pipeline", timeout=30,
                                   json={"pipeline_name": f"p{i}", "last_op_name": "op"})
            results.append(answer.status_code)
        except requests.RequestException as exc:
            results.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [200] * 64
    assert len(store.list_pipelines()) == 64
