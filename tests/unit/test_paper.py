"""Paper forms: double entry (agree, differ, resolve), the same clerk twice, imports all-or-nothing or partial."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.domain.audit import Actor
from chalicelib.domain.errors import BadQuery, InvalidSubmission
from chalicelib.domain.paper import (
    FormComplete,
    ImportRefused,
    PaperEntryService,
    ResolverIsClerk,
    SameClerk,
    paper_response_id,
)
from chalicelib.domain.submissions import IdentifierHasher
from tests.shared.fakes import FakeCatalog, FakePaperStore
from tests.shared.paper_forms import forms_csv, good_answers, paper_definition

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
ULID = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"


@dataclass(frozen=True)
class Clerk:
    sub: str
    name: str = "Cán bộ"
    agency: str = "P01"

    def actor(self, permission: str) -> Actor:
        return Actor(self.sub, self.name, "data_entry", self.agency)


class Recorder:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, Any]] = []

    def record(self, actor: Actor, action: str, target_type: str, target_id: str, before: Any, after: Any) -> None:
        self.entries.append((action, target_id, actor.sub))


A, B, C = Clerk("clerk-a"), Clerk("clerk-b"), Clerk("clerk-c")


@pytest.fixture
def world() -> tuple[PaperEntryService, FakePaperStore, Recorder]:
    store, audit = FakePaperStore(), Recorder()
    service = PaperEntryService(
        FakeCatalog(paper_definition()), store, audit, hasher=IdentifierHasher(b"k", "k1"), clock=lambda: NOW
    )
    service.open_batch(A, "P01", {"batch": "L001", "survey_id": "giay-2026", "survey_version": 1, "label": "Lô 1"})
    return service, store, audit


def enter(service: PaperEntryService, clerk: Clerk, number: str, answers: dict[str, Any]) -> dict[str, Any]:
    return service.enter(clerk, "P01", "L001", {"form_number": number, "answers": answers})


def test_two_equal_entries_by_two_clerks_create_one_paper_response(world):
    service, store, audit = world
    first = enter(service, A, "7", good_answers(7))
    assert first["state"] == "awaiting_second" and first["entry"] == 1 and not store.responses
    second = enter(service, B, "7", good_answers(7))
    assert second["state"] == "agreed" and second["entry"] == 2
    response = store.responses[second["response_id"]]
    assert response.channel == "paper" and response.province == "01" and response.agency == "P01"
    assert response.answers == {"c1": "3", "c2": 27, "c3": "yes", "c4": 70}  # typed as the survey says
    assert response.collection == {
        "kind": "paper",
        "form_number": "7",
        "batch": "L001",
        "clerks": ["clerk-a", "clerk-b"],
    }
    assert [a for a, *_ in audit.entries] == ["paper.batch_open", "paper.enter", "paper.enter"]


def test_different_entries_go_to_the_queue_and_a_third_clerk_resolves(world):
    service, store, audit = world
    enter(service, A, "8", good_answers(8))
    typo = {**good_answers(8), "c2": "82"}
    second = enter(service, B, "8", typo)
    assert second["state"] == "mismatch" and second["differences"] == ["c2"] and not store.responses
    queue = [f for f in service.batch_view("P01", "L001")["forms"] if f["state"] == "mismatch"]
    assert [f["form_number"] for f in queue] == ["8"]
    seen = service.form_view(C, "P01", "L001", "8")
    assert [e["answers"]["c2"] for e in seen["entries"]] == [28, 82] and seen["may_resolve"]
    with pytest.raises(ResolverIsClerk):
        service.resolve(B, "P01", "L001", "8", {"answers": good_answers(8)})
    done = service.resolve(C, "P01", "L001", "8", {"answers": good_answers(8)})
    assert done["state"] == "resolved"
    response = store.responses[done["response_id"]]
    assert response.answers["c2"] == 28
    assert response.collection["resolved_by"] == "clerk-c" and response.collection["clerks"] == ["clerk-a", "clerk-b"]
    assert audit.entries[-1][:2] == ("paper.resolve", "P01/L001/8")


def test_the_same_clerk_cannot_key_the_second_entry(world):
    service, store, _ = world
    enter(service, A, "9", good_answers(9))
    again = enter(service, A, "9", good_answers(9))  # a resend: nothing new
    assert again["entry"] == 0 and again["created"] is False
    with pytest.raises(SameClerk):
        enter(service, A, "9", {**good_answers(9), "c1": "2"})
    enter(service, B, "9", good_answers(9))
    with pytest.raises(FormComplete):
        enter(service, C, "9", good_answers(9))
    assert len(store.responses) == 1


def test_the_survey_rules_are_checked_per_question(world):
    service, _, _ = world
    with pytest.raises(InvalidSubmission) as caught:
        enter(service, A, "10", {"c1": "7", "c2": "130", "c3": "no", "c4": "5"})
    fields = {d["field"] for d in caught.value.details}
    assert {"/answers/c1", "/answers/c2", "/answers/c4"} <= fields  # not an option, above 99, hidden by c3
    with pytest.raises(InvalidSubmission) as caught:
        enter(service, A, "10", {"c1": "1", "c2": "hai mươi"})
    assert caught.value.field == "/answers/c2"
    with pytest.raises(BadQuery):
        enter(service, A, "số 10", good_answers(10))


def test_response_ids_are_ulids_derived_from_the_form():
    one = paper_response_id(1764489600000, "giay-2026", 1, "P01", "L001", "7")
    assert one == paper_response_id(1764489600000, "giay-2026", 1, "P01", "L001", "7")
    assert one != paper_response_id(1764489600000, "giay-2026", 1, "P01", "L001", "8")
    assert one != paper_response_id(1764489600000, "giay-2026", 1, "P01", "L002", "7")
    import re

    assert re.match(ULID, one)
    from ulid import ULID as Ulid

    assert Ulid.from_str(one).milliseconds == 1764489600000  # time-ordered by the batch's opening


def test_a_province_clerk_keys_forms_of_the_province_only(world):
    service, _, _ = world
    with pytest.raises(BadQuery):
        service.open_batch(A, "P01", {"batch": "L002", "survey_id": "giay-2026", "survey_version": 1, "province": "79"})


# --- import -------------------------------------------------------------------------------------------
def rows(*numbers: int) -> list[dict[str, str]]:
    return [{"form_number": str(n), **good_answers(n)} for n in numbers]


def test_an_import_with_one_bad_row_imports_nothing_and_names_row_column_reason(world):
    service, store, _ = world
    table = rows(1, 2, 3)
    table[1]["c1"] = "6"
    table[2]["c2"] = ""
    before = dict(store.items)
    with pytest.raises(ImportRefused) as caught:
        service.import_file(A, "P01", "L001", forms_csv(table), "lo1.csv")
    assert [(d["row"], d["column"]) for d in caught.value.details] == [(3, "c1"), (4, "c2")]
    assert all(d["message"] and d["message_en"] for d in caught.value.details)
    assert store.items == before  # nothing written


def test_a_partial_import_keeps_the_good_rows_and_reports_the_bad(world):
    service, _store, _ = world
    table = rows(1, 2, 3)
    table[1]["c1"] = "6"
    report = service.import_file(A, "P01", "L001", forms_csv(table), "lo1.csv", partial=True)
    assert report["imported"] == 2 and report["failed"] == 1 and report["errors"][0]["row"] == 3
    assert sorted(f["form_number"] for f in report["forms"]) == ["1", "3"]


def test_a_second_clerks_import_double_enters_and_a_reimport_counts_nothing_twice(world):
    service, store, _ = world
    service.import_file(A, "P01", "L001", forms_csv(rows(1, 2, 3)), "a.csv")
    table = rows(1, 2, 3)
    table[2]["c5"] = "Ghi khác"
    report = service.import_file(B, "P01", "L001", forms_csv(table), "b.csv")
    assert [f["state"] for f in report["forms"]] == ["agreed", "agreed", "mismatch"]
    assert len(store.responses) == 2
    again = service.import_file(B, "P01", "L001", forms_csv(table), "b.csv")  # the same file once more
    assert again["imported"] == 0 and again["unchanged"] == 3 and len(store.responses) == 2
    with pytest.raises(ImportRefused) as caught:  # the first clerk cannot be the second of her own forms
        service.import_file(A, "P01", "L001", forms_csv([*rows(4), {**rows(1)[0], "c1": "5"}]), "a2.csv")
    assert caught.value.details[0]["row"] == 3 and caught.value.details[0]["column"] == "form_number"


def test_an_xlsx_import_reads_cells_as_text_and_checks_the_header(world):
    from openpyxl import Workbook

    service, _store, _ = world
    book = Workbook()
    sheet = book.active
    sheet.append(["form_number", "c1", "c2", "c3", "c4", "cx"])
    sheet.append([11, 2, 31, "yes", 110, "?"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportRefused) as caught:
        service.import_file(A, "P01", "L001", buffer.getvalue(), "lo.xlsx")
    assert caught.value.details == [
        {
            "row": 1,
            "column": "cx",
            "message": "Phiếu không có câu hỏi mang mã này.",
            "message_en": "The survey has no question with this id.",
        }
    ]
    sheet.delete_cols(6)
    buffer = io.BytesIO()
    book.save(buffer)
    report = service.import_file(A, "P01", "L001", buffer.getvalue(), "lo.xlsx")
    assert report["imported"] == 1 and report["forms"][0]["form_number"] == "11"


def test_duplicate_form_numbers_in_a_file_are_refused(world):
    service, _, _ = world
    with pytest.raises(ImportRefused) as caught:
        service.import_file(A, "P01", "L001", forms_csv(rows(5, 5)), "dup.csv")
    assert caught.value.details[0]["row"] == 3 and "trùng" in caught.value.details[0]["message"]


def test_the_entry_screen_follows_the_paper_and_reads_back_what_it_shows():
    from chalicelib.domain.survey import Survey
    from chalicelib.web.paper_admin import entry_fields, from_form, keyed

    survey = Survey.from_definition(paper_definition())
    fields = entry_fields(survey)
    assert [f.number for f in fields] == ["c1", "c2", "c3", "c4", "c5"]
    assert [c for c, _ in fields[0].codes] == ["1", "2", "3", "4", "5", "9"]
    assert [c for c, _ in fields[2].codes] == ["1", "2"]  # printed Có / Không
    posted = {"a.c1": ["3"], "a.c2": ["45"], "a.c3": ["2"], "a.c5": [" "], "csrf": ["x"]}
    assert from_form(fields, posted) == {"c1": "3", "c2": "45", "c3": "no"}
    assert keyed(fields, {"c1": "3", "c2": 45, "c3": "no"}) == {"c1": "3", "c2": "45", "c3": "2"}


def test_a_yes_no_question_takes_its_printed_codes_in_a_file(world):
    service, store, _ = world
    table = [{"form_number": "21", "c1": "1", "c2": "30", "c3": "1", "c4": "5"}]
    service.import_file(A, "P01", "L001", forms_csv(table), "a.csv")
    report = service.import_file(B, "P01", "L001", forms_csv([{**table[0], "c3": "yes"}]), "b.csv")
    assert report["forms"][0]["state"] == "agreed"
    assert store.responses[report["forms"][0]["response_id"]].answers["c3"] == "yes"
