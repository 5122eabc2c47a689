"""The bucket's shape, on one page. All keys are relative to the store prefix.

Every ``<op>``, ``<name>``, ``<alias>``, ``<downstream>`` and ``<upstream>`` is
the name's key segment (:func:`~s3opstore.models.names.encode_name`:
``inner pipe`` -> ``inner=20pipe``, ``Model`` -> ``~model``); functions here
take and return names, never segments.

::

    ops/<op>/head.json                         CAS    latest version + small state
    ops/<op>/op.json                           create op known before its versions
    ops/<op>/versions/<vid>/<entry>.json       create one per version that left the head
    ops/<op>/bytes/<vid>/<inv-seq>.json        create byte bindings, newest first
    ops/<op>/blobs/sha256/<hex>                put    content-addressed op bytes
    ops/<op>/trash/sha256/<hex>/<token>        put    a blob gc set aside before deleting it
    ops/<op>/uploads/<token>                   put    a presigned upload, until committed
    ops/<op>/intents/<ms>_<token>_<vid>_...    create a waiting writer's version, until committed
    ops/<op>/meta/<vid>.json                   create a version's registration metadata
    links/<downstream>/<upstream>/<vid>_<ctime>.json   create  validated links
    pipelines/<name>.json                      create
    aliases/<op>/<alias>/<inv-seq>.json        create alias positions, newest first
    alias-heads/<op>/<alias>.json              CAS    copy of an alias's newest position
    tags/<op>/op/<inv-seq>.json                create the op's mutable tags, newest first
    tags/<op>/v/<vid>/<inv-seq>.json           create a version's mutable tags, newest first
    status/<op>/op/<inv-seq>.json              create the op's status (hidden), newest first
    status/<op>/v/<vid>/<inv-seq>.json         create a version's status (deprecated, archived)
    events/op/<op>/<inv-seq>.json              create the op's hash-chained history (D16)
    events/versions/<op>/<inv-seq>.json        create the op's version events, by version seq
    events/links/<upstream>/<vid>/<inv-seq>.json  create  link events of one upstream version
    events/store/<inv-seq>.json                create the store-level history (pipelines)
    _s3opstore/format.json                     create the store's format version (D13)
    _s3opstore/probe/<uuid>                    create the conditional-write probe
    _s3opstore/clock/<uuid>                    put    gc's reading of the store's clock

``<vid>`` is ``major.minor.patch`` (three 40-hex digests). A version entry's
file name encodes the whole :class:`VersionRecord`
(``<seq>_<M.m.p>_<ctime>_<registered-ms>_<host>_<pid>.json``) and a link's
encodes its version, so ``get_versions`` and ``get_validated_links`` are
answered from LIST pages alone. Sequences written as ``10**20 - 1 - seq``
sort newest first, so the head of such a log is one ``LIST MaxKeys=1``.
"""

from __future__ import annotations

import base64
import binascii
import re

from s3opstore.models.key_codecs import (
    EPOCH,
    MS,
    clean_host,
    decode_ctime,
    encode_ctime,
    inverted,
    parse_inverted,
)
from s3opstore.models.manifests import VersionIntent, VersionRecord
from s3opstore.models.names import decode_name, encode_name
from s3opstore.models.version import Version

