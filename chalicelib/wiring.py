"""Composition root: builds each service with its real adapters, once per process (a warm Lambda keeps them)."""

from __future__ import annotations

import time
from functools import cache
from typing import TYPE_CHECKING

from chalicelib.settings import settings

if TYPE_CHECKING:
    from chalicelib.auth.revocation import AccessGate
    from chalicelib.auth.tokens import TokenConfig
    from chalicelib.domain.agencies import AgencyDirectory, AgencyService
    from chalicelib.domain.attribution import AttributionIssuer, AttributionSigner
    from chalicelib.domain.audit import AuditLog, AuditReader
    from chalicelib.domain.authoring import AuthoringService
    from chalicelib.domain.catalog import CatalogService
    from chalicelib.domain.channels import ChannelService
    from chalicelib.domain.counting import CountingService
    from chalicelib.domain.field_progress import ProgressService
    from chalicelib.domain.field_quality_desk import FieldQualityDesk
    from chalicelib.domain.fieldwork import DeviceTokens, FieldworkService
    from chalicelib.domain.paper import PaperEntryService
    from chalicelib.domain.privacy import PrivacyService
    from chalicelib.domain.reconciliation import ReconcileService
    from chalicelib.domain.reports import ReportService
    from chalicelib.domain.results import ResultsService
    from chalicelib.domain.sampling_service import SamplingService
    from chalicelib.domain.screening import DurationStats, ScreeningService
    from chalicelib.domain.submissions import SubmissionService
    from chalicelib.domain.users import IdentityDirectory, UserAdminService
    from chalicelib.lake import LakeArchive
    from chalicelib.store.agencies import AgencySettingsRepository
    from chalicelib.store.aggregates import AggregateRepository
    from chalicelib.store.audit import AuditRepository
    from chalicelib.store.fieldwork import FieldworkRepository
    from chalicelib.store.objects import ObjectStore
    from chalicelib.store.responses import ResponseRepository
    from chalicelib.store.revocations import RevocationRepository
    from chalicelib.store.surveys import SurveyRepository


@cache
def surveys() -> SurveyRepository:
    from chalicelib.store.surveys import SurveyRepository

    return SurveyRepository(cache_seconds=settings().survey_cache_seconds)


@cache
def responses() -> ResponseRepository:
    from chalicelib.store.responses import ResponseRepository

    return ResponseRepository()


@cache
def aggregates() -> AggregateRepository:
    from chalicelib.store.aggregates import AggregateRepository

    return AggregateRepository()


@cache
def reports_store() -> ObjectStore:
    from chalicelib.store.objects import ObjectStore

    return ObjectStore(settings().reports_bucket)


@cache
def lake_store() -> ObjectStore:
    from chalicelib.store.objects import ObjectStore

    return ObjectStore(settings().lake_bucket)


@cache
def submission_service() -> SubmissionService:
    from chalicelib.domain.submissions import IdentifierHasher, SubmissionService
    from chalicelib.reference.geography import load_geography
    from chalicelib.store.secrets import keyring

    def current_key() -> tuple[str, bytes]:
        keys = keyring()
        return keys.current_id, keys.current

    s = settings()
    return SubmissionService(
        catalog=surveys(),
        store=responses(),
        locations=load_geography,
        hasher=IdentifierHasher.from_source(current_key),
        max_body_bytes=s.max_body_bytes,
        attribution=attribution_signer(),
        embed_origins=agency_settings().embed_origins,  # cached a minute: an observation, not the proof
    )


@cache
def attribution_signer() -> AttributionSigner:
    """Signs the forms' attribution tokens with a key derived for that purpose from the managed secret."""
    from chalicelib.domain.attribution import KEY_PURPOSE, AttributionSigner
    from chalicelib.store.secrets import console_keys

    return AttributionSigner(lambda: console_keys(KEY_PURPOSE))


@cache
def attribution_issuer() -> AttributionIssuer:
    from chalicelib.domain.attribution import AttributionIssuer

    return AttributionIssuer(agency_directory(), attribution_signer())


class AggregateDurations:
    """Completion-time histogram of a survey version, read from its national aggregates, cached a minute."""

    def __init__(self, ttl: float = 60.0) -> None:
        self._ttl = ttl
        self._cache: dict[str, tuple[float, DurationStats]] = {}

    def durations(self, survey_key: str) -> DurationStats:
        from chalicelib.domain.aggregation import NATIONAL, aggregate_pk, aggregate_sk
        from chalicelib.domain.responses import SCREENED
        from chalicelib.domain.screening import DurationStats

        now = time.monotonic()
        hit = self._cache.get(survey_key)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        pk = aggregate_pk(survey_key, NATIONAL)
        histogram: dict[int, int] = {}
        for item in aggregates().get_items((pk, aggregate_sk(status, 0)) for status in SCREENED):
            for cell, value in item.items():
                if cell.startswith("_d") and cell[2:].isdigit():
                    histogram[int(cell[2:])] = histogram.get(int(cell[2:]), 0) + int(value)
        stats = DurationStats(histogram)
        self._cache[survey_key] = (now, stats)
        return stats


