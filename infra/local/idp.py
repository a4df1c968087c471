"""A small OpenID Connect identity provider for the local stack, shaped like the Cognito user pool in infra/.

It signs RS256 tokens with a key generated on first start (kept in the state folder), serves the
discovery document and the JWKS, and offers the password grant (API clients, tests) and the
authorization-code flow with a Vietnamese sign-in page (the admin console). Users are seeded for every
role with random passwords, written to <state>/idp/users.json and printed by `make run`. The app
verifies these tokens exactly as it verifies Cognito's: nothing is bypassed locally.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

CLIENT_ID = "par-local-console"
TOKEN_SECONDS = 3600
MAX_FAILURES = 5  # then the account is locked for LOCKOUT_SECONDS, as Cognito's advanced security does
LOCKOUT_SECONDS = 900
# One message for a wrong password, an unknown user and a locked account: it must not reveal which accounts exist.
SIGN_IN_FAILED = "Đăng nhập không thành công. Kiểm tra tên đăng nhập và mật khẩu, hoặc thử lại sau 15 phút."

# One seeded account per role; agency accounts belong to Hà Nội (P01) unless said otherwise.
SEED_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("admin", "Quản trị hệ thống", "system_admin", "national"),
    ("khaosat", "Quản lý khảo sát", "survey_manager", "national"),
    ("quantri.hanoi", "Quản trị Hà Nội", "agency_admin", "P01"),
    ("bientap.hanoi", "Biên tập Hà Nội", "agency_editor", "P01"),
    ("traloi.hanoi", "Trả lời hỏi đáp Hà Nội", "answerer", "P01"),
    ("nhaplieu.hanoi", "Nhập liệu Hà Nội", "data_entry", "P01"),
    ("dieutra.hanoi", "Điều tra viên Hà Nội", "enumerator", "P01"),
    ("kiemsoat", "Kiểm soát phiếu", "reviewer", "national"),
    ("thamdinh", "Thẩm định CCHC", "appraiser", "national"),
    ("phantich.hue", "Phân tích Huế", "analyst", "P46"),
)


@dataclass
class User:
    username: str
    name: str
    role: str
    agency: str
    password: str
    sub: str

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.sub,
            "cognito:username": self.username,
            "name": self.name,
            "email": f"{self.username}@local.test",
            "cognito:groups": [self.role],
            "custom:agency": self.agency,
        }


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class LocalIdentityProvider:
    def __init__(self, state_dir: Path, port: int = 0) -> None:
        self.dir = Path(state_dir) / "idp"
        self.port = port
        self.users: dict[str, User] = {}
        self._codes: dict[str, tuple[str, str, float]] = {}  # code -> (username, redirect_uri, expiry)
        self._failures: dict[str, list[float]] = {}  # username (known or not) -> times of recent failures
        self._failures_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.issuer = ""
        self._key: Any = None
        self.kid = ""

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._load_or_create_key()
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

    def environment(self) -> dict[str, str]:
        """What the app needs to trust this issuer (the same variables point at Cognito on AWS)."""
        return {
            "PAR_OIDC_ISSUER": self.issuer,
            "PAR_OIDC_AUDIENCE": CLIENT_ID,
            "PAR_OIDC_JWKS_URL": f"{self.issuer}/.well-known/jwks.json",
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

    def _load_or_create_users(self) -> None:
        path = self.dir / "users.json"
        if path.exists():
            self.users = {u["username"]: User(**u) for u in json.loads(path.read_text(encoding="utf-8"))}
            return
        for username, name, role, agency in SEED_USERS:
            self.users[username] = User(username, name, role, agency, secrets.token_urlsafe(12), str(uuid.uuid4()))
        path.write_text(
            json.dumps([u.__dict__ for u in self.users.values()], ensure_ascii=False, indent=2), encoding="utf-8"
        )
        path.chmod(0o600)

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
        if user is None or not secrets.compare_digest(expected, password):
            with self._failures_lock:
                self._failures.setdefault(username, []).append(now)
            return None
        return user

    def password_grant(self, username: str, password: str) -> dict[str, Any] | None:
        if self.check_password(username, password) is None:
            return None
        return {
            "id_token": self.issue(username, "id"),
            "access_token": self.issue(username, "access"),
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        }

    def token_for_role(self, role: str, agency: str | None = None) -> str:
        user = next(u for u in self.users.values() if u.role == role and (agency is None or u.agency == agency))
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
                if url.path == "/.well-known/jwks.json":
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
                            "grant_types_supported": ["authorization_code", "password"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "subject_types_supported": ["public"],
                        },
                    )
                elif url.path == "/oauth2/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    self._send(200, _sign_in_page(query).encode(), "text/html; charset=utf-8")
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                form = self._form()
                if url.path == "/oauth2/token":
                    self._token(form)
                elif url.path == "/login":
                    self._login(form)
                else:
                    self._json(404, {"error": "not_found"})

            def _token(self, form: dict[str, str]) -> None:
                if form.get("client_id") != CLIENT_ID:
                    self._json(400, {"error": "invalid_client"})
                    return
                if form.get("grant_type") == "password":
                    tokens = idp.password_grant(form.get("username", ""), form.get("password", ""))
                elif form.get("grant_type") == "authorization_code":
                    code = idp._codes.pop(form.get("code", ""), None)
                    valid = code is not None and code[1] == form.get("redirect_uri") and code[2] > time.time()
                    tokens = idp.password_grant(code[0], idp.users[code[0]].password) if valid and code else None
                else:
                    self._json(400, {"error": "unsupported_grant_type"})
                    return
                if tokens is None:
                    self._json(400, {"error": "invalid_grant"})
                else:
                    self._json(200, tokens)

            def _login(self, form: dict[str, str]) -> None:
                redirect = form.get("redirect_uri", "")
                if not redirect.startswith(("http://127.0.0.1", "http://localhost")):
                    self._json(400, {"error": "invalid_redirect_uri"})
                    return
                user = idp.check_password(form.get("username", ""), form.get("password", ""))
                if user is None:
                    page = _sign_in_page(form, error=SIGN_IN_FAILED)
                    self._send(401, page.encode(), "text/html; charset=utf-8")
                    return
                code = secrets.token_urlsafe(24)
                idp._codes[code] = (user.username, redirect, time.time() + 120)
                target = f"{redirect}?{urlencode({'code': code, 'state': form.get('state', '')})}"
                self._send(302, b"", "text/plain", {"Location": target})

        return Handler


def _sign_in_page(params: dict[str, str], error: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(params.get(k, ""))}">'
        for k in ("client_id", "redirect_uri", "state")
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
