"""Counting responses into aggregates (tổng hợp) as deltas: contribution(new image) − contribution(old image).

Inserts, screening, corrections and purges are then one rule. Counters are kept per survey version,
scope (national, province, commune — the sampling unit after 2025) and status, so results can be
shown with and without flagged responses. An aggregate item is (pk = survey#version#scope,
sk = status#page); a page holds at most PAGE_CELLS counters.

Attribution (where responses came from, chalicelib/domain/attribution.py) has its own aggregate key per
survey version, pk = survey#version#attr, so that no scope's pages change shape:

- sk = status#all: `n`, `ch:<channel>`, `ag:<agency>` (`ag:-` for responses without one). Channels are
  few and agencies a bounded reference list (~100), so one item holds them.
- sk = status#ag#<agency>: that agency's `n`, `ch:<channel>` and `loc:<location>` (`loc:-` without one).
  Location codes are open-ended but each agency keeps at most MAX_LOCATIONS (agencies.py) and a token
  names only a registered one, so an agency's item stays small; an agency official reads only its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from chalicelib.domain.responses import RECEIVED, SCREENED, Response, duration_bucket
from chalicelib.domain.survey import Survey

ItemKey = tuple[str, str]  # (pk, sk)
Counts = dict[str, int]
Delta = dict[ItemKey, Counts]

NATIONAL = "all"
ATTRIBUTION = "attr"  # the pk suffix of the attribution counters
NO_VALUE = "-"  # the cell of responses without an agency (ag:-) or a location (loc:-)
UNIT_PREFIX = "c"  # the commune: the sampling unit since the 2025 reform, with a reduced layout


def scopes_of(response: Response) -> list[str]:
    scopes = [NATIONAL, f"p{response.province}"]
    if response.commune:
        scopes.append(f"{UNIT_PREFIX}{response.commune}")
    return scopes


def aggregate_pk(survey_key: str, scope: str) -> str:
    return f"{survey_key}#{scope}"


def aggregate_sk(status: str, page: int) -> str:
    return f"{status}#{page:02d}"


def attribution_sk(status: str, agency: str | None = None) -> str:
    return f"{status}#ag#{agency}" if agency else f"{status}#{NATIONAL}"


def attribution_contribution(response: Response) -> Delta:
    """Counts by channel and agency (one item per status), and by channel and location within the agency."""
    pk = aggregate_pk(response.survey_key, ATTRIBUTION)
    channel = f"ch:{response.channel}"
    out: Delta = {(pk, attribution_sk(response.status)): {"n": 1, channel: 1, f"ag:{response.agency or NO_VALUE}": 1}}
    if response.agency:
        out[(pk, attribution_sk(response.status, response.agency))] = {
            "n": 1,
            channel: 1,
            f"loc:{response.location or NO_VALUE}": 1,
        }
    return out


def contribution(response: Response | None, survey: Survey | None) -> Delta:
    """What one response adds to the counters. Unscreened responses only count as 'received'."""
    if response is None or survey is None:
        return {}
    if response.status not in (RECEIVED, *SCREENED):
        return {}  # e.g. a withdrawn response: counted nowhere
    out: Delta = attribution_contribution(response) if response.attributed else {}
    if response.status == RECEIVED:
        # Pending work is watched nationally and per province; communes would triple the writes of inserts.
        for scope in scopes_of(response)[:2]:
            out[(aggregate_pk(response.survey_key, scope), aggregate_sk(RECEIVED, 0))] = {"n": 1}
        return out
    page_of = survey.page_of()
    cells: Counts = {"n": 1}
    for item in survey.items:
        if not item.counted or item.id not in response.answers:
            continue
        value = response.answers[item.id]
        if item.kind != "single":
            cells[item.id] = 1  # respondents who answered; a single choice's options add up to it
        choices = (
            [value] if item.kind == "single" else value if item.kind == "multi" and isinstance(value, list) else []
        )
        for choice in choices:
            key = f"{item.id}={choice}"
            if key in page_of:
                cells[key] = 1
    national_only: Counts = {}
    seconds = response.duration_seconds()
    if seconds is not None:
        national_only[f"_d{duration_bucket(seconds)}"] = 1
    unit_page_of = survey.page_of(unit=True)
    for scope in scopes_of(response):
        pk = aggregate_pk(response.survey_key, scope)
        if scope.startswith(UNIT_PREFIX):
            scoped, pages = {c: v for c, v in cells.items() if c in unit_page_of}, unit_page_of
        else:
            scoped, pages = ({**cells, **national_only} if scope == NATIONAL else cells), page_of
        for cell, count in scoped.items():
            out.setdefault((pk, aggregate_sk(response.status, pages[cell])), {})[cell] = count
    return out


def delta(new: Delta, old: Delta) -> Delta:
    """new − old, dropping zeros: a MODIFY that changes nothing counted yields no write."""
    out: Delta = {}
    for key in set(new) | set(old):
        n, o = new.get(key, {}), old.get(key, {})
        cells = {c: n.get(c, 0) - o.get(c, 0) for c in set(n) | set(o)}
        cells = {c: v for c, v in cells.items() if v}
        if cells:
            out[key] = cells
    return out


def merge(deltas: Iterable[Delta]) -> Delta:
    """Sum the deltas of a batch so each aggregate item is written once per batch."""
    total: dict[ItemKey, dict[str, int]] = defaultdict(dict)
    for d in deltas:
        for key, cells in d.items():
            target = total[key]
            for cell, value in cells.items():
                target[cell] = target.get(cell, 0) + value
    return {k: {c: v for c, v in cells.items() if v} for k, cells in total.items() if any(cells.values())}
