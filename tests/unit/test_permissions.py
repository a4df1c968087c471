"""The permission matrix: its document is current, and scope rules hold."""

from __future__ import annotations

from pathlib import Path

from chalicelib.auth.permissions import NATIONAL, PERMISSIONS, ROLE_IDS, Grant, allows, matrix_markdown
from chalicelib.auth.tokens import principal_from_claims

ROOT = Path(__file__).resolve().parents[2]


def test_docs_permissions_is_generated_from_the_code():
    assert (ROOT / "docs" / "PERMISSIONS.md").read_text(encoding="utf-8") == matrix_markdown()


def test_every_role_can_open_the_console_and_only_the_system_admin_reads_the_audit_log():
    assert PERMISSIONS["console.view"].roles == ROLE_IDS
    assert PERMISSIONS["audit.read"].roles == {"system_admin"}


def test_agency_grants_reach_only_their_agency():
    hanoi = (Grant("agency_admin", "P01"),)
    assert allows(hanoi, "agency.manage", "P01")
    assert not allows(hanoi, "agency.manage", "P79")
    assert not allows(hanoi, "agency.manage", None)  # a national resource


def test_national_only_permissions_need_a_national_grant():
    assert not allows((Grant("system_admin", "P01"),), "audit.read", "P01")
    assert allows((Grant("system_admin", NATIONAL),), "audit.read", None)


def test_claims_without_an_agency_grant_nothing_and_unknown_groups_are_ignored():
    assert principal_from_claims({"sub": "a", "cognito:groups": ["system_admin"]}).grants == ()
    p = principal_from_claims({"sub": "a", "cognito:groups": ["root", "analyst"], "custom:agency": "P46"})
    assert p.grants == (Grant("analyst", "P46"),)
