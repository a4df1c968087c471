"""A stand-in for a province's web portal in `make run`: one page that embeds the survey widget.

It is served from http://localhost:<port>, a different origin from the API (127.0.0.1), and the
seed registers that origin for Hà Nội (P01), so a newcomer sees the widget framed where it is
allowed; the same page opened as http://127.0.0.1:<port> shows the browser refusing to frame it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

AGENCY = "P01"


def page(api_url: str, survey_id: str = "sipas-2026", agency: str = AGENCY) -> str:
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Cổng thông tin (minh họa)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem}}</style></head>
<body><h1>Cổng thông tin điện tử (trang minh họa của một tỉnh)</h1>
<p>Phiếu khảo sát bên dưới được nhúng bằng mã lấy từ trang quản trị của cơ quan {agency}.</p>
<div data-par-survey="{survey_id}" data-par-agency="{agency}"></div>
<script src="{api_url}/static/embed.js" async></script></body></html>"""


class DemoSite:
    def __init__(self, api_url: str, port: int = 0) -> None:
        body = page(api_url).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
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
    """Allow the demo site to frame the agency's widget, through the service (so it is audited)."""
    from datetime import datetime, timezone

    from chalicelib import wiring
    from chalicelib.domain.audit import Actor

    service = wiring.agency_service()
    current = service.settings(agency)
    if origin in current.embed_origins:
        return
    seed = Actor("local-seed", "Dữ liệu mẫu (make run)", "system_admin")
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    service.set_embed_origins(seed, agency, [*current.embed_origins, origin], current.version, at)
