"""The API and the pages (AWS Chalice): the app object, its settings and one blueprint per feature area.

Routes live with their area in chalicelib/api/ (see docs/ARCHITECTURE.md); each is declared once with
its contract (chalicelib/api/operations.py), which also generates the OpenAPI document.
"""

from __future__ import annotations

from chalice import Chalice

from chalicelib.api import request
from chalicelib.api.authoring import XLSX, authoring_api
from chalicelib.api.authoring_pages import authoring_pages
from chalicelib.api.citizen import citizen_pages
from chalicelib.api.console import console_pages
from chalicelib.api.officials import officials_api
from chalicelib.api.public import public_api

app = Chalice(app_name="par-platform")
# Pages and JSON are text (API Gateway must not base64-encode them); an XLSForm workbook, sent or served,
# and the console's multipart upload form are binary.
app.api.binary_types = [XLSX, "multipart/form-data"]
request.bind(app)

app.register_blueprint(public_api)  # surveys, submissions, results, places, agencies, my response
app.register_blueprint(citizen_pages)  # portal, survey form and widget, results, reports, my response
app.register_blueprint(officials_api)  # bearer-token API of officials
app.register_blueprint(console_pages)  # the officials' console (session cookie)
app.register_blueprint(authoring_api)  # officials' survey authoring: versions, drafts, publishing, XLSForm
app.register_blueprint(authoring_pages)  # the console's survey pages: list, versions, preview, XLSForm upload
