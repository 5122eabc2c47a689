"""A fresh store per backend (local directory and SeaweedFS) for end-to-end CLI tests."""

from tests.cli.support import cli_store, local_store

__all__ = ["cli_store", "local_store"]  # fixtures, shared by tests/cli and tests/maintenance
