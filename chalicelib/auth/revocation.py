"""Access that ends before its token does: an account whose access changed, and a console session signed out.

Tokens are verified by signature alone (no call to the issuer per request), so a token would otherwise
work until it expires (up to an hour). Two things end access earlier, both written to one store:
- a change of an account's access (disabled, roles edited): tokens issued at or before it are refused;
- a sign-out: that session's token is refused from then on (the cookie alone could be replayed).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Protocol

from chalicelib.auth.principal import Principal, Unauthenticated


class RevocationStore(Protocol):
    def revoke(self, key: str, at: float | None = None, keep_seconds: int | None = None) -> None: ...

    def revoked_at(self, key: str, fresh: bool = False) -> float | None: ...


def session_key(token: str) -> str:
    """A signed-out session is stored by a digest of its token, never the token itself."""
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


class AccessGate:
    def __init__(self, store: RevocationStore, clock: Callable[[], float] = time.time) -> None:
        self._store, self._clock = store, clock

    def still_valid(self, principal: Principal) -> Principal:
        """Refuse a verified token issued before its account's access was changed (disabled, roles edited)."""
        if principal.username:
            revoked = self._store.revoked_at(principal.username)
            if revoked is not None and principal.issued_at <= revoked:
                raise Unauthenticated(
                    "Quyền truy cập của tài khoản vừa thay đổi; vui lòng đăng nhập lại.",
                    "This account's access changed; sign in again.",
                )
        return principal

    def session_valid(self, principal: Principal, token: str) -> Principal:
        # read fresh: a signed-out session must end on every container at once, and console pages are few
        if self._store.revoked_at(session_key(token), fresh=True) is not None:
            raise Unauthenticated("Phiên đăng nhập đã kết thúc; vui lòng đăng nhập lại.", "Signed out; sign in again.")
        return self.still_valid(principal)

    def end_session(self, token: str, expires_at: float | None) -> None:
        """Sign-out: kept until the token would have expired anyway (a day if it does not say)."""
        now = self._clock()
        keep = int(expires_at - now) + 60 if expires_at and expires_at > now else 24 * 3600
        self._store.revoke(session_key(token), at=now, keep_seconds=keep)
