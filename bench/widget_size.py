"""Size of the widget's loader as agencies' pages download it: raw and gzipped (budget: 10 KB gzipped).

python -m bench.widget_size    # one JSON line (also python -m bench.run loader); copy it into bench/RESULTS.md

Also frame.js, which the widget page loads inside the iframe (on the platform's origin, not the host's).
Gzip level 9, as a CDN or API Gateway's compression would roughly do; brotli would be smaller still.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "chalicelib" / "web" / "static"
BUDGET_GZIP = 10 * 1024


def sizes(name: str) -> dict[str, int]:
    raw = (STATIC / name).read_bytes()
    return {"raw": len(raw), "gzip": len(gzip.compress(raw, compresslevel=9, mtime=0))}


def main() -> None:
    loader = sizes("embed.js")
    figures = {
        "benchmark": "widget_size",
        "embed.js": loader,
        "frame.js": sizes("frame.js"),
        "budget_gzip": BUDGET_GZIP,
        "within_budget": loader["gzip"] <= BUDGET_GZIP,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
