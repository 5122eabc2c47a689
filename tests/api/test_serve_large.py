"""Real-size models through the seed's base64 route on `s3opstore serve`, in bounded memory."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from tests.api.serving import ChariotsWireClient, Served

MIB = 1024 * 1024


@pytest.mark.slow
def test_32_and_100_mib_models_round_trip_with_bounded_server_memory(tmp_path: Path) -> None:
    served = Served(f"s3opstore serve --store {tmp_path / 'reg'} --port 0", cwd=tmp_path)
    try:
        client = ChariotsWireClient(served.url)
        small = Version.from_parts(b"warm-up", creation_time=datetime(2021, 1, 1))
        client.register_valid_link(None, "model", small)
        client.save_op_bytes("model", small, b"x" * 1000)  # imports and threads warmed up
        assert client.get_op_bytes_for_version("model", small) == b"x" * 1000
        baseline = served.rss_peak_kib()
        for size in (32 * MIB, 100 * MIB):
            data = os.urandom(size)
            version = Version.from_parts(str(size).encode(), creation_time=datetime(2021, 1, 2))
            client.register_valid_link(None, "model", version)
            client.save_op_bytes("model", version, data)
            back = client.get_op_bytes_for_version("model", version)
            assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
            assert len(back) == size
            del data, back
        growth_mib = (served.rss_peak_kib() - baseline) / 1024
        print(f"server peak RSS growth: {growth_mib:.1f} MiB")
        assert growth_mib < 64, f"server peak RSS grew by {growth_mib:.1f} MiB"
    finally:
        assert served.stop() == 0
    store = OpStore.from_url(str(tmp_path / "reg"))
    assert [v.size for v in map(lambda r: store.op_bytes_info("model", r.version),
                                store.get_versions("model"))] == [1000, 32 * MIB, 100 * MIB]
