"""``python -m s3opstore``: the same as the ``s3opstore`` console script."""

import sys

from s3opstore.cli.main import main

sys.exit(main())
