"""Who is asking: password and token hashes, logins, API tokens, CSRF tokens.

Passwords and API tokens are stored as scrypt hashes (``scrypt$n$r$p$salt$hash``), made by
`monitor web hash-password`; configuration never holds a secret the console could show.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from monitor.web.settings import WebSettings

_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, hashed: str) -> bool:
    try:
        _, n, r, p, salt, digest = hashed.split("$")
        mine = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
            maxmem=2**26, dklen=len(digest) // 2,
        )  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(mine.hex(), digest)


@dataclass(frozen=True)
class Caller:
    """Who made a request: a user, an API token, or anyone on loopback (no logins set)."""

    name: str
    via: str  # "session" | "token" | "proxy" | "loopback"


class Access:
    def __init__(self, settings: WebSettings) -> None:
        self._users = {u.username: u.password_hash for u in settings.users}
        self._tokens = [(t.name, t.token_hash) for t in settings.api_tokens]
        self._verified: dict[str, str] = {}
        self.login_required = settings.login_required
        # Unset: a random key, so sessions end when the process does.
        self.secret_key = settings.secret_key or secrets.token_urlsafe(32)

    def login(self, username: str, password: str) -> Caller | None:
        hashed = self._users.get(username)
        # Unknown users cost a hash too, so timing does not tell which names exist.
        ok = verify_secret(password, hashed or hash_secret("", salt=b"0" * 16))
        return Caller(username, "session") if ok and hashed else None

    def token(self, bearer: str) -> Caller | None:
        # scrypt is slow on purpose; a token that checked out once is known by its digest.
        known = hashlib.sha256(bearer.encode()).hexdigest()
        if known in self._verified:
            return Caller(self._verified[known], "token")
        for name, hashed in self._tokens:
            if verify_secret(bearer, hashed):
                self._verified[known] = name
                return Caller(name, "token")
        return None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(str(given), str(expected))