@cache
def screening_service() -> ScreeningService:
    from chalicelib.domain.screening import ScreeningService

    return ScreeningService(catalog=surveys(), durations=AggregateDurations(), store=responses())


@cache
def audit_repository() -> AuditRepository:
    from chalicelib.store.audit import AuditRepository

    return AuditRepository()


@cache
def audit() -> AuditLog:
    """The audit log service on the audit table (append-only, hash-chained)."""
    from chalicelib.domain.audit import AuditLog

    return AuditLog(store=audit_repository())


@cache
def privacy_service() -> PrivacyService:
    from chalicelib.domain.privacy import PrivacyService

    return PrivacyService(store=responses(), audit=audit())


@cache
def token_config() -> TokenConfig | None:
    """Who issues the officials' tokens: a Cognito user pool on AWS, infra/local/idp.py locally."""
    from chalicelib.auth.tokens import TokenConfig

    s = settings()
    if not s.oidc_issuer or not s.oidc_audience:
        return None
    jwks = s.oidc_jwks_url or f"{s.oidc_issuer.rstrip('/')}/.well-known/jwks.json"
    return TokenConfig(issuer=s.oidc_issuer, audience=s.oidc_audience, jwks_url=jwks)


@cache
def agency_settings() -> AgencySettingsRepository:
    from chalicelib.store.agencies import AgencySettingsRepository

    return AgencySettingsRepository()


@cache
def agency_service() -> AgencyService:
    from chalicelib.domain.agencies import AgencyService
    from chalicelib.reference.agencies import agency_registry

    return AgencyService(
        known=agency_registry().get,
        store=agency_settings(),
        audit=audit(),
        allow_loopback=settings().stage in ("local", "test"),
    )


@cache
def identity_directory() -> IdentityDirectory:
    """Officials' accounts: the Cognito user pool on AWS, the local identity provider in `make run`."""
    from chalicelib.domain.users import DirectoryNotConfigured

    s = settings()
    if s.identity_directory == "cognito" and s.user_pool_id:
        from chalicelib.store.identity import CognitoDirectory

        return CognitoDirectory(s.user_pool_id)
    if s.identity_directory == "local" and s.local_idp_url and s.local_idp_admin_key:
        from chalicelib.store.identity import LocalDirectory

        return LocalDirectory(s.local_idp_url, s.local_idp_admin_key)
    raise DirectoryNotConfigured()


@cache
def user_admin() -> UserAdminService:
    from chalicelib.domain.users import UserAdminService
    from chalicelib.reference.agencies import agency_registry

    def in_force(code: str) -> bool:  # accounts are created in agencies that exist today
        from datetime import date

        found = agency_registry().get(code)
        return found is not None and found.valid_on(date.today())

    return UserAdminService(
        directory=identity_directory(),
        audit=audit(),
        known_agency=lambda code: agency_registry().get(code) is not None,
        in_force=in_force,
        revoke=revocations().revoke,
    )


@cache
def revocations() -> RevocationRepository:
    from chalicelib.store.revocations import RevocationRepository

    return RevocationRepository()


@cache
def access_gate() -> AccessGate:
    """Tokens refused before they expire: accounts whose access changed, signed-out console sessions."""
    from chalicelib.auth.revocation import AccessGate

    return AccessGate(revocations())


@cache
def catalog_service() -> CatalogService:
    from chalicelib.domain.catalog import CatalogService
    from chalicelib.reference.geography import load_geography

    return CatalogService(surveys(), load_geography)


@cache
def results_service() -> ResultsService:
    from chalicelib.domain.results import ResultsService
    from chalicelib.reference.geography import load_geography

    return ResultsService(
        surveys(), aggregates(), load_geography, names=lambda agency: agency_directory().names(agency)
    )


@cache
def report_service() -> ReportService:
    from chalicelib.domain.reports import ReportService
    from chalicelib.store.events import publish

    return ReportService(reports_store(), surveys(), publish, audit())


@cache
def audit_reader() -> AuditReader:
    from chalicelib.domain.audit import AuditReader

    return AuditReader(audit_repository())


@cache
def agency_directory() -> AgencyDirectory:
    from chalicelib.domain.agencies import AgencyDirectory
    from chalicelib.reference.agencies import agency_registry

    return AgencyDirectory(agency_registry(), agency_settings(), surveys())


@cache
def authoring_service() -> AuthoringService:
    """Officials' survey authoring: versions in the surveys table, every change in the audit log's transaction."""
    from chalicelib.domain.authoring import AuthoringService
    from chalicelib.reference.agencies import agency_registry

    return AuthoringService(
        store=surveys(),
        audit=audit(),
        known_agency=lambda code: agency_registry().get(code) is not None,
        response_count=response_count,
    )


