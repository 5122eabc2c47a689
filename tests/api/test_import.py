"""Cold start: importing the Lambda handler pulls in nothing optional."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("s3opstore.cli", "rich", "moto", "hypothesis", "requests", "pytest", "flask",
             "s3opstore.api.server", "s3opstore.api.wsgi", "waitress", "http.server",
             "s3opstore.testing", "boto3")

PROBE = """
import json, sys
import s3opstore.lambda_handler
print(json.dumps({"modules": sorted(sys.modules)}))
"""


def test_importing_the_handler_imports_nothing_optional() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True, timeout=60)
    report = json.loads(done.stdout)
    modules = set(report["modules"])
    assert "s3opstore.lambda_handler" in modules and "s3opstore.api.handler" in modules
    loaded = sorted(name for name in modules
                    if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN))
    assert loaded == []
    # No bound on the import time: on a machine shared with other suites any bound is a
    # coin toss. The cold-start benchmark measures it, as a ratio to a bare interpreter.
