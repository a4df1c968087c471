"""An agency's locations (service counters, offices, web pages) edited from the console; the officials' API
edits them with the agency settings (PUT /admin/api/agencies/{agency}/settings)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import redirect
from chalicelib.api.operations import console
from chalicelib.api.params import AGENCY

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

    Form = dict[str, list[str]]

location_pages = Blueprint(__name__)
ANY = ["*/*"]


@location_pages.route("/admin/agencies/{agency}/locations", methods=["POST"], content_types=ANY)
@console(
    "adminAgencyLocations",
    "Save the agency's locations (one a line: code | name | kind | service)",
    "agency.manage",
    agency_param="agency",
    params=(AGENCY,),
    form=True,
)
def admin_agency_locations(principal: Principal, token: str, form: Form, agency: str) -> Any:
    from chalicelib import wiring
    from chalicelib.api.console import _agency_page, _version
    from chalicelib.api.guard import form_field
    from chalicelib.domain.agencies import parse_location_lines
    from chalicelib.domain.clock import stamp
    from chalicelib.domain.errors import DomainError

    text, version = form_field(form, "locations"), form_field(form, "version")
    try:
        actor = principal.actor("agency.manage")
        rows = parse_location_lines(text)
        wiring.agency_service().set_locations(actor, agency, rows, _version(version), stamp())
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        return _agency_page(principal, token, agency, error=exc, draft_locations=text), exc.status
    return redirect(f"/admin/agencies/{agency}?saved=1#locations", after_post=True)
