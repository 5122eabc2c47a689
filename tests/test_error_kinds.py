"""Error codes are stable API: one enumeration, only ever added to.

``s3opstore.errors.error_kinds()`` is every ``kind`` the Python, HTTP and CLI faces
can report. The set below is what clients may already match on: nothing in it may
disappear or be renamed (add new codes here when they are added there). And every
code a face writes literally must be in the enumeration.
"""

from __future__ import annotations

import re
from pathlib import Path

from s3opstore.api.server import _ERROR_KINDS
from s3opstore.errors import FACE_KINDS, S3OpStoreError, error_kinds

PACKAGE = Path(__file__).resolve().parent.parent / "s3opstore"

PUBLISHED = frozenset({
    "alias_not_found", "already_exists", "bad_request", "bytes_not_found",
    "concurrent_write", "conflict", "corrupt_manifest", "cross_origin", "error",
    "forbidden_client", "forbidden_host", "headers_too_large", "integrity", "internal",
    "interrupted", "invalid_event", "invalid_input", "invalid_key", "invalid_name",
    "invalid_version", "method_not_allowed", "misconfigured", "not_found", "not_implemented",
    "object_not_found", "op_not_found", "os_error", "outcome_unknown", "payload_too_large",
    "pipeline_not_found", "precondition_failed", "response_too_large", "storage",
    "storage_access", "storage_full", "storage_unavailable", "unauthorized", "unknown_route",
    "unsafe_path", "unsafe_store", "unsupported_format", "unsupported_media_type",
    "unsupported_store", "version_not_found", "invalid_key_file", "untrusted_bytes",
})

# A face writing a code by hand: error_response(404, "unknown_route", ...), _fail(out, "...").
_LITERAL = re.compile(r'(?:error_response\(\s*\d{3},\s*|_fail\(out,\s*)"([a-z_]+)"')


def test_codes_are_only_ever_added() -> None:
    missing = PUBLISHED - error_kinds()
    assert not missing, f"published error codes removed or renamed: {sorted(missing)}"


def test_every_code_a_face_writes_is_enumerated() -> None:
    written = {match for path in PACKAGE.rglob("*.py")
               for match in _LITERAL.findall(path.read_text(encoding="utf-8"))}
    written |= set(_ERROR_KINDS.values())
    assert len(written) >= 10  # the scan finds the faces' codes at all
    assert written <= error_kinds(), sorted(written - error_kinds())


def test_face_codes_do_not_shadow_exception_codes() -> None:
    def classes(cls: type[S3OpStoreError]) -> set[str]:
        return {cls.kind}.union(*(classes(sub) for sub in cls.__subclasses__()))

    assert not set(FACE_KINDS) & classes(S3OpStoreError)
    assert all(kind == kind.lower() and kind.isidentifier() for kind in error_kinds())
