"""Optional store capabilities, stated as small protocols, and how to find them.

The :class:`~s3opstore.stores.base.ObjectStore` primitives are what every backend
has. A few things only some backends can do; each is one runtime-checkable
protocol here (or next to its backend), found through :func:`layers`:

- :class:`Presigner`: URLs a client uses without credentials (S3);
- :class:`RequestHooks`: a callback per HTTP request the backend sends (S3; the
  adapters count requests with it);
- ``ScratchCleaner`` (``stores/local_scratch.py``): private scratch files gc
  removes and fsck reports (the local store).

A store that adds behaviour around another (counting, faults: see
``stores/wrappers.py`` and ``testing/faults.py``) is a :class:`Wrapper`: it
exposes what it wraps as ``inner``, and :func:`layers` looks through it, so a
capability is never lost by wrapping and no caller walks ``.inner`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal, Protocol, runtime_checkable

from s3opstore.stores.base import ObjectStore

__all__ = ["Presigner", "RequestHooks", "Wrapper", "layers", "presigner", "request_hooks"]

_MAX_DEPTH = 16  # wrappers nest a few levels at most; a cycle must not loop forever


@runtime_checkable
class Wrapper(Protocol):
    """A store that adds behaviour around ``inner`` and forwards capabilities to it."""

    @property
    def inner(self) -> ObjectStore: ...


@runtime_checkable
class Presigner(Protocol):
    def presign(self, key: str, method: Literal["GET", "PUT"], expires: int, *,
                sha256: str | None = None) -> str:
        """A URL for one GET of ``key``, or one create-only PUT only ``sha256``'s bytes pass."""
        ...


@runtime_checkable
class RequestHooks(Protocol):
    def add_request_hook(self, hook: Callable[[], None], *, unique_id: str) -> None:
        """Call ``hook`` before every HTTP request the backend sends (retries, parts included).

        Registering the same ``unique_id`` twice registers it once.
        """
        ...


def layers(store: object) -> Iterator[object]:
    """``store``, then each store it wraps, outermost first."""
    for _ in range(_MAX_DEPTH):
        yield store
        if not isinstance(store, Wrapper):
            return
        store = store.inner


def presigner(store: object) -> Presigner | None:
    """The layer of ``store`` that presigns URLs, if any."""
    return next((layer for layer in layers(store) if isinstance(layer, Presigner)), None)


def request_hooks(store: object) -> RequestHooks | None:
    """The layer of ``store`` that can hook its HTTP requests, if any."""
    return next((layer for layer in layers(store) if isinstance(layer, RequestHooks)), None)
