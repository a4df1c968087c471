"""Page weight of the SIPAS form's first load: what a phone downloads, gzipped, and how much of it is the survey's text.

python -m bench.page_weight

The budget (README, docs/...): under 60 KB transferred on first load, excluding the survey's own text.
The first load is the form's HTML and everything it loads: site.css and form.js (the icon is a data: URL;
the commune list is fetched only when a province is chosen, so it is reported apart). The survey's own
text is measured as the difference between the page and the same page rendered from a copy of the
definition whose every text is empty, both gzipped: what the survey's wording adds to the transfer.
"""

from __future__ import annotations

import copy
import gzip
import json
import platform
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIPAS = ROOT / "infra" / "local" / "seed" / "sipas-2026.xlsx"
BUDGET = 60 * 1024
TEXT_KEYS = ("title", "description", "text", "help", "intro", "label", "constraint_message", "topic")


def gz(data: bytes) -> int:
    """Bytes on the wire with gzip at level 6 (what API Gateway and CloudFront send a browser asking for it)."""
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def without_text(node: Any) -> Any:
    """The definition with every citizen-facing text emptied (ids, values and conditions kept)."""
    if isinstance(node, dict):
        return {
            k: (dict.fromkeys(v, "") if k in TEXT_KEYS and isinstance(v, dict) else without_text(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [without_text(v) for v in node]
    return node


def form_html(definition: dict[str, Any]) -> bytes:
    from chalicelib.domain.survey import Survey
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.pages import render_survey_form

    survey = Survey.from_definition(definition)
    page = render_survey_form(
        survey, load_geography(survey.geography), response_id="01JXQ8Z3M4N5P6Q7R8S9T0V1W2", started_at="x"
    )
    return page.encode("utf-8")


def measure() -> dict[str, Any]:
    from chalicelib.web.pages import STATIC_DIR
    from infra.local.seed import load_survey

    definition = load_survey(SIPAS)
    html = form_html(copy.deepcopy(definition))
    bare = form_html(without_text(definition))
    assets = sorted(set(re.findall(r'(?:src|href)="/static/([\w.-]+)\?v=', html.decode("utf-8"))))
    files = {name: (STATIC_DIR / name).read_bytes() for name in assets}
    from chalicelib.reference.geography import load_geography

    hanoi = load_geography("vn-2025").communes_of("01")
    communes = json.dumps({"communes": [{"code": c.code, "name": c.name} for c in hanoi]}, ensure_ascii=False)
    transferred = gz(html) + sum(gz(b) for b in files.values())
    survey_text = gz(html) - gz(bare)
    return {
        "benchmark": "page_weight",
        "date": datetime.now(timezone.utc).date().isoformat(),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "html_bytes": len(html),
        "html_gzip": gz(html),
        "assets": {name: {"bytes": len(b), "gzip": gz(b)} for name, b in files.items()},
        "first_load_gzip": transferred,
        "survey_text_gzip": survey_text,
        "budgeted_gzip": transferred - survey_text,
        "budget": BUDGET,
        "within_budget": transferred - survey_text < BUDGET,
        "later_communes_of_ha_noi_gzip": gz(communes.encode("utf-8")),  # on choosing a province, not first load
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    result = measure()
    print(json.dumps(result, ensure_ascii=False))
    kb = 1024
    print(
        f"SIPAS form, first load: {result['first_load_gzip'] / kb:.1f} KB gzipped "
        f"(HTML {result['html_gzip'] / kb:.1f} KB of {result['html_bytes'] / kb:.1f} KB; "
        + ", ".join(f"{n} {a['gzip'] / kb:.1f} KB" for n, a in result["assets"].items())
        + f"); the survey's own text {result['survey_text_gzip'] / kb:.1f} KB; "
        f"budgeted part {result['budgeted_gzip'] / kb:.1f} KB of {BUDGET / kb:.0f} KB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
