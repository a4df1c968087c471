"""The API and the pages (AWS Chalice): the app object, its settings and one blueprint per feature area.

Routes live with their area in chalicelib/api/ (see docs/ARCHITECTURE.md); each is declared once with
its contract (chalicelib/api/operations.py), which also generates the OpenAPI document.
"""

from __future__ import annotations

from chalice import Chalice

from chalicelib.api import request
from chalicelib.api.authoring import XLSX, authoring_api
from chalicelib.api.authoring_pages import authoring_pages
from chalicelib.api.channels import channel_pages
from chalicelib.api.citizen import citizen_pages
from chalicelib.api.console import console_pages
from chalicelib.api.field_app import field_app
from chalicelib.api.field_quality import field_quality_api
from chalicelib.api.field_quality_pages import field_quality_pages
from chalicelib.api.fieldwork import fieldwork_api
from chalicelib.api.fieldwork_pages import fieldwork_pages
from chalicelib.api.locations import location_pages
from chalicelib.api.officials import officials_api
from chalicelib.api.paper import paper_api
from chalicelib.api.paper_pages import paper_pages
from chalicelib.api.public import public_api
from chalicelib.api.sampling import sampling_api
from chalicelib.api.sampling_pages import sampling_pages

app = Chalice(app_name="par-platform")
# Binary (base64 in the proxy event and response): the share channels' pictures and posters, an XLSForm
# workbook sent or served, and the console's multipart upload form. Every page and JSON answer stays text,
# so API Gateway never base64-encodes them.
app.api.binary_types = ["image/png", "application/pdf", XLSX, "multipart/form-data"]
request.bind(app)

app.register_blueprint(public_api)  # surveys, submissions, results, places, agencies, my response
app.register_blueprint(citizen_pages)  # portal, survey form and widget, results, reports, my response
app.register_blueprint(officials_api)  # bearer-token API of officials
app.register_blueprint(console_pages)  # the officials' console (session cookie)
app.register_blueprint(authoring_api)  # officials' survey authoring: versions, drafts, publishing, XLSForm
app.register_blueprint(authoring_pages)  # the console's survey pages: list, versions, preview, XLSForm upload
app.register_blueprint(location_pages)  # agencies' counters, offices and pages (console edits)
app.register_blueprint(channel_pages)  # QR codes, counters' posters, share cards
app.register_blueprint(sampling_api)  # direct surveys' sampling: frames, draws, exports (officials' API)
app.register_blueprint(sampling_pages)  # the console's sampling page
app.register_blueprint(paper_api)  # clerks' paper-form entry: batches, double entry, resolve, import (officials' API)
app.register_blueprint(paper_pages)  # the console's paper-entry screens
app.register_blueprint(fieldwork_api)  # direct surveys in the field: assignments, progress, the devices' API
app.register_blueprint(fieldwork_pages)  # the console's fieldwork page: progress and assignments
app.register_blueprint(field_app)  # the enumerators' offline field app: shell, worker, manifest, device linking
app.register_blueprint(field_quality_api)  # re-checks (phúc tra), enumerators' risk, coding of open answers
app.register_blueprint(field_quality_pages)  # the console's risk / re-check page and coding page
