"""The HTTP API: one pure function, :func:`handle`, and thin adapters.

``handle(ApiRequest, OpStore) -> ApiResponse`` serves Chariots' seven
``POST /v1/<name>`` routes byte-compatibly and the new ones (listing,
version metadata, aliases, presigned transfers); see ``docs/http-api.md``.
Adapters: :mod:`s3opstore.lambda_handler` (AWS Lambda) and
:mod:`s3opstore.api.wsgi` (a WSGI application) run by
:mod:`s3opstore.api.server` (waitress, ``s3opstore serve``). Importing this
package imports neither of those.
"""

from s3opstore.api.handler import IDEMPOTENCY_HEADER, handle
from s3opstore.api.routes import ROUTES, Route
from s3opstore.api.types import ApiConfig, ApiRequest, ApiResponse

__all__ = ["IDEMPOTENCY_HEADER", "ROUTES", "ApiConfig", "ApiRequest", "ApiResponse", "Route",
           "handle"]