def response_count(survey_key: str) -> int:
    """Responses a survey version has received, from its national counters (withdrawn ones left out)."""
    from chalicelib.domain.aggregation import NATIONAL, aggregate_pk
    from chalicelib.domain.responses import WITHDRAWN
    from chalicelib.domain.results import status_counts

    counts = status_counts(aggregates().scope_items(aggregate_pk(survey_key, NATIONAL)))
    return sum(n for status, n in counts.items() if status != WITHDRAWN)


@cache
def sampling_service() -> SamplingService:
    """Direct surveys' frames and samples: objects of the reports bucket under sampling/, every write audited."""
    from chalicelib.domain.sampling_service import SamplingService

    return SamplingService(store=reports_store(), audit=audit())


@cache
def fieldwork_repository() -> FieldworkRepository:
    from chalicelib.store.fieldwork import FieldworkRepository

    return FieldworkRepository()


@cache
def field_device_tokens() -> DeviceTokens:
    """Enumerators' device tokens: a key derived for this purpose; an account's access change ends them."""
    from chalicelib.domain.fieldwork import KEY_PURPOSE, DeviceTokens
    from chalicelib.store.secrets import console_keys

    return DeviceTokens(lambda: console_keys(KEY_PURPOSE), revocations().revoked_at)


@cache
def fieldwork_service() -> FieldworkService:
    """Assignments and household visits (docs/FIELDWORK.md): the fieldwork table, the responses table."""
    from chalicelib.contracts import validator
    from chalicelib.domain.fieldwork import FieldworkService

    return FieldworkService(
        store=fieldwork_repository(),
        samples=sampling_service().sample,
        catalog=surveys(),
        checker=submission_service(),
        directory=identity_directory(),
        recorder=audit(),
        responses_table=settings().responses_table,
        visit_validator=validator("field-visit"),
        assignment_validator=validator("field-assignment"),
    )


@cache
def progress_service() -> ProgressService:
    from chalicelib.domain.field_progress import ProgressService

    return ProgressService(fieldwork_repository())


@cache
def paper_service() -> PaperEntryService:
    """Paper forms keyed twice by clerks (fieldwork table, paper# families); responses in the same transaction."""
    from chalicelib.domain.paper import PaperEntryService
    from chalicelib.domain.submissions import IdentifierHasher
    from chalicelib.reference.geography import load_geography
    from chalicelib.store.paper import PaperRepository
    from chalicelib.store.secrets import keyring

    def current_key() -> tuple[str, bytes]:
        keys = keyring()
        return keys.current_id, keys.current

    def provinces(geography: str) -> list[str]:
        return [p.code for p in load_geography(geography).provinces]

    hasher = IdentifierHasher.from_source(current_key)
    return PaperEntryService(
        catalog=surveys(),
        store=PaperRepository(fieldwork_repository()),
        audit=audit(),
        hasher=hasher,
        hmac_key_id=lambda: hasher.key_id,
        provinces=provinces,
    )


@cache
def field_quality_service() -> FieldQualityDesk:
    """Re-checks, enumerator risk and open-answer coding (docs/FIELDWORK.md): the responses table is read,
    the fieldwork table keeps the quality items, every change is audited."""
    from chalicelib.domain.field_quality import FieldQualityService
    from chalicelib.domain.field_quality_desk import FieldQualityDesk
    from chalicelib.store.field_quality import FieldQualityStore

    service = FieldQualityService(responses(), FieldQualityStore(fieldwork_repository()))
    return FieldQualityDesk(service, surveys(), audit())


@cache
def channel_service() -> ChannelService:
    from chalicelib.domain.channels import ChannelService

    return ChannelService(surveys(), agency_directory())


def reset() -> None:
    """Forget every built service (tests and the local stack change settings after import)."""
    from chalicelib.settings import reset_settings
    from chalicelib.store.aws import reset_clients
    from chalicelib.store.models import reset_models
    from chalicelib.store.secrets import forget

    for factory in (
        surveys,
        responses,
        aggregates,
        reports_store,
        lake_store,
        submission_service,
        attribution_signer,
        attribution_issuer,
        screening_service,
        audit,
        audit_repository,
        privacy_service,
        token_config,
        agency_settings,
        agency_service,
        identity_directory,
        user_admin,
        revocations,
        access_gate,
        catalog_service,
        results_service,
        report_service,
        audit_reader,
        agency_directory,
        authoring_service,
        channel_service,
        field_quality_service,
        sampling_service,
        paper_service,
        counting_service,
        lake_archive,
        reconcile_service,
    ):
        factory.cache_clear()
    reset_settings()
    reset_clients()
    reset_models()
    forget()


# --- the workers' services --------------------------------------------------------------------


@cache
def counting_service() -> CountingService:
    from chalicelib.domain.counting import CountingService

    return CountingService(catalog=surveys(), store=aggregates())


@cache
def lake_archive() -> LakeArchive:
    from chalicelib.lake import LakeArchive

    return LakeArchive(store=lake_store())


@cache
def reconcile_service() -> ReconcileService:
    from chalicelib.domain.reconciliation import ReconcileService

    return ReconcileService(catalog=surveys(), responses=responses(), aggregates=aggregates(), reports=reports_store())
