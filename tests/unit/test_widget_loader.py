"""The widget loader that agencies' pages download stays within the issue's budget: 10 KB gzipped."""

from __future__ import annotations

from bench.widget_size import BUDGET_GZIP, sizes


def test_the_loader_is_at_most_10_kb_gzipped() -> None:
    assert sizes("embed.js")["gzip"] <= BUDGET_GZIP  # the figures: python -m bench.widget_size, bench/RESULTS.md
