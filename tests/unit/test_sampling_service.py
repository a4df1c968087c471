"""The sampling service with fakes: frames checked and kept, draws reproducible and immutable, every write audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from itertools import count

import pytest

from chalicelib.auth.permissions import NATIONAL, Grant
from chalicelib.auth.principal import Principal
from chalicelib.domain.audit import AuditLog
from chalicelib.domain.errors import NotFound
from chalicelib.domain.sampling import InvalidSamplingDesign
from chalicelib.domain.sampling_frame import FrameError
from chalicelib.domain.sampling_service import SamplingService, sample_from_json, sample_to_json
from chalicelib.reference.geography import load_geography
from tests.shared.fakes import FakeAuditStore, FakeObjectStore
from tests.shared.sampling_frames import frame_csv, frame_rows

ANALYST = Principal("sub-phantich", "Phân tích", (Grant("analyst", NATIONAL),), username="phantich")
GEO = load_geography("vn-2025")
PROVINCES = [p.code for p in GEO.provinces[:2]]


def _service() -> tuple[SamplingService, FakeObjectStore, FakeAuditStore]:
    store, audit_store = FakeObjectStore(), FakeAuditStore()
    ids = count(1)
    service = SamplingService(
        store,
        AuditLog(audit_store, clock=lambda: datetime(2026, 6, 1, tzinfo=timezone.utc)),
        clock=lambda: datetime(2026, 6, 1, tzinfo=timezone.utc),
        new_id=lambda: f"ID{next(ids):024d}",
        new_seed=lambda: 4242,
    )
    return service, store, audit_store


@pytest.fixture(scope="module")
def frame_file() -> bytes:
    return frame_csv(frame_rows(GEO, seed=3, provinces=PROVINCES))


def test_upload_keeps_rows_original_and_index_and_audits(frame_file: bytes) -> None:
    service, store, audit = _service()
    summary = service.upload_frame(ANALYST, 2026, frame_file, "khung.csv")
    assert summary["provinces"] == 2 and summary["villages"] == len(frame_rows(GEO, 3, PROVINCES))
    base = f"sampling/2026/frames/{summary['frame_id']}/"
    assert store.get(base + "original.csv") == frame_file
    assert len(json.loads(store.get(base + "frame.json") or b"")["rows"]) == summary["villages"]
    assert service.overview(2026)["frames"] == [summary]
    [entry] = audit.chain()
    assert (entry.action, entry.target_type, entry.actor.role) == ("sampling.frame_upload", "sampling_frame", "analyst")


def test_bad_frame_is_refused_with_row_and_column_and_nothing_kept() -> None:
    service, store, audit = _service()
    rows = frame_rows(GEO, seed=3, provinces=PROVINCES[:1])
    rows[4][4] = "-3"
    with pytest.raises(FrameError) as caught:
        service.upload_frame(ANALYST, 2026, frame_csv(rows), "khung.csv")
    assert {"row": 6, "column": "households"}.items() <= caught.value.details[0].items()
    assert store.keys() == [] and audit.chain() == []


def test_draw_records_design_seed_units_and_csv_with_weights(frame_file: bytes) -> None:
    service, store, audit = _service()
    service.upload_frame(ANALYST, 2026, frame_file, "khung.csv")
    body = service.draw(ANALYST, 2026, {"communes": 3, "villages_per_commune": 2, "households_per_village": 5})
    assert body["seed"] == 4242 and body["provinces"] == PROVINCES
    assert body["communes"] == 6 and body["villages"] == 12 and body["households"] == 60
    for unit in body["units"]["households"]:
        assert unit["weight"] == pytest.approx(1 / unit["inclusion_probability"])
    text = (store.get(f"sampling/2026/samples/{body['sample_id']}/sample.csv") or b"").decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 1 + len(body["units"]["households"])
    assert [e.action for e in audit.chain()] == ["sampling.frame_upload", "sampling.draw"]
    assert audit.chain()[-1].after["design"]["households_per_village"] == 5
    assert service.sample(2026, body["sample_id"]) == json.loads(json.dumps(body))


def test_same_seed_same_sample_and_redraw_is_a_new_sample(frame_file: bytes) -> None:
    service, _, _ = _service()
    service.upload_frame(ANALYST, 2026, frame_file, "khung.csv")
    first = service.draw(ANALYST, 2026, {"communes": 2, "seed": 7})
    second = service.draw(ANALYST, 2026, {"communes": 2, "seed": 7})
    assert first["sample_id"] != second["sample_id"]
    assert first["units"] == second["units"]
    assert [s["sample_id"] for s in service.overview(2026)["samples"]] == [second["sample_id"], first["sample_id"]]
    assert service.sample(2026, first["sample_id"])["units"] == first["units"]


def test_national_total_is_allocated_and_households_per_province_give_communes(frame_file: bytes) -> None:
    service, _, _ = _service()
    service.upload_frame(ANALYST, 2026, frame_file, "khung.csv")
    national = service.draw(
        ANALYST, 2026, {"national_households": 200, "villages_per_commune": 2, "households_per_village": 10}
    )
    assert national["design"]["communes"] and sum(national["design"]["communes"].values()) >= 10
    per_province = service.draw(
        ANALYST, 2026, {"households": {PROVINCES[0]: 40}, "villages_per_commune": 2, "households_per_village": 10}
    )
    assert per_province["design"]["communes"] == {PROVINCES[0]: 2, PROVINCES[1]: 0}


def test_xlsx_export_rebuilds_the_stored_sample(frame_file: bytes) -> None:
    from openpyxl import load_workbook

    service, store, _ = _service()
    service.upload_frame(ANALYST, 2026, frame_file, "khung.csv")
    body = service.draw(ANALYST, 2026, {"communes": 2, "replacements": 2})
    assert sample_to_json(sample_from_json(body))["units"] == body["units"]
    data, media, name = service.export(2026, body["sample_id"], "xlsx")
    assert name.endswith(".xlsx") and "spreadsheetml" in media
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == 1 + len(body["units"]["households"])
    # kept after the first download: the second is the same bytes, read, not written again
    kept = f"sampling/2026/samples/{body['sample_id']}/sample.xlsx"
    assert store.get(kept) == data
    puts = store.calls["put"]
    assert service.export(2026, body["sample_id"], "xlsx")[0] == data and store.calls["put"] == puts


def test_refusals(frame_file: bytes) -> None:
    service, _, _ = _service()
    with pytest.raises(NotFound):
        service.draw(ANALYST, 2026, {"communes": 2})  # no frame yet
    service.upload_frame(ANALYST, 2026, frame_file, "khung.csv")
    with pytest.raises(InvalidSamplingDesign):
        service.draw(ANALYST, 2026, {"villages_per_commune": 2})  # no size
    with pytest.raises(InvalidSamplingDesign):
        service.draw(ANALYST, 2026, {"communes": 2, "provinces": ["99"]})
    with pytest.raises(InvalidSamplingDesign):
        service.draw(ANALYST, 2026, {"communes": 2, "certainty_communes": ["00000"]})
    with pytest.raises(InvalidSamplingDesign):
        service.draw(ANALYST, 2026, {"communes": 500, "villages_per_commune": 50, "households_per_village": 100})
    with pytest.raises(NotFound):
        service.draw(ANALYST, 2026, {"communes": 2, "frame_id": "nope"})
    with pytest.raises(NotFound):
        service.sample(2026, "ID" + "9" * 24)


def test_the_years_list_is_the_objects_themselves_so_concurrent_draws_keep_both(frame_file: bytes) -> None:
    service, store, _ = _service()
    frame = service.upload_frame(ANALYST, 2026, frame_file, "khung.csv")
    # two analysts' containers, each with the list as it was before the other's draw
    ids = count(100)
    other = SamplingService(
        store,
        AuditLog(FakeAuditStore(), clock=lambda: datetime(2026, 6, 1, tzinfo=timezone.utc)),
        new_id=lambda: f"ID{next(ids):024d}",
    )
    first = service.draw(ANALYST, 2026, {"communes": 1, "seed": 1})
    second = other.draw(ANALYST, 2026, {"communes": 1, "seed": 2})
    listed = [s["sample_id"] for s in service.overview(2026)["samples"]]
    assert listed == [second["sample_id"], first["sample_id"]]  # newest first, neither lost
    # a year kept by the earlier layout (one index.json) is still listed
    legacy = {"frames": [], "samples": [{"sample_id": "00000000000000000000000000", "households": 1}]}
    store.put("sampling/2026/index.json", json.dumps(legacy).encode(), "application/json")
    assert [s["sample_id"] for s in service.overview(2026)["samples"]][-1] == "00000000000000000000000000"
    assert service.overview(2026)["frames"] == [frame]
