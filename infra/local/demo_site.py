"""A stand-in for a province's web portal in `make run`: pages that embed the survey widget, in both modes.

It is served from http://localhost:<port>, a different origin from the API (127.0.0.1), and the
seed registers that origin for Hà Nội (P01), so a newcomer sees the widget framed where it is
allowed; the same pages opened as http://127.0.0.1:<port> show the browser refusing to frame it.

- `/`        the portal: a quick prompt for the page (location WEB-DVC) and the whole form inline;
- `/quay-3`  the tablet at service counter 3 (location MOTCUA-Q03): the prompt alone.
Both locations are in P01's registry (seeded by `register`).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

AGENCY = "P01"
SURVEY = "sipas-2026"
# The item the quick answer pre-fills. SIPAS 2026 has no single "overall" item; the counter's prompt fills in
# the officials' courtesy (Câu 9, Phần II), which the citizen sees and may change in the form.
QUESTION = "q9_23"
LOCATIONS = (
    {"code": "WEB-DVC", "name": "Cổng dịch vụ công của thành phố (trang chủ)", "kind": "page", "service": None},
    {
        "code": "MOTCUA-Q03",
        "name": "Bộ phận Một cửa — Quầy số 3",
        "kind": "counter",
        "service": "Cấp giấy phép xây dựng",
    },
)

_HEAD = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><link rel="icon" href="data:,">
<style>body{{font-family:Georgia,serif;max-width:60rem;margin:0 auto;padding:1rem;color:#222}}
h1{{font-size:1.6rem}} .site-button{{background:#8b0000;color:#fff;border:0;padding:.5rem 1rem}}</style></head><body>
<header><p><a href="/">Trang chủ</a> · <a href="/quay-3">Máy tính bảng tại Quầy số 3</a></p></header><main>"""


def page(api_url: str, survey_id: str = SURVEY, agency: str = AGENCY, question: str = QUESTION) -> str:
    """The portal: the prompt for this page, then the full form inline."""
    return (
        _HEAD.format(title="Cổng thông tin (minh họa)")
        + f"""<h1>Cổng thông tin điện tử (trang minh họa của một tỉnh)</h1>
<p>Các phiếu khảo sát bên dưới được nhúng bằng mã lấy từ trang quản trị của cơ quan {agency}.</p>
<h2>Đánh giá nhanh</h2>
<div data-par-survey="{survey_id}" data-par-agency="{agency}" data-par-mode="prompt"
 data-par-location="{LOCATIONS[0]["code"]}" data-par-question="{question}"></div>
<h2>Phiếu khảo sát đầy đủ</h2>
<div data-par-survey="{survey_id}" data-par-agency="{agency}" data-par-location="{LOCATIONS[0]["code"]}"></div>
<p><button type="button" class="site-button">Nút của trang chủ</button></p>
</main><script src="{api_url}/static/embed.js" async></script></body></html>"""
    )


def counter_page(api_url: str, survey_id: str = SURVEY, agency: str = AGENCY, question: str = QUESTION) -> str:
    """The tablet at a service counter: the prompt alone, attributed to the counter."""
    return (
        _HEAD.format(title="Quầy số 3 — Bộ phận Một cửa (minh họa)")
        + f"""<h1>Bộ phận Một cửa — Quầy số 3</h1>
<p>Cảm ơn Ông/Bà đã đến làm thủ tục. Xin dành một phút đánh giá sự phục vụ.</p>
<div data-par-survey="{survey_id}" data-par-agency="{agency}" data-par-mode="prompt"
 data-par-location="{LOCATIONS[1]["code"]}" data-par-question="{question}"></div>
</main><script src="{api_url}/static/embed.js" async></script></body></html>"""
    )


class DemoSite:
    def __init__(self, api_url: str, port: int = 0, survey_id: str = SURVEY, question: str = QUESTION) -> None:
        pages = {
            "/": page(api_url, survey_id, question=question).encode(),
            "/quay-3": counter_page(api_url, survey_id, question=question).encode(),
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                body = body or "Không tìm thấy trang.".encode()
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.origin = f"http://localhost:{self.port}"
        threading.Thread(target=self._server.serve_forever, name="demo-site", daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def register(origin: str, agency: str = AGENCY) -> None:
    """Allow the demo site to frame the agency's widget and register its two locations, through the service
    (so it is audited); what is already there is kept."""
    from datetime import datetime, timezone

    from chalicelib import wiring
    from chalicelib.domain.audit import Actor

    service = wiring.agency_service()
    current = service.settings(agency)
    known = {loc.code for loc in current.locations}
    missing = [loc for loc in LOCATIONS if loc["code"] not in known]
    if origin in current.embed_origins and not missing:
        return
    seed = Actor("local-seed", "Dữ liệu mẫu (make run)", "system_admin")
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    origins = list(current.embed_origins) + ([] if origin in current.embed_origins else [origin])
    locations = [loc.to_dict() for loc in current.locations] + missing
    service.save(seed, agency, current.version, at, origins=origins, locations=locations)