__all__ = [
    "ALIAS_HEADS_PREFIX",
    "CLOCK_PREFIX",
    "EVENTS_PREFIX",
    "FORMAT_KEY",
    "LINKS_PREFIX",
    "LINK_EVENTS_PREFIX",
    "OPS_PREFIX",
    "OP_EVENTS_PREFIX",
    "PIPELINES_PREFIX",
    "PROBE_PREFIX",
    "STATUS_PREFIX",
    "VERSION_EVENTS_PREFIX",
    "alias_head_key",
    "alias_key",
    "alias_prefix",
    "aliases_prefix",
    "blob_key",
    "blob_prefix",
    "bytes_key",
    "bytes_prefix",
    "chain_event_key",
    "chain_prefix",
    "clock_key",
    "decode_ctime",
    "decode_names",
    "encode_ctime",
    "event_key",
    "events_prefix",
    "intent_key",
    "intents_prefix",
    "link_event_key",
    "link_events_prefix",
    "link_events_root",
    "link_key",
    "link_prefix",
    "metadata_key",
    "name_of_segment",
    "op_head_key",
    "op_marker_key",
    "op_prefix",
    "parse_alias_head_key",
    "parse_event_key",
    "parse_intent_key",
    "parse_inverted",
    "parse_link_key",
    "parse_pipeline_key",
    "parse_upload_key",
    "parse_version_entry",
    "pipeline_key",
    "probe_key",
    "status_key",
    "status_prefix",
    "tags_key",
    "tags_prefix",
    "trash_key",
    "trash_prefix",
    "trash_root",
    "upload_key",
    "uploads_prefix",
    "upstreams_prefix",
    "version_dir",
    "version_dir_of_vid",
    "version_entry_key",
    "version_event_key",
    "version_events_prefix",
    "versions_prefix",
]

_ENTRY = re.compile(
    r"^(?P<seq>\d{20})_(?P<M>\d+)\.(?P<m>\d+)\.(?P<p>\d+)_(?P<ctime>[0-9T.Z]+)_"
    r"(?P<reg>\d+)_(?P<host>[A-Za-z0-9.-]+)_(?P<pid>\d+)\.json$")
_VID_PATTERN = r"[0-9a-f]{40}\.[0-9a-f]{40}\.[0-9a-f]{40}"  # major.minor.patch digests
_INTENT = re.compile(
    r"^(?P<ms>\d{15})_(?P<token>[0-9a-f]{32})_"
    rf"(?P<vid>{_VID_PATTERN})_(?P<ctime>[0-9T.Z]+)_"
    r"(?P<host>[A-Za-z0-9.-]+)_(?P<pid>\d+)_(?P<digest>[0-9a-f]{32}|-)_"
    r"(?P<actor>[A-Za-z0-9_-]+)\.json$")
_MAX_INTENT_KEY = 1024
_LINK = re.compile(
    rf"^(?P<vid>{_VID_PATTERN})_(?P<ctime>[0-9T.Z]+)\.json$")


def op_head_key(op: str) -> str:
    return f"{op_prefix(op)}head.json"


def op_marker_key(op: str) -> str:
    return f"{op_prefix(op)}op.json"


def versions_prefix(op: str) -> str:
    return f"{op_prefix(op)}versions/"


def version_dir(op: str, version: Version) -> str:
    return version_dir_of_vid(op, version.vid)


def version_dir_of_vid(op: str, vid: str) -> str:
    """A version's listing directory from its id alone (any creation time)."""
    return f"{versions_prefix(op)}{vid}/"


def version_entry_key(record: VersionRecord) -> str:
    major, minor, patch = record.number
    reg_ms = (record.registered_at - EPOCH) // MS
    name = (f"{record.seq:020d}_{major}.{minor}.{patch}_"
            f"{encode_ctime(record.version.creation_time)}_{reg_ms}_"
            f"{clean_host(record.registered_host)}_{record.registered_pid}.json")
    return version_dir(record.op_name, record.version) + name


def parse_version_entry(op: str, key: str) -> VersionRecord:
    """Rebuild a record from its listing key (raises ValueError when malformed)."""
    rest = key[len(versions_prefix(op)):]
    vid, _, name = rest.partition("/")
    match = _ENTRY.match(name)
    parts = vid.split(".")
    if not match or len(parts) != 3:
        raise ValueError(f"not a version entry key: {key!r}")
    version = Version(parts[0], parts[1], parts[2], decode_ctime(match["ctime"]))
    return VersionRecord(
        op_name=op, version=version,
        number=(int(match["M"]), int(match["m"]), int(match["p"])),
        seq=int(match["seq"]),
        registered_at=EPOCH + int(match["reg"]) * MS,
        registered_host=match["host"], registered_pid=int(match["pid"]),
    )


def bytes_prefix(op: str, version: Version) -> str:
    return f"{op_prefix(op)}bytes/{version.vid}/"


