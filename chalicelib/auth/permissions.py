"""The permission matrix: the single source the code enforces and docs/PERMISSIONS.md is generated from.

A user holds roles; each grant has a scope: national (the Ministry) or one agency (a ministry or a
province, e.g. "P01" for Hà Nội). An agency-scoped grant reaches only resources of that agency;
a national grant reaches every agency. Some permissions exist only nationally (e.g. the audit log).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

NATIONAL = "national"


@dataclass(frozen=True)
class Role:
    id: str
    label_vi: str
    label_en: str


ROLES: tuple[Role, ...] = (
    Role("system_admin", "Quản trị hệ thống (Bộ Nội vụ)", "System administrator (Ministry)"),
    Role("survey_manager", "Quản lý khảo sát", "Survey manager"),
    Role("agency_admin", "Quản trị cơ quan", "Agency administrator"),
    Role("agency_editor", "Biên tập nội dung", "Agency editor (content)"),
    Role("answerer", "Cán bộ trả lời hỏi đáp", "Answerer (Q&A)"),
    Role("data_entry", "Nhập liệu phiếu giấy", "Data-entry clerk"),
    Role("enumerator", "Điều tra viên", "Enumerator"),
    Role("reviewer", "Kiểm soát phiếu", "Reviewer (response control)"),
    Role("appraiser", "Thẩm định Chỉ số CCHC", "Appraiser (PAR Index)"),
    Role("analyst", "Phân tích số liệu", "Analyst"),
)
ROLE_IDS = frozenset(r.id for r in ROLES)
# Roles that exist only with the national scope: they act across agencies or judge them (a province
# must not review its own SIPAS responses nor appraise its own PAR Index), so no agency grants them.
NATIONAL_ONLY_ROLES = frozenset({"system_admin", "survey_manager", "reviewer", "appraiser"})


@dataclass(frozen=True)
class Permission:
    id: str
    description: str
    roles: frozenset[str]
    national_only: bool = False  # the resource has no agency: only a national grant reaches it


def _p(pid: str, description: str, roles: AbstractSet[str], national_only: bool = False) -> Permission:
    unknown = set(roles) - ROLE_IDS
    if unknown:
        raise ValueError(f"permission {pid} names unknown roles {sorted(unknown)}")
    return Permission(pid, description, frozenset(roles), national_only)


PERMISSIONS: dict[str, Permission] = {
    p.id: p
    for p in (
        _p("console.view", "Open the admin console and its dashboard", ROLE_IDS),
        _p("audit.read", "Read and export the audit log", {"system_admin"}, national_only=True),
        _p("report.request", "Ask for a results report to be built now", {"system_admin", "survey_manager", "analyst"}),
        _p(
            "results.read",
            "Read live results of a scope, with flagged responses",
            {"system_admin", "survey_manager", "reviewer", "analyst", "agency_admin"},
        ),
        # A survey belongs to an agency only when it is that agency's own ad hoc survey (kind adhoc,
        # owner_agency): an agency's editors reach those; national surveys need a national grant.
        _p(
            "survey.manage",
            "Create, version, publish, schedule and close surveys (an agency grant: the agency's own ad hoc surveys)",
            {"system_admin", "survey_manager", "agency_editor"},
        ),
        _p("response.review", "Review flagged responses and change their status", {"system_admin", "reviewer"}),
        _p("response.enter", "Enter paper and field responses", {"data_entry", "enumerator"}),
        _p(
            "paper.review",
            "See paper-entry batches and resolve double-entry mismatches (a third clerk, neither of the form's two)",
            {"system_admin", "survey_manager", "data_entry"},
        ),
        _p("microdata.read", "Export microdata of a scope", {"system_admin", "analyst"}),
        _p(
            "agency.manage",
            "Edit an agency and the origins its widgets may be embedded from",
            {"system_admin", "agency_admin"},
        ),
        _p("user.manage", "Grant and revoke roles", {"system_admin", "agency_admin"}),
        _p(
            "channel.print",
            "Print an agency's counter QR posters and copy its survey links",
            {"system_admin", "survey_manager", "agency_admin"},
        ),
        _p("content.edit", "Publish PAR articles and documents", {"system_admin", "agency_admin", "agency_editor"}),
        _p("qa.answer", "Answer citizens' questions", {"system_admin", "answerer"}),
        _p("par.appraise", "Appraise PAR Index self-assessments", {"system_admin", "appraiser"}),
        _p(
            "sampling.manage",
            "Upload sampling frames, draw and export direct surveys' household samples",
            {"system_admin", "survey_manager", "analyst"},
            national_only=True,
        ),
        # Direct surveys: a province's field manager (its agency administrator) assigns the province's
        # enumerators to villages of the sample; national survey managers reach every province.
        _p(
            "fieldwork.manage",
            "Assign enumerators to sampled villages and follow field progress (an agency grant: its province)",
            {"system_admin", "survey_manager", "agency_admin"},
        ),
        # Coding open answers: a code frame and its bulk rules cover every province's answers to a question.
        _p(
            "coding.manage",
            "Define code frames for open answers, code them in bulk and recode one (every change kept with who and why)",
            {"system_admin", "survey_manager", "analyst"},
            national_only=True,
        ),
        _p("field.collect", "Collect direct-survey interviews on a linked device (enumerators)", {"enumerator"}),
    )
}


@dataclass(frozen=True)
class Grant:
    role: str
    scope: str  # NATIONAL or an agency code


def allows(grants: tuple[Grant, ...], permission_id: str, agency: str | None) -> bool:
    """Whether any grant reaches this permission on this agency's resource (agency None: a national resource)."""
    permission = PERMISSIONS[permission_id]
    for grant in grants:
        if grant.role not in permission.roles:
            continue
        if grant.scope == NATIONAL:
            return True
        if not permission.national_only and agency is not None and grant.scope == agency:
            return True
    return False


