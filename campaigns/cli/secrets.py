"""`chorus secrets`: the key that encrypts access tokens at rest.

"""

from __future__ import annotations

import sys

import typer
from cryptography.fernet import Fernet

from campaigns.cli.runtime import fail, runtime
from campaigns.storage import db
from campaigns.storage.accounts import reseal_tokens

secrets_app: typer.Typer = typer.Typer(
    help="The key that encrypts access tokens at rest.", no_args_is_help=True
)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored token with CHORUS_SECRET_KEY (the new key), reading the old
    key, or keys, one per line from standard input.

    Stop every worker first: a worker still holding the old key cannot open what this writes.
    Tokens no key opens are named; those accounts need connecting again.
    """
    old_keys = _old_keys()
    with runtime() as rt:
        vault = rt.vault()
        with db.transaction(rt.sessions) as session:
            result = reseal_tokens(vault=vault, old_keys=old_keys, session=session)
    typer.echo(f"{result.resealed} account tokens now encrypted with the current key")
    if result.unreadable:
        listed = ", ".join(result.unreadable)
        raise fail(f"no key given opens the tokens of {listed}; connect them again with "
                   "chorus accounts connect NETWORK --account KEY")


def _old_keys() -> list[str]:
    """The old keys, never echoed: standard input, or a hidden prompt at a terminal."""
    if sys.stdin.isatty():
        lines = [typer.prompt("Old key", hide_input=True)]
    else:
        lines = sys.stdin.read().splitlines()
    keys = [line.strip() for line in lines if line.strip()]
    if not keys:
        raise fail("give the old key on standard input")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise fail(f"old key {number} is not a Fernet key (32 url-safe base64 bytes)") \
                from None
    return keys
