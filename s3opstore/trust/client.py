"""Signing on the client side of a presigned upload (``commit_upload``'s ``signature``).

A client that uploads through presigned URLs never hands its private key to
the server: it asks the API for the version (``get_version``, a
``VersionInfo``), signs locally, and sends the signature with the commit. The
server checks it against its trusted keys and stores it in the binding.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from s3opstore.errors import InvalidInputError
from s3opstore.models.manifests import VersionRecord
from s3opstore.models.version import Version
from s3opstore.trust.keys import SigningKey
from s3opstore.trust.verify import sign_binding

__all__ = ["record_from_info", "sign_upload"]


def record_from_info(info: Mapping[str, Any]) -> VersionRecord:
    """The registration record from the HTTP API's ``VersionInfo`` JSON."""
    try:
        major, minor, patch = (int(part) for part in str(info["number"]).split("."))
        return VersionRecord(
            op_name=info["op_name"], version=Version.parse(info["version"]),
            number=(major, minor, patch), seq=info["seq"],
            registered_at=datetime.fromisoformat(info["registered_at"]),
            registered_host=info["registered_host"], registered_pid=info["registered_pid"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"not a VersionInfo answer ({exc}): {dict(info)!r}") from None


def sign_upload(key: SigningKey, version_info: Mapping[str, Any], sha256: str,
                size: int) -> dict[str, Any]:
    """The ``signature`` object for ``commit_upload`` of these bytes to that version."""
    signature = sign_binding(key, record_from_info(version_info), sha256, size)
    return signature.model_dump(mode="json")