def matrix_markdown() -> str:
    """docs/PERMISSIONS.md, generated: tests/unit/test_permissions.py fails when the file is stale."""
    lines = [
        "# Permission matrix",
        "",
        "Generated from `chalicelib/auth/permissions.py` (`python -m chalicelib.auth.permissions > docs/PERMISSIONS.md`).",
        "Every grant has a scope: **national** (reaches every agency) or **one agency** (reaches that agency's",
        "resources only). ✓ = the role may; ✓ᴺ = only with a national grant (the resource has no agency).",
        "",
        "| Permission | " + " | ".join(r.id for r in ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for p in PERMISSIONS.values():
        cells = [("✓ᴺ" if p.national_only else "✓") if r.id in p.roles else "" for r in ROLES]
        lines.append(f"| `{p.id}` — {p.description} | " + " | ".join(cells) + " |")
    lines += ["", "## Roles", ""] + [
        f"- `{r.id}`: {r.label_vi} / {r.label_en}" + (" — national scope only" if r.id in NATIONAL_ONLY_ROLES else "")
        for r in ROLES
    ]
    lines += [
        "",
        "## Granting roles",
        "",
        "- `user.manage` on a scope lets an administrator create the accounts of that scope and give them roles;",
        "  an agency administrator therefore manages their own agency's accounts only.",
        "- Roles marked *national scope only* are never granted with an agency scope, by anyone.",
        "- Nobody changes or disables their own account; another administrator must.",
        "- Every change is written to the audit log before it is made (a refused change adds a `.failed` entry).",
        "",
        "## Surveys",
        "",
        "- A survey belongs to an agency only when it is that agency's own ad hoc survey (`kind: adhoc`,",
        "  `owner_agency`). `survey.manage` with a national grant reaches every survey; an agency's editors",
        "  (`agency_editor`) create, edit, publish and close their own agency's ad hoc surveys only.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(matrix_markdown(), end="")
