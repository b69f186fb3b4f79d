"""Access tokens at rest: Fernet-encrypted JSON, with the key from settings.

Plain credentials exist only in memory, inside `Credentials`, whose repr hides every value so
that a log line or a traceback cannot leak one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

DEMO_KEY_FILE = Path("var") / "secret.key"


class SecretKeyMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Credentials:
    """What a publisher needs to act as one account. Values never appear in repr or str."""

    kind: str  # "oauth1" or "oauth2"
    values: dict[str, Any] = field(repr=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r}, fields={sorted(self.values)})"

    __str__ = __repr__


class Vault:
    """Encrypts and decrypts credentials with one Fernet key."""

    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError:  # not 32 url-safe base64-encoded bytes (binascii.Error included)
            raise SecretKeyMissing(
                "CHORUS_SECRET_KEY is not a Fernet key (44 characters of url-safe base64, as "
                "Fernet.generate_key() makes); check it was copied whole") from None

    def seal(self, credentials: Credentials) -> bytes:
        payload = json.dumps({"kind": credentials.kind, "values": credentials.values})
        return self._fernet.encrypt(payload.encode())

    def open(self, token: bytes) -> Credentials:
        try:
            payload = json.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise SecretKeyMissing(
                "stored credentials cannot be decrypted with this CHORUS_SECRET_KEY "
                "(was the key changed?); reconnect the account"
            ) from exc
        return Credentials(payload["kind"], payload["values"])

    def reseal(self, token: bytes, old_keys: Sequence[bytes | str]) -> bytes:
        """`token` encrypted with this vault's key, whether this key or one of `old_keys`
        sealed it: what rotating the key does to each stored token.

        Raises SecretKeyMissing when none of the keys opens it.
        """
        fernet = MultiFernet([self._fernet, *(Fernet(key) for key in old_keys)])
        try:
            return fernet.rotate(token)
        except InvalidToken as exc:
            raise SecretKeyMissing("no key given opens these stored credentials") from exc


def vault_from_settings(secret_key: str | None, *, demo: bool) -> Vault:
    """The vault for this installation.

    Outside demo mode the key must be set: there is no safe default. In demo mode a key is
    made once and kept in var/secret.key (readable by its owner only).
    """
    if secret_key:
        return Vault(secret_key)
    if not demo:
        raise SecretKeyMissing(
            "set CHORUS_SECRET_KEY to a Fernet key to store access tokens; make one with: "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
    if not DEMO_KEY_FILE.exists():
        DEMO_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(DEMO_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key())
    return Vault(DEMO_KEY_FILE.read_bytes().strip())
