"""A small OpenID Connect identity provider for the local stack, shaped like the Cognito user pool in infra/.

It signs RS256 tokens with a key generated on first start (kept in the state folder), serves the
discovery document and the JWKS, and offers the password grant (API clients, tests) and the
authorization-code flow with a Vietnamese sign-in page (the admin console). As Cognito's app client does,
it sends codes only to the console's registered redirect URIs, compared exactly, and it requires PKCE
(S256) for them. Users are seeded for every
role with random passwords, written to <state>/idp/users.json and printed by `make run`. The app
verifies these tokens exactly as it verifies Cognito's: nothing is bypassed locally.

Like the user pool, it is also the officials' directory: an admin API (JSON under /admin/users, with
the random key kept in <state>/idp/admin-key) lists, creates, re-scopes, disables and enables accounts;
the app reaches it through chalicelib.store.identity.LocalDirectory as it reaches Cognito on AWS.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlencode, urlparse, urlsplit

from chalicelib.auth.permissions import ROLE_IDS
from chalicelib.domain.users import EMAIL, USERNAME

CLIENT_ID = "par-local-console"
# The console client's redirect URIs, space- or comma-separated, when the constructor is not given them.
REDIRECT_URIS_ENV = "PAR_LOCAL_IDP_REDIRECT_URIS"
TOKEN_SECONDS = 3600
CODE_SECONDS = 120
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, unpadded
PKCE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636, section 4.1
MAX_FAILURES = 5  # then the account is locked for LOCKOUT_SECONDS, as Cognito's advanced security does
LOCKOUT_SECONDS = 900
# One message for a wrong password, an unknown user, a locked and a disabled account: it must not reveal
# which accounts exist, nor which are disabled.
SIGN_IN_FAILED = "Đăng nhập không thành công. Kiểm tra tên đăng nhập và mật khẩu, hoặc thử lại sau 15 phút."
MAX_ADMIN_BODY = 64 * 1024

# One seeded account per role; agency accounts belong to Hà Nội (P01) unless said otherwise.
SEED_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("admin", "Quản trị hệ thống", "system_admin", "national"),
    ("khaosat", "Quản lý khảo sát", "survey_manager", "national"),
    ("quantri.hanoi", "Quản trị Hà Nội", "agency_admin", "P01"),
    ("bientap.hanoi", "Biên tập Hà Nội", "agency_editor", "P01"),
    ("traloi.hanoi", "Trả lời hỏi đáp Hà Nội", "answerer", "P01"),
    ("nhaplieu.hanoi", "Nhập liệu Hà Nội", "data_entry", "P01"),
    # a second and a third clerk: paper forms are keyed twice by two people, a mismatch resolved by a third
    ("nhaplieu2.hanoi", "Nhập liệu Hà Nội 2", "data_entry", "P01"),
    ("nhaplieu3.hanoi", "Nhập liệu Hà Nội 3", "data_entry", "P01"),
    ("dieutra.hanoi", "Điều tra viên Hà Nội", "enumerator", "P01"),
    ("kiemsoat", "Kiểm soát phiếu", "reviewer", "national"),
    ("thamdinh", "Thẩm định CCHC", "appraiser", "national"),
    ("phantich.hue", "Phân tích Huế", "analyst", "P46"),
)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class User:
    username: str
    name: str
    roles: list[str]  # role ids, as Cognito groups
    agency: str  # "national" or an agency code, as custom:agency
    password: str
    sub: str
    email: str = ""
    enabled: bool = True
    created_at: str = dataclasses.field(default_factory=_now_iso)  # "" for accounts from an older users.json

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> User:
        """One entry of users.json, also as older versions wrote it (a single "role", no e-mail)."""
        data = dict(data)
        if "roles" not in data and "role" in data:
            data["roles"] = [data["role"]]
        data.setdefault("email", f"{data['username']}@local.test")
        data.setdefault("created_at", "")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.sub,
            "cognito:username": self.username,
            "name": self.name,
            "email": self.email,
            "cognito:groups": list(self.roles),
            "custom:agency": self.agency,
        }

    def public(self) -> dict[str, Any]:
        """What the admin API shows: never the password."""
        return {
            "username": self.username,
            "name": self.name,
            "email": self.email,
            "roles": sorted(self.roles),
            "agency": self.agency,
            "enabled": self.enabled,
            # No forced password change here: a new account signs in with its first password as it is.
            "status": "CONFIRMED",
            "created_at": self.created_at or None,
        }


class AdminError(Exception):
    """An admin API request that cannot be done: an HTTP status and a code, with messages in vi and en."""

    def __init__(self, status: int, code: str, message_vi: str, message_en: str, field: str | None = None) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.field = field

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message_vi, "message_en": self.message_en}
        if self.field:
            error["field"] = self.field
        return {"error": error}


def _invalid(message_vi: str, message_en: str, field: str | None = None) -> AdminError:
    return AdminError(400, "invalid_user", message_vi, message_en, field)


def _not_found() -> AdminError:
    return AdminError(404, "user_not_found", "Không tìm thấy tài khoản này.", "No such account.")


def _check_access(body: dict[str, Any]) -> tuple[list[str], str]:
    """The roles and scope of a request body, checked as chalicelib.store.identity.check_access does."""
    roles, agency = body.get("roles"), body.get("agency")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _invalid("Vai trò phải là một danh sách.", "roles must be a list of role ids.", "roles")
    if not roles:
        raise _invalid("Cần chọn ít nhất một vai trò.", "Choose at least one role.", "roles")
    unknown = sorted(set(roles) - ROLE_IDS)
    if unknown:
        raise _invalid(
            f"Vai trò không tồn tại: {', '.join(unknown)}.", f"Unknown role(s): {', '.join(unknown)}.", "roles"
        )
    if not isinstance(agency, str) or not 2 <= len(agency) <= 16 or agency != agency.strip():
        raise _invalid(
            "Phạm vi phải là 'national' hoặc mã cơ quan (2–16 ký tự).",
            "The scope must be 'national' or an agency code (2–16 characters).",
            "agency",
        )
    return sorted(set(roles)), agency


class _Grant(NamedTuple):
    """What an authorization code stands for until it is redeemed (once)."""

    username: str
    redirect_uri: str
    challenge: str  # PKCE S256
    expires: float


class AuthorizationError(Exception):
    """An authorization request that cannot go on; `to_client` once its client and redirect URI are known good."""

    def __init__(self, error: str, description: str, to_client: bool) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.to_client = to_client


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class LocalIdentityProvider:
    def __init__(self, state_dir: Path, port: int = 0, redirect_uris: Iterable[str] | None = None) -> None:
        """`redirect_uris`: where the console client may be sent back (else $PAR_LOCAL_IDP_REDIRECT_URIS).

        A stack whose API port is known only once it runs registers its callback then, with
        register_redirect_uri(f"{api_url}/admin/callback").
        """
        self.dir = Path(state_dir) / "idp"
        self.port = port
        self.users: dict[str, User] = {}
        self.redirect_uris: set[str] = set()
        if redirect_uris is None:
            redirect_uris = os.environ.get(REDIRECT_URIS_ENV, "").replace(",", " ").split()
        for uri in redirect_uris:
            self.register_redirect_uri(uri)
        self._codes: dict[str, _Grant] = {}
        self._failures: dict[str, list[float]] = {}  # username (known or not) -> times of recent failures
        self._failures_lock = threading.Lock()
        self._users_lock = threading.RLock()  # admin changes and their write to users.json
        self.admin_key = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.issuer = ""
        self._key: Any = None
        self.kid = ""

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._load_or_create_key()
        self._load_or_create_admin_key()
        self._load_or_create_users()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-idp", daemon=True)
        self._thread.start()
        return self.issuer

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def register_redirect_uri(self, uri: str) -> None:
        """Let the console client be sent back to exactly this URI (no prefix, no pattern: OAuth 2.0 security BCP)."""
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError(f"a redirect URI is an absolute http(s) URL without a fragment, not {uri!r}")
        self.redirect_uris = self.redirect_uris | {uri}  # a new set: request threads read it meanwhile

    def environment(self) -> dict[str, str]:
        """What the app needs to trust this issuer and manage its accounts (on AWS: Cognito's).

        Apply it after the local stack has set the template's Globals, which name Cognito.
        """
        return {
            "PAR_OIDC_ISSUER": self.issuer,
            "PAR_OIDC_AUDIENCE": CLIENT_ID,
            "PAR_OIDC_JWKS_URL": f"{self.issuer}/.well-known/jwks.json",
            "PAR_IDENTITY_DIRECTORY": "local",
            "PAR_LOCAL_IDP_URL": self.issuer,
            "PAR_LOCAL_IDP_ADMIN_KEY": self.admin_key,
        }

    # --- keys and users -----------------------------------------------------------------------
    def _load_or_create_key(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        path = self.dir / "signing-key.pem"
        if path.exists():
            self._key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        else:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.write_bytes(pem)
            path.chmod(0o600)
        numbers = self._key.public_key().public_numbers()
        self.kid = _b64(numbers.n)[:16]

    def _load_or_create_admin_key(self) -> None:
        """The admin API's key: random on the first start, then read back (only this user may read it)."""
        path = self.dir / "admin-key"
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another start wrote it meanwhile
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    file.write(secrets.token_urlsafe(32))
        self.admin_key = path.read_text(encoding="utf-8").strip()
        if not self.admin_key:
            raise RuntimeError(f"{path} is empty; delete it and start again for a new admin key")

    def _load_or_create_users(self) -> None:
        path = self.dir / "users.json"
        if path.exists():
            entries = json.loads(path.read_text(encoding="utf-8"))
            self.users = {u["username"]: User.from_dict(u) for u in entries}
            return
        for username, name, role, agency in SEED_USERS:
            self.users[username] = User(
                username,
                name,
                [role],
                agency,
                secrets.token_urlsafe(12),
                str(uuid.uuid4()),
                email=f"{username}@local.test",
            )
        self._save_users()

    def _save_users(self) -> None:
        """Write users.json whole: a temporary file (0600), then os.replace, so a crash leaves old or new."""
        with self._users_lock:
            path = self.dir / "users.json"
            tmp = path.with_name(f"users.json.{os.getpid()}.{threading.get_ident()}.tmp")
            data = json.dumps([dataclasses.asdict(u) for u in self.users.values()], ensure_ascii=False, indent=2)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

    # --- the directory (admin API) ------------------------------------------------------------
    def list_accounts(self) -> list[dict[str, Any]]:
        with self._users_lock:
            return [u.public() for u in sorted(self.users.values(), key=lambda u: u.username)]

    def get_account(self, username: str) -> dict[str, Any]:
        user = self.users.get(username)
        if user is None:
            raise _not_found()
        return user.public()

    def create_account(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The new account and its first password (shown once); AdminError 400 or 409 otherwise."""
        missing = [k for k in ("username", "name", "email", "roles", "agency") if body.get(k) in (None, "", [])]
        if missing:
            raise _invalid(
                f"Thiếu thông tin: {', '.join(missing)}.", f"Missing field(s): {', '.join(missing)}.", missing[0]
            )
        username, name, email = body["username"], body["name"], body["email"]
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            raise _invalid(
                "Tên đăng nhập dài 3–64 ký tự, gồm chữ thường không dấu, chữ số và các dấu . _ -",
                "The username must be 3–64 characters: lowercase letters, digits, '.', '_' or '-'.",
                "username",
            )
        if not isinstance(name, str) or not name.strip() or len(name) > 128:
            raise _invalid(
                "Cần nhập họ và tên (tối đa 128 ký tự).", "The name is required (128 characters at most).", "name"
            )
        if not isinstance(email, str) or not EMAIL.fullmatch(email):
            raise _invalid("Địa chỉ e-mail không hợp lệ.", "The e-mail address is not valid.", "email")
        roles, agency = _check_access(body)
        with self._users_lock:
            if username in self.users:
                raise AdminError(
                    409,
                    "user_exists",
                    "Tên đăng nhập này đã được dùng; vui lòng chọn tên khác.",
                    "That username is taken; choose another.",
                    "username",
                )
            # The user pool signs in by e-mail too (AliasAttributes), so an address belongs to one account.
            if any(u.email.lower() == email.lower() for u in self.users.values()):
                raise _invalid(
                    "Địa chỉ e-mail này đã thuộc về một tài khoản khác.",
                    "That e-mail address belongs to another account.",
                    "email",
                )
            password = secrets.token_urlsafe(12)
            user = User(username, name.strip(), roles, agency, password, str(uuid.uuid4()), email=email)
            self.users[username] = user
            self._save_users()
            return user.public(), password

    def set_access(self, username: str, body: dict[str, Any]) -> dict[str, Any]:
        roles, agency = _check_access(body)
        return self._change(username, roles=roles, agency=agency)

    def set_enabled(self, username: str, body: dict[str, Any]) -> dict[str, Any]:
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise _invalid("Thiếu trạng thái (enabled: true/false).", "enabled must be true or false.", "enabled")
        return self._change(username, enabled=enabled)

    def _change(self, username: str, **changes: Any) -> dict[str, Any]:
        with self._users_lock:
            user = self.users.get(username)
            if user is None:
                raise _not_found()
            # A new object, not a change in place: a sign-in running meanwhile sees the old or the new one.
            self.users[username] = updated = dataclasses.replace(user, **changes)
            self._save_users()
            return updated.public()

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                }
            ]
        }

    def issue(self, username: str, token_use: str = "id", lifetime: int = TOKEN_SECONDS, **overrides: Any) -> str:
        """A signed token for a seeded user (tests use overrides to forge expired or foreign tokens)."""
        import jwt

        now = int(time.time())
        claims = {
            **self.users[username].claims(),
            "iss": self.issuer,
            "iat": now,
            "exp": now + lifetime,
            "token_use": token_use,
            "jti": secrets.token_urlsafe(12),  # as Cognito's: two tokens issued in the same second still differ
        }
        claims["aud" if token_use == "id" else "client_id"] = CLIENT_ID
        claims.update(overrides)
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def check_password(self, username: str, password: str) -> User | None:
        """The user, or None; after MAX_FAILURES recent failures even the right password is refused for a while."""
        now = time.monotonic()
        with self._failures_lock:
            recent = [t for t in self._failures.get(username, []) if now - t < LOCKOUT_SECONDS]
            self._failures[username] = recent
            if len(recent) >= MAX_FAILURES:
                return None
        user = self.users.get(username)
        # compare against something even for an unknown user, so timing does not tell either
        expected = user.password if user else secrets.token_urlsafe(12)
        if user is None or not secrets.compare_digest(expected.encode(), password.encode()):
            with self._failures_lock:
                self._failures.setdefault(username, []).append(now)
            return None
        if not user.enabled:
            return None  # the right password of a disabled account: refused with the same answer as any failure
        return user

    def check_authorization(self, params: dict[str, str]) -> None:
        """AuthorizationError unless the request names this client, a registered redirect URI and PKCE S256.

        The client and the redirect URI come first: until both are known good, nothing may be sent to
        that URI (an error page instead), or the provider would redirect wherever a link says.
        """
        if params.get("client_id") != CLIENT_ID:
            raise AuthorizationError("invalid_client", "Ứng dụng (client_id) không được đăng ký.", to_client=False)
        if params.get("redirect_uri") not in self.redirect_uris:
            raise AuthorizationError(
                "invalid_redirect_uri",
                "Địa chỉ quay lại (redirect_uri) chưa được đăng ký cho ứng dụng này.",
                to_client=False,
            )
        if params.get("response_type", "code") != "code":
            raise AuthorizationError("unsupported_response_type", "Only response_type=code.", to_client=True)
        if params.get("code_challenge_method") != "S256" or not PKCE_CHALLENGE.fullmatch(
            params.get("code_challenge", "")
        ):
            # "plain" is refused: its challenge is the verifier itself, so whoever sees this request could redeem the code
            raise AuthorizationError(
                "invalid_request", "PKCE with code_challenge_method=S256 is required.", to_client=True
            )

    def grant_code(self, username: str, params: dict[str, str]) -> str:
        """A single-use code for a checked request (check_authorization), bound to its redirect URI and PKCE challenge."""
        now = time.time()
        for stale in [c for c, g in list(self._codes.items()) if g.expires <= now]:
            self._codes.pop(stale, None)
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(username, params["redirect_uri"], params["code_challenge"], now + CODE_SECONDS)
        return code

    def redeem_code(self, form: dict[str, str]) -> dict[str, Any] | None:
        """The tokens for a code, once: the same redirect URI as when it was issued, and the PKCE verifier."""
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires <= time.time() or form.get("redirect_uri") != grant.redirect_uri:
            return None
        verifier = form.get("code_verifier", "")
        if not PKCE_VERIFIER.fullmatch(verifier):
            return None
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not secrets.compare_digest(challenge, grant.challenge):
            return None
        user = self.users.get(grant.username)
        if user is None or not user.enabled:
            return None
        return self._tokens(user.username)

    def password_grant(self, username: str, password: str) -> dict[str, Any] | None:
        if self.check_password(username, password) is None:
            return None
        return self._tokens(username)

    def _tokens(self, username: str) -> dict[str, Any]:
        return {
            "id_token": self.issue(username, "id"),
            "access_token": self.issue(username, "access"),
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        }

    def token_for_role(self, role: str, agency: str | None = None) -> str:
        user = next(
            u for u in self.users.values() if role in u.roles and u.enabled and (agency is None or u.agency == agency)
        )
        return self.issue(user.username)

    # --- HTTP ---------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data: Any) -> None:
                self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")

            def _form(self) -> dict[str, str]:
                length = int(self.headers.get("Content-Length") or 0)
                return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path.startswith("/admin/"):
                    self._admin("GET", url.path)
                elif url.path == "/.well-known/jwks.json":
                    self._json(200, idp.jwks())
                elif url.path == "/.well-known/openid-configuration":
                    self._json(
                        200,
                        {
                            "issuer": idp.issuer,
                            "jwks_uri": f"{idp.issuer}/.well-known/jwks.json",
                            "authorization_endpoint": f"{idp.issuer}/oauth2/authorize",
                            "token_endpoint": f"{idp.issuer}/oauth2/token",
                            "response_types_supported": ["code"],
                            "code_challenge_methods_supported": ["S256"],
                            "grant_types_supported": ["authorization_code", "password"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "subject_types_supported": ["public"],
                        },
                    )
                elif url.path == "/oauth2/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    if self._authorization_ok(query):
                        self._send(200, _sign_in_page(query).encode(), "text/html; charset=utf-8")
                else:
                    self._json(404, {"error": "not_found"})

            def do_PUT(self) -> None:
                url = urlparse(self.path)
                if url.path.startswith("/admin/"):
                    self._admin("PUT", url.path)
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                if url.path.startswith("/admin/"):
                    self._admin("POST", url.path)
                    return
                form = self._form()
                if url.path == "/oauth2/token":
                    self._token(form)
                elif url.path == "/login":
                    self._login(form)
                else:
                    self._json(404, {"error": "not_found"})

            # --- admin API ------------------------------------------------------------------
            def _authorised(self) -> bool:
                scheme, _, given = (self.headers.get("Authorization") or "").partition(" ")
                # constant time, and against the key even when the header is missing or malformed
                same = secrets.compare_digest(given.strip().encode(), idp.admin_key.encode())
                return same and scheme.lower() == "bearer"

            def _body(self) -> dict[str, Any]:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_ADMIN_BODY:
                    raise AdminError(
                        413, "body_too_large", "Dữ liệu gửi lên quá lớn.", "The request body is too large."
                    )
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    raise _invalid("Dữ liệu gửi lên không phải JSON hợp lệ.", "The body must be a JSON object.")
                return body

            def _admin(self, method: str, path: str) -> None:
                if not self._authorised():
                    self.close_connection = True  # the body, if any, is left unread
                    self._send(
                        401,
                        json.dumps({"error": {"code": "unauthorized", "message": "Unauthorized"}}).encode(),
                        "application/json",
                        {"WWW-Authenticate": 'Bearer realm="local-idp-admin"'},
                    )
                    return
                parts = [unquote(p) for p in path.split("/")[1:]]  # ["admin", "users", <username>, <what>]
                try:
                    if parts[:2] != ["admin", "users"] or len(parts) > 4:
                        raise AdminError(404, "not_found", "Không có địa chỉ này.", "No such path.")
                    rest = parts[2:]
                    if method == "GET" and not rest:
                        self._json(200, {"users": idp.list_accounts()})
                    elif method == "POST" and not rest:
                        user, password = idp.create_account(self._body())
                        self._json(201, {"user": user, "temporary_password": password})
                    elif method == "GET" and len(rest) == 1:
                        self._json(200, idp.get_account(rest[0]))
                    elif method == "PUT" and len(rest) == 2 and rest[1] == "access":
                        self._json(200, idp.set_access(rest[0], self._body()))
                    elif method == "PUT" and len(rest) == 2 and rest[1] == "enabled":
                        self._json(200, idp.set_enabled(rest[0], self._body()))
                    else:
                        raise AdminError(404, "not_found", "Không có địa chỉ này.", "No such path.")
                except AdminError as error:
                    self._json(error.status, error.body())

            def _token(self, form: dict[str, str]) -> None:
                if form.get("client_id") != CLIENT_ID:
                    self._json(400, {"error": "invalid_client"})
                    return
                if form.get("grant_type") == "password":
                    tokens = idp.password_grant(form.get("username", ""), form.get("password", ""))
                elif form.get("grant_type") == "authorization_code":
                    tokens = idp.redeem_code(form)
                else:
                    self._json(400, {"error": "unsupported_grant_type"})
                    return
                if tokens is None:
                    self._json(400, {"error": "invalid_grant"})
                else:
                    self._json(200, tokens)

            def _authorization_ok(self, params: dict[str, str]) -> bool:
                """Checked again at /login: a form can be posted there without the authorization step."""
                try:
                    idp.check_authorization(params)
                except AuthorizationError as error:
                    if error.to_client:  # RFC 6749, 4.1.2.1: the client hears of it, with its state
                        answer = {"error": error.error, "error_description": error.description}
                        self._redirect(params["redirect_uri"], {**answer, "state": params.get("state", "")})
                    else:
                        page = _error_page(error.description).encode()
                        self._send(400, page, "text/html; charset=utf-8")
                    return False
                return True

            def _redirect(self, redirect_uri: str, params: dict[str, str]) -> None:
                joiner = "&" if "?" in redirect_uri else "?"
                self._send(302, b"", "text/plain", {"Location": f"{redirect_uri}{joiner}{urlencode(params)}"})

            def _login(self, form: dict[str, str]) -> None:
                if not self._authorization_ok(form):
                    return
                user = idp.check_password(form.get("username", ""), form.get("password", ""))
                if user is None:
                    page = _sign_in_page(form, error=SIGN_IN_FAILED)
                    self._send(401, page.encode(), "text/html; charset=utf-8")
                    return
                code = idp.grant_code(user.username, form)
                self._redirect(form["redirect_uri"], {"code": code, "state": form.get("state", "")})

        return Handler


def _sign_in_page(params: dict[str, str], error: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(params.get(k, ""))}">'
        for k in ("client_id", "redirect_uri", "state", "response_type", "code_challenge", "code_challenge_method")
    )
    alert = f'<p role="alert" class="error">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Đăng nhập — môi trường thử nghiệm</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}}label{{display:block;margin-top:1rem}}
input{{width:100%;padding:.5rem;font-size:1rem}}button{{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}}.error{{color:#a00}}</style>
</head><body><main><h1>Đăng nhập</h1><p>Nhà cung cấp định danh cục bộ (thay cho Cognito khi chạy thử nghiệm).</p>{alert}
<form method="post" action="/login">{hidden}
<label for="u">Tên đăng nhập</label><input id="u" name="username" autocomplete="username" required>
<label for="p">Mật khẩu</label><input id="p" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Đăng nhập</button></form></main></body></html>"""


def _error_page(message: str) -> str:
    """A refused authorization request, shown here: never sent to an unverified redirect URI."""
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Yêu cầu đăng nhập không hợp lệ</title>
</head><body><main><h1>Yêu cầu đăng nhập không hợp lệ</h1><p role="alert">{html.escape(message)}</p>
<p>Hãy mở lại trang quản trị và đăng nhập từ đó.</p></main></body></html>"""
