"""docs/openapi.json is generated from the code and must match it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from s3opstore.api import ROUTES
from s3opstore.api.openapi import build, render

ROOT = Path(__file__).resolve().parents[2]


def test_checked_in_document_matches_the_code() -> None:
    checked_in = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert checked_in == render(), "docs/openapi.json is stale: run scripts/gen_openapi.py"


def test_generator_check_mode(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "gen_openapi.py"
    target = tmp_path / "openapi.json"
    stale = subprocess.run([sys.executable, str(script), "--check", "--output", str(target)],
                           capture_output=True, text=True, timeout=60, check=False)
    assert stale.returncode == 1
    subprocess.run([sys.executable, str(script), "--output", str(target)], check=True,
                   capture_output=True, timeout=60)
    assert json.loads(target.read_text()) == build()


def test_every_route_is_documented_with_its_errors() -> None:
    document = build()
    assert set(document["paths"]) == {route.path for route in ROUTES}
    for route in ROUTES:
        operation = document["paths"][route.path]["post"]
        assert {"200", "400", "404", "405", "413", "503"} <= set(operation["responses"])
        schema = document["components"]["schemas"][route.request.__name__]
        assert schema.get("additionalProperties") is False
    seed = document["components"]["schemas"]["SaveOpBytesRequest"]
    assert set(seed["properties"]) == {"op_name", "version", "bytes"}
    nullable = document["paths"]["/v1/get_all_versions_of_op"]["post"]["responses"]["200"]
    assert {"type": "null"} in nullable["content"]["application/json"]["schema"]["anyOf"]
