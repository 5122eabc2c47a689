"""``keys``: signing key pairs, and the signing / trust options of push, pull and fsck.

``keys generate KEY`` writes an Ed25519 private key to ``KEY`` (mode 0600)
and its public key to ``KEY.pub`` (or ``--public FILE``); it never overwrites
either. ``push --sign-key KEY`` signs the binding it writes; ``pull
--trusted-keys FILE`` and ``fsck --trusted-keys FILE`` refuse (or report)
bytes no key in ``FILE`` signed. Without these options ``S3OPSTORE_SIGNING_KEY``
and ``S3OPSTORE_TRUSTED_KEYS`` apply, as for any OpStore (design.md, D15).
"""

from __future__ import annotations

import argparse
from typing import Any

from s3opstore.cli.output import Output
from s3opstore.errors import KeyFileError
from s3opstore.registry.opstore import OpStore
from s3opstore.trust.keys import generate_key_files, load_signing_key, load_trusted_keys

__all__ = ["HELP", "add_arguments", "add_sign_option", "add_trust_option", "apply", "run"]

HELP = "signing keys: generate an Ed25519 key pair for push --sign-key"


def add_arguments(cmd: argparse.ArgumentParser, common: Any) -> None:
    actions = cmd.add_subparsers(dest="keys_action", required=True, metavar="ACTION")
    sub = actions.add_parser("generate", help="write a new private key (0600) and its .pub")
    common(sub)
    sub.add_argument("private", metavar="KEY", help="the private key file to create")
    sub.add_argument("--public", metavar="FILE", help="the public key file (default: KEY.pub)")
    sub = actions.add_parser("id", help="the key id of a private or public key file")
    common(sub)
    sub.add_argument("file", metavar="FILE")


def add_sign_option(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--sign-key", metavar="KEY",
                     help="sign the saved bytes with this private key file "
                          "(default: $S3OPSTORE_SIGNING_KEY)")


def add_trust_option(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--trusted-keys", metavar="FILE",
                     help="accept only bytes signed by a public key in FILE "
                          "(default: $S3OPSTORE_TRUSTED_KEYS)")


def apply(store: OpStore, args: argparse.Namespace) -> OpStore:
    """The store with the command's --sign-key / --trusted-keys, if it has them."""
    sign_key, trusted = getattr(args, "sign_key", None), getattr(args, "trusted_keys", None)
    return store.with_trust(
        signer=None if sign_key is None else load_signing_key(sign_key),
        trusted_keys=None if trusted is None else load_trusted_keys(trusted))


def run(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    if args.keys_action == "generate":
        public = args.public or f"{args.private}.pub"
        key = generate_key_files(args.private, public)
        result = {"key_id": key.key_id, "private": args.private, "public": public}
        if out.json_mode:
            out.json(result)
        else:
            out.line(f"key {key.key_id}: private key {args.private} (keep it secret), "
                     f"public key {public} (give it to readers as --trusted-keys)")
        return 0
    ids = _ids(args.file)
    if out.json_mode:
        out.json({"file": args.file, "key_ids": ids})
    else:
        out.line("\n".join(ids))
    return 0


def _ids(name: str) -> list[str]:
    try:
        return [load_signing_key(name).key_id]
    except KeyFileError:
        return sorted(load_trusted_keys(name))  # a public key file, or the first error again