def bytes_key(op: str, version: Version, seq: int) -> str:
    return f"{bytes_prefix(op, version)}{inverted(seq)}.json"


def blob_prefix(op: str) -> str:
    return f"{op_prefix(op)}blobs/sha256/"


def blob_key(op: str, sha256: str) -> str:
    return f"{blob_prefix(op)}{sha256}"


def upstreams_prefix(downstream: str) -> str:
    """Where the upstream ops of ``downstream``'s links are listed (``list_dirs``)."""
    return f"{LINKS_PREFIX}{_seg(downstream)}/"


_TOKEN = re.compile(r"^[0-9a-f]{32}$")  # an upload's or an intent's: new_token()


def uploads_prefix(op: str) -> str:
    return f"{op_prefix(op)}uploads/"


def upload_key(op: str, token: str) -> str:
    """Where one presigned upload lands: never a content address, which only the
    registry writes (after proving the bytes), so a URL holder can overwrite nothing."""
    if not _TOKEN.match(token):
        raise ValueError(f"bad upload token {token!r}")
    return f"{uploads_prefix(op)}{token}"


def parse_upload_key(op: str, key: str) -> str | None:
    """The token of ``key`` if it is exactly an upload key of ``op``, else None."""
    prefix = uploads_prefix(op)
    token = key[len(prefix):] if key.startswith(prefix) else ""
    return token if _TOKEN.match(token) else None


def intents_prefix(op: str) -> str:
    return f"{op_prefix(op)}intents/"


def intent_key(intent: VersionIntent) -> str:
    """Where one waiting writer's intent lives (D18). The name holds all of it, oldest
    first, so the writers that commit it need the LIST alone, not a GET each: with 16
    writers on one op, every intent is read by most of the others.

    ValueError when it would not fit in a key (a very long actor): that writer then
    just waits without an intent.
    """
    if not _TOKEN.match(intent.token):
        raise ValueError(f"bad intent token {intent.token!r}")
    created = (intent.created_at - EPOCH) // MS
    who = base64.urlsafe_b64encode(intent.actor.encode()).decode().rstrip("=")
    name = (f"{created:015d}_{intent.token}_{intent.version.vid}_"
            f"{encode_ctime(intent.version.creation_time)}_{clean_host(intent.host)}_"
            f"{intent.pid}_{intent.idempotency or '-'}_{who}.json")
    key = f"{intents_prefix(intent.op_name)}{name}"
    if len(key.encode()) > _MAX_INTENT_KEY or not _INTENT.match(name):
        raise ValueError(f"intent of {intent.version.vid} does not fit in a key")
    return key


def parse_intent_key(op: str, key: str) -> VersionIntent | None:
    """The intent ``key`` names if it is exactly an intent key of ``op``, else None."""
    prefix = intents_prefix(op)
    match = _INTENT.match(key[len(prefix):]) if key.startswith(prefix) else None
    if match is None:
        return None
    major, minor, patch = match["vid"].split(".")
    try:
        who = base64.urlsafe_b64decode(match["actor"] + "=" * (-len(match["actor"]) % 4))
        return VersionIntent(
            op_name=op, version=Version(major, minor, patch, decode_ctime(match["ctime"])),
            actor=who.decode(), host=match["host"], pid=int(match["pid"]),
            idempotency=None if match["digest"] == "-" else match["digest"],
            created_at=EPOCH + int(match["ms"]) * MS, token=match["token"])
    except (ValueError, binascii.Error):  # pydantic's ValidationError is a ValueError
        return None


def trash_root(op: str) -> str:
    return f"{op_prefix(op)}trash/sha256/"


def trash_prefix(op: str, sha256: str) -> str:
    return f"{trash_root(op)}{sha256}/"


def trash_key(op: str, sha256: str, token: str) -> str:
    """A unique key per deletion: removing one copy can never remove a newer one."""
    return f"{trash_prefix(op, sha256)}{token}"


def link_prefix(downstream: str, upstream: str) -> str:
    return f"{upstreams_prefix(downstream)}{_seg(upstream)}/"


def link_key(downstream: str, upstream: str, version: Version) -> str:
    name = f"{version.vid}_{encode_ctime(version.creation_time)}.json"
    return link_prefix(downstream, upstream) + name


