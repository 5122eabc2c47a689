"""The ``s3opstore`` command line (console script ``s3opstore``).

Layering: the CLI talks to :class:`~s3opstore.registry.opstore.OpStore` and
:mod:`s3opstore.maintenance` only; it never imports boto3 or botocore (the S3
backend is loaded lazily by ``OpStore.from_url``). ``rich`` (the ``cli``
extra) is optional: without it tables are plain aligned text and there is no
progress bar. Every command has a stable ``--json`` shape, documented in
``docs/cli.md``.
"""

from s3opstore.cli.main import main

__all__ = ["main"]
