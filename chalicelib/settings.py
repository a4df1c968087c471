"""One typed settings object, read from the environment once, on first use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

LOCAL_STAGES = frozenset({"local", "test"})  # this machine and the test suite: safe defaults allowed


class SettingsError(RuntimeError):
    """A required setting is missing or malformed; raised at first use, with the variable's name."""


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    endpoint_url: str | None
    surveys_table: str
    responses_table: str
    aggregates_table: str
    audit_table: str
    reports_bucket: str
    lake_bucket: str
    event_bus: str
    hmac_key: bytes
    hmac_key_id: str
    max_body_bytes: int
    survey_cache_seconds: float
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    public_url: str | None = None  # e.g. https://par.moha.gov.vn, no trailing slash; required outside LOCAL_STAGES
    hmac_secret_id: str | None = None  # Secrets Manager: {"current": id, id: key, ...}; wins over hmac_key
    agencies_table: str = ""
    revocations_table: str = ""
    fieldwork_table: str = ""
    # Officials' accounts: "cognito" (user_pool_id) on AWS, "local" (infra/local/idp.py) in `make run`
    identity_directory: str | None = None
    user_pool_id: str | None = None
    local_idp_url: str | None = None
    local_idp_admin_key: str | None = None

    @staticmethod
    def from_env(env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)

        def need(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(f"environment variable {name} is required")
            return value

        stage = env.get("PAR_STAGE", "local")
        key = env.get("PAR_HMAC_KEY", "")
        secret_id = env.get("PAR_HMAC_SECRET_ID") or None
        if not key and not secret_id:
            if stage in LOCAL_STAGES:
                key = "local-development-key-not-secret"
            else:
                raise SettingsError("PAR_HMAC_SECRET_ID (or PAR_HMAC_KEY) is required outside local/test stages")
        try:
            max_body = int(env.get("PAR_MAX_BODY_BYTES", "65536"))
            cache_s = float(env.get("PAR_SURVEY_CACHE_SECONDS", "30"))
        except ValueError as exc:
            raise SettingsError(f"numeric setting is malformed: {exc}") from exc
        return Settings(
            stage=stage,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "ap-southeast-1",
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            surveys_table=need("PAR_SURVEYS_TABLE"),
            responses_table=need("PAR_RESPONSES_TABLE"),
            aggregates_table=need("PAR_AGGREGATES_TABLE"),
            audit_table=need("PAR_AUDIT_TABLE"),
            reports_bucket=need("PAR_REPORTS_BUCKET"),
            lake_bucket=need("PAR_LAKE_BUCKET"),
            event_bus=env.get("PAR_EVENT_BUS", "default"),
            hmac_key=key.encode("utf-8"),
            hmac_key_id=env.get("PAR_HMAC_KEY_ID", "k1"),
            max_body_bytes=max_body,
            survey_cache_seconds=cache_s,
            oidc_issuer=env.get("PAR_OIDC_ISSUER") or None,
            oidc_audience=env.get("PAR_OIDC_AUDIENCE") or None,
            oidc_jwks_url=env.get("PAR_OIDC_JWKS_URL") or None,
            public_url=_public_url(env.get("PAR_PUBLIC_URL", "").strip(), stage),
            hmac_secret_id=secret_id,
            agencies_table=need("PAR_AGENCIES_TABLE"),
            revocations_table=need("PAR_REVOCATIONS_TABLE"),
            fieldwork_table=need("PAR_FIELDWORK_TABLE"),
            identity_directory=env.get("PAR_IDENTITY_DIRECTORY") or None,
            user_pool_id=env.get("PAR_USER_POOL_ID") or None,
            local_idp_url=env.get("PAR_LOCAL_IDP_URL") or None,
            local_idp_admin_key=env.get("PAR_LOCAL_IDP_ADMIN_KEY") or None,
        )


def _public_url(value: str, stage: str) -> str | None:
    """This deployment's address: the console's sign-in redirect and the embed code are built from it.

    Never guessed from a request's Host header outside this machine: a forged Host would otherwise
    choose where the identity provider sends an official's authorization code.
    """
    if not value:
        if stage in LOCAL_STAGES:
            return None
        raise SettingsError("environment variable PAR_PUBLIC_URL is required outside local/test stages")
    parts = urlsplit(value)
    schemes = {"https", "http"} if stage in LOCAL_STAGES else {"https"}
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.query or parts.fragment:
        raise SettingsError(
            f"PAR_PUBLIC_URL must be an {' or '.join(sorted(schemes))} address without user, query or fragment: {value!r}"
        )
    return value.rstrip("/")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """For tests and the local stack, which set the environment after import."""
    settings.cache_clear()