def parse_link_key(key: str) -> Version:
    match = _LINK.match(key.rsplit("/", 1)[-1])
    if not match:
        raise ValueError(f"not a link key: {key!r}")
    major, minor, patch = match["vid"].split(".")
    return Version(major, minor, patch, decode_ctime(match["ctime"]))


def pipeline_key(name: str) -> str:
    return f"{PIPELINES_PREFIX}{_seg(name)}.json"


def parse_pipeline_key(key: str) -> str:
    """The pipeline name of a listed ``pipelines/`` key (ValueError for a foreign key)."""
    if not key.startswith(PIPELINES_PREFIX) or not key.endswith(".json"):
        raise ValueError(f"not a pipeline key: {key!r}")
    return decode_name(key[len(PIPELINES_PREFIX):-len(".json")])


def aliases_prefix(op: str) -> str:
    """Where the alias names of ``op`` are listed (``list_dirs``)."""
    return f"aliases/{_seg(op)}/"


def alias_prefix(op: str, alias: str) -> str:
    return f"{aliases_prefix(op)}{_seg(alias)}/"


def alias_key(op: str, alias: str, seq: int) -> str:
    return f"{alias_prefix(op, alias)}{inverted(seq)}.json"


# Outside ``aliases/``: readers that predate heads list the position logs and never see one.
ALIAS_HEADS_PREFIX = "alias-heads/"


def alias_head_key(op: str, alias: str) -> str:
    """``alias-heads/<op>/<alias>.json``: the alias's head, one GET for a reader."""
    return f"{ALIAS_HEADS_PREFIX}{_seg(op)}/{_seg(alias)}.json"


def parse_alias_head_key(key: str) -> tuple[str, str]:
    """(op, alias) of a listed head key; ValueError for anything else."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] + "/" != ALIAS_HEADS_PREFIX or not parts[2].endswith(".json"):
        raise ValueError(f"not an alias head key: {key!r}")
    return decode_name(parts[1]), decode_name(parts[2][:-len(".json")])


PROBE_PREFIX = "_s3opstore/probe/"
CLOCK_PREFIX = "_s3opstore/clock/"
# The root manifest: written once, never by gc, never deleted (design.md, D13).
FORMAT_KEY = "_s3opstore/format.json"


def probe_key(token: str) -> str:
    return f"{PROBE_PREFIX}{token}"


def clock_key(token: str) -> str:
    """A scratch object whose LastModified tells the store's time (never the writer's)."""
    return f"{CLOCK_PREFIX}{token}"


# -- names in keys (segments encoded by s3opstore.models.names) ----------------------
OPS_PREFIX = "ops/"
LINKS_PREFIX = "links/"
PIPELINES_PREFIX = "pipelines/"


def _seg(name: str) -> str:
    return encode_name(name)


def name_of_segment(segment: str) -> str:
    """The name a listed key segment stands for (ValueError for a foreign one)."""
    return decode_name(segment)


def decode_names(segments: list[str]) -> list[str]:
    """Names of listed segments (``list_dirs``), sorted; foreign segments are left out."""
    names = []
    for segment in segments:
        try:
            names.append(decode_name(segment))
        except ValueError:
            continue
    return sorted(names)


def op_prefix(op: str) -> str:
    return f"{OPS_PREFIX}{_seg(op)}/"


# -- metadata and mutable tags (create-only) -------------------------------------------
def metadata_key(op: str, version: Version) -> str:
    """``ops/<op>/meta/<vid>.json``: the version's registration metadata, written once."""
    return f"{op_prefix(op)}meta/{version.vid}.json"


def tags_prefix(op: str, version: Version | None = None) -> str:
    """``tags/<op>/op/`` (the op's own tags) or ``tags/<op>/v/<vid>/``: a newest-first log."""
    where = "op" if version is None else f"v/{version.vid}"
    return f"tags/{_seg(op)}/{where}/"


def tags_key(op: str, version: Version | None, seq: int) -> str:
    return f"{tags_prefix(op, version)}{inverted(seq)}.json"


