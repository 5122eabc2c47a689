"""``s3opstore serve`` as users start it: the README's command, the CLI's refusals."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import requests

from s3opstore.cli.main import build_parser
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.testing.servers import SeaweedFS
from tests.api.serving import REPO, ChariotsWireClient, Served, readme_command


def chariots_round_trip(client: ChariotsWireClient) -> None:
    """Chariots' seven calls in the order its pipelines make them; 7/7 must answer."""
    v_pca = Version.from_parts(b"pca", creation_time=datetime(2020, 1, 1, 10, 0, 0))
    v_clf = Version.from_parts(b"clf", creation_time=datetime(2020, 1, 1, 10, 0, 0, 123456))
    assert client.pipeline_exists("iris") is False
    client.register_new_pipeline("iris", "clf")
    assert client.pipeline_exists("iris") is True
    assert client.get_all_versions_of_op("clf") is None
    client.register_valid_link("clf", "pca", v_pca)
    client.register_valid_link(None, "clf", v_clf)
    client.save_op_bytes("pca", v_pca, b"pca-bytes")
    client.save_op_bytes("clf", v_clf, bytes(range(256)) * 40)
    assert client.get_all_versions_of_op("clf") == {v_clf}
    assert {str(v) for v in client.get_all_versions_of_op("clf") or ()} == {str(v_clf)}
    assert client.get_validated_links("clf", "pca") == {v_pca}
    assert client.get_validated_links("pca", "clf") is None
    assert client.get_op_bytes_for_version("clf", v_clf) == bytes(range(256)) * 40
    assert client.get_op_bytes_for_version("pca", v_pca) == b"pca-bytes"


def test_readme_serve_command_passes_the_chariots_round_trip(tmp_path: Path) -> None:
    command = readme_command((REPO / "README.md").read_text(), "s3opstore serve")
    served = Served(command, cwd=tmp_path)
    try:
        assert served.url == "http://127.0.0.1:8080"
        chariots_round_trip(ChariotsWireClient(served.url))
        # what it wrote is a normal store: the library reads it back
        store = OpStore.from_url(str(tmp_path / "registry"))
        assert store.pipeline_exists("iris")
        assert store.load_op_bytes("pca", store.get_versions("pca")[0].version) == b"pca-bytes"
    finally:
        assert served.stop() == 0
    routes = {line["route"] for line in served.log()}
    assert {"save_op_bytes", "get_op_bytes_for_version", "register_valid_link",
            "pipeline_exists", "register_new_pipeline", "get_validated_links",
            "get_all_versions_of_op"} <= routes
    assert all(line["status"] == 200 for line in served.log())


def test_serve_is_listed_in_help() -> None:
    text = build_parser().format_help()
    assert "serve" in text
    sub = subprocess.run([sys.executable, "-m", "s3opstore.cli", "serve", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert sub.returncode == 0
    for option in ("--host", "--port", "--workers", "--token-file", "--allow-network",
                   "--allow-host", "--allow-anyone", "--max-body-bytes", "--idle-timeout"):
        assert option in sub.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--host", "0.0.0.0"], "--allow-network"),
    (["--host", "0.0.0.0", "--allow-network", "10.0.0.300/8"], "'10.0.0.300/8'"),
    (["--token-file", "missing-token"], "missing-token"),
    (["--workers", "0"], "--workers"),
])
def test_serve_refuses_unsafe_or_bad_settings(tmp_path: Path, args: list[str],
                                              needle: str) -> None:
    sub = subprocess.run([sys.executable, "-m", "s3opstore.cli", "serve", "--store",
                          str(tmp_path / "s"), "--port", "0", *args], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert sub.returncode == 3
    assert sub.stderr.startswith("error [misconfigured]: ")
    assert needle in sub.stderr
    assert len(sub.stderr.strip().splitlines()) == 1


def test_token_from_the_environment_guards_writes(tmp_path: Path) -> None:
    served = Served(f"s3opstore serve --store {tmp_path / 's'} --port 0", cwd=tmp_path,
                    env={"S3OPSTORE_TOKEN": "sesame"})
    try:
        body = {"pipeline_name": "p", "last_op_name": "op"}
        url = served.url + "/v1/register_new_pipeline"
        refused = requests.post(url, json=body, timeout=10)
        assert (refused.status_code, refused.json()["error"]["type"]) == (401, "unauthorized")
        wrong = requests.post(url, json=body, headers={"Authorization": "Bearer nope"},
                              timeout=10)
        assert wrong.status_code == 401
        read = requests.post(served.url + "/v1/pipeline_exists", json={"pipeline_name": "p"},
                             timeout=10)
        assert read.json() == {"exists": False}  # nothing was written
        ok = requests.post(url, json=body, headers={"Authorization": "Bearer sesame"},
                           timeout=10)
        assert (ok.status_code, ok.json()) == (200, {})
    finally:
        assert served.stop() == 0


def _own_address() -> str:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("192.0.2.1", 9))
        return str(sock.getsockname()[0])


