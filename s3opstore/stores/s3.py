"""The S3 backend: with s3_client.py and s3_errors.py, the only place that knows botocore.

Every botocore exception is translated here, once (by the table in
``s3_errors.py``), into the package's own hierarchy (``raise ... from exc``).
Conditional writes map to ``If-None-Match: *`` (create) and ``If-Match: <etag>``
(compare-and-swap).
Large objects go through s3transfer's managed transfers so memory stays
bounded whatever the size. Every upload asks S3 for a checksum (SHA-256 on a
single PUT, CRC32 on every part of a multipart upload; copies SHA-256), and
``head`` reads them back (``ChecksumMode=ENABLED``): a digest computed and
verified by S3 is the only proof on which the blob layer reuses a blob.

Every call to botocore or s3transfer sits in one ``with self._errors(...)``
block, the single translation point. It says two independent things about the
request: whether it ``may_apply`` (a write: a transport failure or 5xx then
raises ``StorageUnavailableError(maybe_applied=True)``, which the committer
reads back), and what an absent object means (``missing``): ``"not_found"``
(ObjectNotFoundError), ``"precondition"`` (If-Match on a missing key: a failed
condition), or ``"absent"`` (an answer, not an error: HEAD's None, a DELETE of
what is already gone). The caller's TransferConfig is never changed (the store
works on a copy), and neither is the caller's client: ``presign`` signs through a
private twin of it whose own event system keeps presigned URLs on SigV4. Clients
are built in ``s3_client.py``, which sends no request.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from s3opstore.errors import (
    S3OpStoreError,
    StorageError,
)
from s3opstore.stores.base import (
    BLOB_PART_SIZE,
    GetResult,
    IfMatch,
    ObjectInfo,
    PutMode,
    check_key,
    check_prefix,
    sha256_base64,
)
from s3opstore.stores.s3_client import (
    check_sdk_version,
    default_client,
    endpoint_client,
    refuse_directory_bucket,
    sigv4_twin,
)
from s3opstore.stores.s3_errors import (
    Missing,
    batch_delete_error,
    http_status,
    is_missing,
    stored_crc32,
    stored_sha256,
    translate,
)
from s3opstore.stores.s3_streams import CountingSink, Unclosable, at_start

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef

__all__ = ["S3Store", "check_sdk_version", "default_client", "endpoint_client"]

# Below this size a blob moves in one request; above it s3transfer splits it.
MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_CHUNKSIZE = BLOB_PART_SIZE


class S3Store:
    """Objects under ``s3://bucket/prefix``."""

    def __init__(self, bucket: str, prefix: str = "", *, client: S3Client | None = None,
                 transfer_config: TransferConfig | None = None) -> None:
        refuse_directory_bucket(bucket)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        check_sdk_version()
        self.client: S3Client = client if client is not None else default_client()
        self._sigv4_client: tuple[S3Client, S3Client] | None = None  # (of client, twin)
        self.page_size = 1000  # LIST page size; tests lower it to exercise pagination
        self.delete_page_size = 1000  # keys per DeleteObjects (S3's most); tests lower it
        # A copy: the caller's TransferConfig (perhaps shared with other code) stays as given.
        self.transfer_config = copy.copy(transfer_config) if transfer_config else TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_CHUNKSIZE,
            max_concurrency=8,
        )
        # s3transfer holds up to 10 read-ahead parts of a file object in memory by
        # default (160 MiB at 16 MiB parts); 4 halves peak memory at no cost in speed.
        self.transfer_config.max_in_memory_upload_chunks = 4

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def __repr__(self) -> str:
        return f"S3Store({self.url!r})"

    def _full(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, full: str) -> str:
        return full[len(self.prefix) + 1:] if self.prefix else full

    @contextlib.contextmanager
    def _errors(self, key: str, *, may_apply: bool = False, missing: Missing = "not_found",
                what: str | None = None) -> Iterator[None]:
        """Translate whatever botocore or s3transfer raises inside the block (see module doc).

        ``what`` names a managed transfer ("upload"...): s3transfer wraps botocore's
        errors in its own, so their cause is translated, and anything else it raises
        becomes a StorageError. Outside transfers only botocore's own are caught.
        """
        try:
            yield
        except S3OpStoreError:
            raise
        except Exception as exc:
            cause = exc if isinstance(exc, ClientError | BotoCoreError) else (
                exc.__cause__ or exc.__context__ if what is not None else None)
            if not isinstance(cause, ClientError | BotoCoreError):
                if what is None:
                    raise
                raise StorageError(f"{what} of key {key!r} failed: {exc}") from exc
            if missing == "absent" and is_missing(cause):
                return  # the answer is "not there": the caller looks at what it got
            raise translate(cause, key, bucket=self.bucket, prefix=self.prefix,
                            may_apply=may_apply, missing=missing) from exc

    def get(self, key: str) -> GetResult:
        full = self._full(key)
        with self._errors(key):
            response = self.client.get_object(Bucket=self.bucket, Key=full)
            data = response["Body"].read()
        return GetResult(data=data, etag=response["ETag"],
                         last_modified=response.get("LastModified"))

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        full = self._full(key)
        with self._errors(key):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=full,
                                                  IfNoneMatch=etag)
            except ClientError as exc:
                if http_status(exc) == 304:  # Not Modified: botocore raises it, it is an answer
                    return None
                raise
            data = response["Body"].read()
        return GetResult(data=data, etag=response["ETag"],
                         last_modified=response.get("LastModified"))

    def head(self, key: str) -> ObjectInfo | None:
        full = self._full(key)
        response: HeadObjectOutputTypeDef | None = None  # stays None when absent
        with self._errors(key, missing="absent"):
            response = self.client.head_object(Bucket=self.bucket, Key=full,
                                               ChecksumMode="ENABLED")
        if response is None:
            return None
        return ObjectInfo(key=key, size=response["ContentLength"], etag=response["ETag"],
                          last_modified=response.get("LastModified"),
                          sha256=stored_sha256(response), crc32=stored_crc32(response))

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        full = self._full(key)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": full, "Body": data}
        if mode == "create":
            kwargs["IfNoneMatch"] = "*"
        elif isinstance(mode, IfMatch):
            kwargs["IfMatch"] = mode.etag
        with self._errors(key, may_apply=True, missing="precondition"):
            response = self.client.put_object(**kwargs)
        return response["ETag"]

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        full = self._full(key)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": full}
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        with self._errors(key, may_apply=True, missing="absent"):  # already gone: done
            self.client.delete_object(**kwargs)

    def delete_many(self, keys: Sequence[str]) -> None:
        full = [self._full(key) for key in keys]  # every key checked before any request
        for start in range(0, len(full), self.delete_page_size):
            page = full[start:start + self.delete_page_size]
            with self._errors(keys[start], may_apply=True):
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in page], "Quiet": True})
            if response.get("Errors"):
                raise batch_delete_error(response["Errors"], len(page), bucket=self.bucket,
                                         prefix=self.prefix)

    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        full_prefix = f"{self.prefix}/{prefix}" if self.prefix else prefix
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix}
        if start_after is not None:
            kwargs["StartAfter"] = self._full(start_after)
        remaining = limit
        while True:
            kwargs["MaxKeys"] = self.page_size if remaining is None else min(
                self.page_size, remaining)
            with self._errors(prefix):
                page = self.client.list_objects_v2(**kwargs)
            for item in page.get("Contents", []):
                yield ObjectInfo(key=self._rel(item["Key"]), size=item["Size"],
                                 etag=item.get("ETag"), last_modified=item.get("LastModified"))
                if remaining is not None:
                    remaining -= 1
            if not page.get("IsTruncated") or (remaining is not None and remaining <= 0):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
            kwargs.pop("StartAfter", None)

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        check_prefix(prefix)
        full_prefix = f"{self.prefix}/{prefix}" if self.prefix else prefix
        names: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix, "Delimiter": "/",
                                  "MaxKeys": self.page_size}
        while True:
            with self._errors(prefix):
                page = self.client.list_objects_v2(**kwargs)
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(full_prefix):].rstrip("/"))
            if not page.get("IsTruncated"):
                return names
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def presign(self, key: str, method: Literal["GET", "PUT"], expires: int, *,
                sha256: str | None = None) -> str:
        """A URL for one GET of ``key``, or one create-only PUT (``If-None-Match: *`` signed).

        With ``sha256`` (hex), a PUT URL also signs ``x-amz-checksum-sha256``: S3
        then refuses any body that does not hash to it, and stores the checksum
        for ``head`` to prove. Always SigV4: botocore would presign with SigV2 in
        older regions for a client it configured itself, which signs no
        conditional header and which buckets created since 2020 refuse.
        """
        params: dict[str, str] = {"Bucket": self.bucket, "Key": self._full(key)}
        if method == "PUT":
            params["IfNoneMatch"] = "*"
            if sha256 is not None:
                params["ChecksumSHA256"] = sha256_base64(sha256)
        operation = "put_object" if method == "PUT" else "get_object"
        with self._errors(key):
            url = self._presigner().generate_presigned_url(operation, Params=params,
                                                           ExpiresIn=expires)
        return str(url)

    def _presigner(self) -> S3Client:
        """The client that presigns: built once, the caller's own one never changed."""
        if self._sigv4_client is None or self._sigv4_client[0] is not self.client:
            self._sigv4_client = (self.client, sigv4_twin(self.client))
        return self._sigv4_client[1]

    def add_request_hook(self, hook: Callable[[], None], *, unique_id: str) -> None:
        """Call ``hook`` before every HTTP request this store's client sends (RequestHooks)."""

        def before_send(**_: Any) -> None:
            hook()  # returns None: a before-send handler's answer would replace the response

        self.client.meta.events.register("before-send.s3", before_send, unique_id=unique_id)

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        full = self._full(key)
        # A 404 here is a multipart upload aborted under us (NoSuchUpload): as before,
        # a failed condition, which the blob layer does not take for success.
        with self._errors(key, may_apply=True, missing="precondition", what="upload"):
            self.client.upload_fileobj(
                cast(BinaryIO, Unclosable(source)), self.bucket, full,
                ExtraArgs={"ChecksumAlgorithm": self._upload_checksum(size),
                           "ContentType": "application/octet-stream"},
                Config=self.transfer_config,
            )

    def _upload_checksum(self, size: int) -> str:
        """SHA-256 for a single PUT (S3 then vouches for the content address itself),
        CRC32 on every part of a multipart upload.

        A multipart SHA-256 is a composite, no proof of the address either way, and it
        cost a 1 GiB upload about 0.45 s of client and 0.7 s of server CPU more than
        CRC32 (boto3's own default) on the 2-core benchmark machine; the composite CRC32
        is recomputed from the writer's bytes when a re-save needs proof (design.md, D11).
        """
        return "CRC32" if size >= self.transfer_config.multipart_threshold else "SHA256"

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        """Server-side copy (UploadPartCopy past the multipart threshold), SHA-256 asked for.

        ``source_etag`` becomes ``x-amz-copy-source-if-match`` on every request of
        the copy (s3transfer also sends it as If-Match on its first HEAD).
        """
        src, dst = self._full(source), self._full(target)
        extra: dict[str, str] = {"ChecksumAlgorithm": "SHA256"}
        if source_etag is not None:
            extra["CopySourceIfMatch"] = source_etag
        # Errors name the source: a 404 is its absence, a 412 its changed ETag.
        with self._errors(source, may_apply=True, what=f"copy to {target!r}"):
            self.client.copy({"Bucket": self.bucket, "Key": src}, self.bucket, dst,
                             ExtraArgs=extra, Config=self.transfer_config)

    def download(self, key: str, sink: BinaryIO) -> int:
        """Stream the object into ``sink``.

        A seekable sink at position 0 (a real file) receives parts at their offsets
        as they arrive; anything else gets them in order, which makes s3transfer
        buffer parts that arrive early.
        """
        full = self._full(key)
        seekable = at_start(sink)
        counter = CountingSink(sink)
        target: Any = sink if seekable else counter
        with self._errors(key, what="download"):
            self.client.download_fileobj(self.bucket, full, target,
                                         Config=self.transfer_config)
        if seekable:
            return int(sink.seek(0, 2))
        return counter.written