# -- status of ops and versions (create-only logs) ----------------------------------------
STATUS_PREFIX = "status/"


def status_prefix(op: str, version: Version | None = None) -> str:
    """``status/<op>/op/`` (hidden or not) or ``status/<op>/v/<vid>/``: newest first."""
    where = "op" if version is None else f"v/{version.vid}"
    return f"{STATUS_PREFIX}{_seg(op)}/{where}/"


def status_key(op: str, version: Version | None, seq: int) -> str:
    return f"{status_prefix(op, version)}{inverted(seq)}.json"


# -- the history: hash-chained event logs, never deleted (design.md, D16) ---------------
EVENTS_PREFIX = "events/"
OP_EVENTS_PREFIX = "events/op/"  # list_dirs: the ops that have a chain
VERSION_EVENTS_PREFIX = "events/versions/"  # list_dirs: the ops with stored version events


def events_prefix(op: str | None) -> str:
    """``events/op/<op>/`` (an op's chain) or ``events/store/`` (the store's): newest first."""
    return f"{EVENTS_PREFIX}store/" if op is None else f"{OP_EVENTS_PREFIX}{_seg(op)}/"


def event_key(op: str | None, seq: int) -> str:
    return chain_event_key(events_prefix(op), seq)


def version_events_prefix(op: str) -> str:
    """``events/versions/<op>/``: the op's version chain, keyed by the versions' own seqs."""
    return f"{VERSION_EVENTS_PREFIX}{_seg(op)}/"


def version_event_key(op: str, seq: int) -> str:
    return chain_event_key(version_events_prefix(op), seq)


# A link's event goes to a chain of its own per upstream version, not to the op's chain:
# under contention every link of one op queued on that one chain (D16). Stores of format 1
# keep theirs in the op chain (registry/events.py decides which).
LINK_EVENTS_PREFIX = "events/links/"  # list_dirs: the ops whose versions have link chains
_VID = re.compile(rf"^{_VID_PATTERN}$")


def link_events_root(op: str) -> str:
    """``events/links/<op>/``: every link chain of ``op``'s versions, for one LIST."""
    return f"{LINK_EVENTS_PREFIX}{_seg(op)}/"


def link_events_prefix(op: str, vid: str) -> str:
    """``events/links/<op>/<vid>/``: the link chain of one version, its segment the one
    ``version_dir_of_vid`` uses; refused unless ``vid`` is a version id, so no chain can
    reach into another's."""
    if not _VID.match(vid):
        raise ValueError(f"not a version id: {vid!r}")
    return f"{link_events_root(op)}{vid}/"


def link_event_key(op: str, vid: str, seq: int) -> str:
    return chain_event_key(link_events_prefix(op, vid), seq)


def chain_event_key(chain: str, seq: int) -> str:
    """The key of event ``seq`` in the chain under ``chain`` (a prefix ending in '/')."""
    return f"{chain}{inverted(seq)}.json"


def chain_prefix(key: str) -> str:
    """The prefix of the chain an event key belongs to (its "directory"): every chain,
    link chains included, is one directory of ``<inv-seq>.json`` keys."""
    return key.rsplit("/", 1)[0] + "/"


def parse_event_key(key: str) -> tuple[str | None, int]:
    """(op or None, seq) of an event key of any chain; ValueError for anything else.

    A link chain's key names its upstream op (and a version id, checked here).
    """
    parts = key[len(EVENTS_PREFIX):].split("/") if key.startswith(EVENTS_PREFIX) else []
    if len(parts) == 2 and parts[0] == "store":
        op, name = None, parts[1]
    elif len(parts) == 3 and parts[0] in ("op", "versions"):
        op, name = decode_name(parts[1]), parts[2]
    elif len(parts) == 4 and parts[0] == "links" and _VID.match(parts[2]):
        op, name = decode_name(parts[1]), parts[3]
    else:
        raise ValueError(f"not an event key: {key!r}")
    if not re.fullmatch(r"\d{20}\.json", name):
        raise ValueError(f"not an event key: {key!r}")
    return op, parse_inverted(name)
