"""Serving the read-only web UI's files (package data of :mod:`s3opstore.ui`) at ``/ui/``.

The UI is static: one HTML page, its stylesheet and its ES modules. Every
piece of registry data it shows comes from the API's read routes
(:mod:`s3opstore.api.browse`), fetched by the page from the same origin.

Only ``GET`` and ``HEAD`` are answered, only for the files shipped in the
package (a fixed list, so no path is ever joined from the request). Every
answer carries a Content-Security-Policy that allows nothing but this server's
own scripts, styles and API: no inline script, no inline style attribute, no
framing, no form posts; and ``nosniff`` and ``no-referrer``.
"""

from __future__ import annotations

import functools
from importlib import resources

from s3opstore.api.responses import error_response
from s3opstore.api.types import ApiResponse

__all__ = ["CONTENT_SECURITY_POLICY", "UI_PREFIX", "is_ui_path", "ui_response"]

UI_PREFIX = "/ui/"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                     "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                     "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin",
                     "Cross-Origin-Resource-Policy": "same-origin"}


@functools.cache
def _files() -> dict[str, bytes]:
    """Shipped file name -> bytes (read once; the package's files do not change)."""
    root = resources.files("s3opstore.ui")
    found: dict[str, bytes] = {}
    for entry in root.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in _TYPES:
            found[entry.name] = entry.read_bytes()
    return found


def is_ui_path(path: str) -> bool:
    return path == "/ui" or path.startswith(UI_PREFIX)


def ui_response(method: str, path: str) -> ApiResponse:
    """The answer to a request for ``/ui`` or anything under ``/ui/``."""
    if method not in ("GET", "HEAD"):
        return error_response(405, "method_not_allowed", "the web UI is read-only: GET only",
                              headers={"Allow": "GET, HEAD"})
    if path == "/ui":
        return ApiResponse(308, {"Location": UI_PREFIX, "Cache-Control": "no-store"}, b"",
                           route="ui")
    name = path[len(UI_PREFIX):] or "index.html"
    body = _files().get(name)
    if body is None:
        return error_response(404, "unknown_route",
                              f"no UI file {name[:100]!r}; the UI starts at {UI_PREFIX}")
    suffix = "." + name.rsplit(".", 1)[-1]
    headers = {"Content-Type": _TYPES[suffix], "Cache-Control": "no-cache",
               **_SECURITY_HEADERS}
    return ApiResponse(200, headers, body, route="ui")
