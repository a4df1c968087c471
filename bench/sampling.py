"""A national household sample (34 provinces) from a realistic frame: timing and sizes.

python -m bench.sampling    # one JSON line (also python -m bench.run sampling); copy it into bench/RESULTS.md

The frame is tests/shared/sampling_frames.py's (every vn-2025 commune, 5–30 villages each, lognormal
household counts): ~46,000 villages, about what a national frame of thôn/tổ dân phố looks like.
"""

from __future__ import annotations

import json
import time
from statistics import median
from typing import Any


def bench_sampling(runs: int = 5) -> dict[str, Any]:
    from chalicelib.domain.sampling import Design, design_size, draw_sample
    from chalicelib.domain.sampling_export import sample_csv, sample_xlsx
    from chalicelib.domain.sampling_frame import read_frame
    from chalicelib.reference.geography import load_geography
    from tests.shared.sampling_frames import frame_csv, frame_rows, frame_xlsx

    geography = load_geography("vn-2025")
    rows = frame_rows(geography, seed=1)
    csv_bytes, xlsx_bytes = frame_csv(rows), frame_xlsx(rows)  # type: ignore[arg-type]

    def timed(call: Any) -> tuple[float, Any]:
        times, result = [], None
        for _ in range(runs):
            start = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - start)
        return median(times) * 1000, result

    read_csv_ms, frame = timed(lambda: read_frame(csv_bytes, "frame.csv", geography))
    read_xlsx_ms, _ = timed(lambda: read_frame(xlsx_bytes, "frame.xlsx", geography))
    # SIPAS-like: deff 1.5, 80 % response → households to approach per province; 2 villages × 10 households
    per_province = design_size(1.5, response_rate=0.8)
    communes = Design.communes_for(per_province, 2, 10)
    seats = frozenset(p.communes[0].code for p in geography.provinces)  # stand-in for the provincial seats
    design = Design(
        communes=communes, villages_per_commune=2, households_per_village=10, replacements=5, certainty_communes=seats
    )
    draw_ms, sample = timed(lambda: draw_sample(frame, design, seed=2026))
    csv_ms, out_csv = timed(lambda: sample_csv(sample))
    xlsx_ms, out_xlsx = timed(lambda: sample_xlsx(sample))
    weights = [h.weight for h in sample.main_households]
    return {
        "benchmark": "sampling",
        "frame_villages": len(frame.villages),
        "frame_csv_bytes": len(csv_bytes),
        "frame_xlsx_bytes": len(xlsx_bytes),
        "read_csv_ms": round(read_csv_ms, 1),
        "read_xlsx_ms": round(read_xlsx_ms, 1),
        "households_per_province": per_province,
        "communes_per_province": communes,
        "provinces": len(frame.province_codes()),
        "communes_drawn": len(sample.communes),
        "certainty_communes": sum(c.certainty for c in sample.communes),
        "villages_drawn": len(sample.villages),
        "household_slots": len(sample.households),
        "main_households": len(weights),
        "weight_min": round(min(weights), 1),
        "weight_max": round(max(weights), 1),
        "draw_ms": round(draw_ms, 1),
        "export_csv_ms": round(csv_ms, 1),
        "export_csv_bytes": len(out_csv),
        "export_xlsx_ms": round(xlsx_ms, 1),
        "export_xlsx_bytes": len(out_xlsx),
    }


if __name__ == "__main__":
    print(json.dumps(bench_sampling()))
