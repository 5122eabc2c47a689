"""The read-only web UI's files: ``index.html``, ``ui.css`` and ES modules.

Data only: :mod:`s3opstore.api.webui` serves these at ``/ui/`` (``s3opstore serve``),
and every piece of registry data the pages show comes from the API's read routes.
"""
