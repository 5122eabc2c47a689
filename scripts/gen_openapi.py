#!/usr/bin/env python3
"""Write docs/openapi.json from the API's route table and pydantic models.

    python scripts/gen_openapi.py          # regenerate
    python scripts/gen_openapi.py --check  # exit 1 when the file is stale (CI)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from s3opstore.api.openapi import render

TARGET = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python scripts/gen_openapi.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
