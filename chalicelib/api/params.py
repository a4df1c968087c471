"""Parameters shared by several routes, each with the schema that both documents and checks it."""

from __future__ import annotations

from chalicelib.api.operations import Param

SURVEY_ID = Param(
    "survey_id", "path", "Survey id, e.g. sipas-2026", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{2,62}$"}
)
VERSION = Param(
    "version",
    "query",
    "A survey version, 1-9 digits (default: the current one)",
    {"type": "string", "pattern": "^[0-9]{1,9}$"},
)
SCOPE = Param(
    "scope",
    "query",
    "all, p<province code> (p01) or c<commune code> (c00004)",
    {"type": "string", "pattern": "^(all|p[0-9]{2}|c[0-9]{5})$"},
)
INCLUDE_FLAGGED = Param(
    "include_flagged", "query", "Count flagged responses too", {"type": "string", "enum": ["0", "1", "true", "false"]}
)
GEOGRAPHY = Param("geography", "query", "Reference-data version", {"type": "string", "enum": ["vn-2025"]})
RECEIPT = Param(
    "receipt",
    "path",
    "Receipt code (the response's ULID, 26 characters)",
    {"type": "string"},  # a code of another shape is simply not found (404, with how to read the code)
)
AGENCY = Param(
    "agency",
    "path",
    "Agency code: P + province code (P01 Hà Nội) or M- + ministry (M-BNV); 'national' for the Ministry's own",
    {"type": "string", "pattern": "^(national|P[0-9]{2}|M-[A-Z]{2,12})$"},
)
USERNAME = Param("username", "path", "Account username", {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{2,63}$"})
EMBED = Param("embed", "query", "Render for an iframe widget", {"type": "string", "enum": ["0", "1"]})
EMBED_AGENCY = Param(
    "agency",
    "query",
    "The agency whose site embeds the widget",
    {"type": "string", "pattern": "^(P[0-9]{2}|M-[A-Z]{2,12})$"},
)
SAVED = Param("saved", "query", "1 after a change was saved (shows a notice)", {"type": "string", "enum": ["1"]})
FROM_SEQ = Param(
    "from_seq", "query", "First sequence number (default 1)", {"type": "string", "pattern": "^[0-9]{1,12}$"}
)
LOCATION = Param(
    "location",
    "query",
    "One of the agency's location codes (service counter, office, web page); recorded only if it is the agency's",
    {"type": "string", "pattern": "^[A-Za-z0-9-]{1,32}$"},
)
SERVICE = Param(
    "service",
    "query",
    "The public service or procedure (its code), e.g. 1.001234; default: the location's own",
    {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"},
)
VIA = Param(
    "via",
    "query",
    "How the citizen reached the form: link, qr (a printed code) or widget (embed=1 implies widget)",
    {"type": "string", "enum": ["link", "qr", "widget"]},
)