def test_documented_shared_deployment_for_credential_less_workers(tmp_path: Path) -> None:
    text = (REPO / "docs" / "http-api.md").read_text()
    command = readme_command(text, "s3opstore serve --store ./registry --host 0.0.0.0")
    assert "--allow-network 10.0.0.0/8" in command and "--token" not in command
    served = Served(command, cwd=tmp_path)
    try:
        port = int(served.url.rsplit(":", 1)[1])
        assert port == 8081
        # a worker's Chariots client, unchanged: no credentials (loopback stands in for it)
        chariots_round_trip(ChariotsWireClient(f"http://127.0.0.1:{port}"))
        named = requests.post(f"http://127.0.0.1:{port}/v1/pipeline_exists",
                              json={"pipeline_name": "iris"}, timeout=10,
                              headers={"Host": f"opstore.internal:{port}"})
        assert named.json() == {"exists": True}
        foreign = requests.post(f"http://127.0.0.1:{port}/v1/pipeline_exists",
                                json={"pipeline_name": "iris"}, timeout=10,
                                headers={"Host": "rebound.example"})
        assert foreign.status_code == 403
        address = _own_address()
        other = requests.post(f"http://{address}:{port}/v1/register_new_pipeline",
                              json={"pipeline_name": "intruder", "last_op_name": "x"},
                              timeout=10)
        inside = ipaddress.ip_address(address) in ipaddress.ip_network("10.0.0.0/8")
        if inside or ipaddress.ip_address(address).is_loopback:
            assert other.status_code == 200  # this machine is itself in the allowed network
        else:
            assert (other.status_code, other.json()["error"]["type"]) == (403,
                                                                          "forbidden_client")
            assert not OpStore.from_url(str(tmp_path / "registry")).pipeline_exists("intruder")
    finally:
        assert served.stop() == 0


@pytest.mark.seaweedfs
def test_serve_on_an_s3_store_counts_each_requests_own_s3_calls(tmp_path: Path,
                                                                seaweed: SeaweedFS) -> None:
    bucket = seaweed.new_bucket("serve")
    served = Served(f"s3opstore serve --store s3://{bucket}/reg --port 0", cwd=tmp_path,
                    env=seaweed.env())
    try:
        client = ChariotsWireClient(served.url)
        chariots_round_trip(client)
        big = Version.from_parts(b"big", creation_time=datetime(2021, 2, 3))
        client.register_valid_link(None, "big", big)
        data = bytes(range(256)) * (9 * 4096)  # 9 MiB: streamed in, and over Lambda's limit
        client.save_op_bytes("big", big, data)
        assert client.get_op_bytes_for_version("big", big) == data
    finally:
        assert served.stop() == 0
    log = served.log()
    assert all(line["status"] == 200 for line in log)
    exists = [line for line in log if line["route"] == "pipeline_exists"]
    # A HEAD each, nobody else's; the process's first request also read the store's
    # format (design.md, D13).
    assert [line["s3_requests"] for line in exists] == [2, 1]
    assert all(isinstance(line["s3_requests"], int) for line in log)
