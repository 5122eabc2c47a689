"""Building the boto3 clients the S3 backend uses, and refusing what cannot work.

Kept apart from ``stores/s3.py`` (which sends requests and translates their
errors) because none of it sends a request: the default and endpoint
clients (SigV4, standard retries, path style for custom endpoints, a fast
timestamp parser), the refusal of S3 directory buckets and of a botocore
too old for conditional writes, and the private SigV4 twin that presigns
without touching the caller's client.
"""

from __future__ import annotations

import copy
import os
import weakref
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp

from s3opstore.errors import ConfigurationError, UnsupportedStoreError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["DIRECTORY_BUCKET_SUFFIX", "MIN_BOTOCORE", "check_sdk_version", "default_client",
           "endpoint_client", "refuse_directory_bucket", "sigv4_twin"]


def default_client(*, endpoint_url: str | None = None) -> S3Client:
    """A client from the default credential chain and standard AWS settings.

    ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` are honoured by boto3 itself;
    a custom endpoint gets path-style addressing, which S3-compatible servers
    (SeaweedFS, MinIO, moto server) expect. A malformed endpoint or region is a
    ConfigurationError naming the settings, not botocore's bare ValueError.
    """
    custom = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 5},
        s3={"addressing_style": "path"} if custom else {},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
    )
    try:
        return _session().client("s3", endpoint_url=endpoint_url, config=config)
    except ValueError as exc:  # botocore: a malformed endpoint URL or region name
        settings = {name: os.environ.get(name) for name in _CLIENT_SETTINGS}
        if endpoint_url is not None:
            settings = {"endpoint_url": endpoint_url, **settings}
        shown = ", ".join(f"{k}={v!r}" for k, v in settings.items() if v)
        raise ConfigurationError(f"no S3 client can be built from {shown or 'the defaults'}: "
                                 f"{exc}") from exc


_CLIENT_SETTINGS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION",
                    "AWS_REGION")


def _fast_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser with a fast path for ISO 8601 (every LIST entry has one).

    Profiling a 10,000-version listing showed botocore's general parser as its largest
    client-side cost; ``fromisoformat`` handles S3's format directly.
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    result: datetime = parse_timestamp(value)
    return result


def _session() -> boto3.session.Session:
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=_fast_timestamp)
    return boto3.session.Session(botocore_session=core)


def endpoint_client(endpoint_url: str, access_key: str, secret_key: str, *,
                    region: str = "us-east-1", **config: Any) -> S3Client:
    """A client for an S3-compatible server at ``endpoint_url`` with static keys."""
    return _session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                      retries={"mode": "standard", "max_attempts": 5}, **config))


# S3 directory buckets (S3 Express One Zone) are named base-name--zone-id--x-s3, and the
# SDK itself (botocore's endpoint rules) sends any bucket whose name ends in this suffix to
# the zonal S3 Express endpoint: the suffix is what makes a bucket one.
DIRECTORY_BUCKET_SUFFIX = "--x-s3"


def refuse_directory_bucket(bucket: str) -> None:
    """Raise UnsupportedStoreError for an S3 directory bucket, before any request.

    ListObjectsV2 on a directory bucket does not return keys in lexicographic order (and
    does not support StartAfter), while the registry's newest-first reads (an alias's
    current target, a version's newest byte binding) take the first key of a listing and
    its other listings rely on the order too. The conditional-write probe would pass there,
    and those reads would then silently answer wrong.
    """
    if bucket.lower().endswith(DIRECTORY_BUCKET_SUFFIX):
        raise UnsupportedStoreError(
            f"bucket {bucket!r} is an S3 directory bucket (S3 Express One Zone: its name ends "
            f"in {DIRECTORY_BUCKET_SUFFIX!r}); s3opstore cannot use it, because directory "
            f"buckets do not list keys in lexicographic order and the registry's newest-first "
            f"reads depend on that order. Use a general purpose S3 bucket (any storage class, "
            f"e.g. S3 Standard).")


# PutObject's IfMatch (compare-and-swap of manifests) first shipped in botocore 1.35.69.
MIN_BOTOCORE = (1, 35, 69)


def check_sdk_version(version: str | None = None) -> None:
    """Raise ConfigurationError, in one line, when botocore cannot send conditional writes.

    A Lambda runtime's bundled SDK may be older than the package's pin; every write
    would then fail with a long parameter-validation error.
    """
    text = version if version is not None else botocore.__version__
    try:
        found = tuple(int(part) for part in text.split(".")[:3])
    except ValueError:
        return  # a development build: let it try
    if found < MIN_BOTOCORE:
        need = ".".join(map(str, MIN_BOTOCORE))
        raise ConfigurationError(
            f"botocore {text} is too old: s3opstore needs botocore>={need} (IfMatch on "
            f"PutObject); install boto3>={need} (a Lambda runtime's bundled SDK may be older: "
            "build the zip with --include-sdk)")


_SIGV4_ID = "s3opstore-presign-sigv4"


def _keep_sigv4(signature_version: str, **_: Any) -> str | None:
    # Answering first stops botocore's "presign S3 with SigV2" default handler.
    if signature_version.endswith("-query") and "v4" in signature_version:
        return signature_version
    return None


def sigv4_twin(client: S3Client) -> S3Client:
    """A twin of ``client`` (same credentials, endpoint, connection pool) that presigns
    with SigV4, whatever the caller configured; the caller's client is left as it was.

    botocore registers its SigV2 presign default on the client's event system when the
    client's config names no signature version; the twin gets a copy of that event
    system with our answer first. The request signer emits on its own reference to the
    event system, so it is copied too (botocore has no public way to swap either).
    """
    events: Any = copy.copy(client.meta.events)  # the stubs type handlers as returning None
    events.register_first("choose-signer.s3", _keep_sigv4, unique_id=_SIGV4_ID)
    twin = object.__new__(type(client))  # copy.copy would trip BaseClient.__getattr__
    state = dict(vars(client))
    meta = copy.copy(client.meta)
    meta.events = events
    signer = copy.copy(state["_request_signer"])
    signer._event_emitter = weakref.proxy(events)  # the meta copy keeps ``events`` alive
    state.update(meta=meta, _request_signer=signer)
    vars(twin).update(state)
    return twin
