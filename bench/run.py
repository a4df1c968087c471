"""Benchmarks of issue 2: prints its figures (copy them into bench/RESULTS.md with the machine and date).

python -m bench.run            # all
python -m bench.run edge cold  # some: requests, edge, cold, latency, widget, journal, page, loader, sampling
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIPAS = ROOT / "infra" / "local" / "seed" / "sipas-2026.xlsx"


def _definition() -> dict[str, Any]:
    from infra.local.seed import load_survey

    return load_survey(SIPAS)


def _submissions(n: int, seed: int) -> list[dict[str, Any]]:
    from chalicelib.reference.geography import load_geography
    from infra.local.seed.responses import generate_submissions

    return generate_submissions(_definition(), load_geography("vn-2025"), n, seed=seed, now=datetime.now(timezone.utc))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class AwsCalls:
    """Counts AWS API calls per (service, operation) at botocore's API-call layer, from every client in the process."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.items: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._threads: set[int] | None = None

    @contextmanager
    def watching(self, only_this_thread: bool = False) -> Iterator[AwsCalls]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        me = threading.get_ident()
        counter = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if not only_this_thread or threading.get_ident() == me:
                with counter._lock:
                    counter.counts[(client.meta.service_model.service_name, operation)] += 1
                    if operation == "TransactWriteItems":
                        counter.items["transaction_items"] += len(params.get("TransactItems", []))
            return original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    def total(self, service: str, operations: set[str]) -> int:
        return sum(n for (s, op), n in self.counts.items() if s == service and op in operations)


DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DDB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


@contextmanager
def _stack(journal: bool = True) -> Iterator[Any]:
    from chalicelib import wiring
    from chalicelib.admin import publish_survey
    from infra.local.stack import LocalStack

    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(state_dir=Path(state), journal=journal)
        stack.start()
        wiring.reset()
        try:
            stack.start_api()
            publish_survey(_definition())
            yield stack
        finally:
            stack.stop()
            wiring.reset()


def bench_requests_and_aggregation(n: int = 1000) -> dict[str, Any]:
    """DynamoDB requests per accepted submission (sync path) and aggregation writes per response at batch 100."""
    import requests

    out: dict[str, Any] = {}
    with _stack() as stack:
        subs = _submissions(n + 5, seed=101)
        session = requests.Session()
        url = f"{stack.api_url}/surveys/sipas-2026/responses"
        for s in subs[:5]:  # warm: the survey definition is cached after the first request
            session.post(url, json=s, timeout=30)
        calls = AwsCalls()
        with calls.watching():
            for s in subs[5:]:
                assert session.post(url, json=s, timeout=30).status_code == 201
        out["submissions"] = n
        out["ddb_writes_per_submission"] = calls.total("dynamodb", DDB_WRITES) / n
        out["ddb_reads_per_submission"] = calls.total("dynamodb", DDB_READS) / n
        stack.drain(timeout=600)  # screen and aggregate everything so far, unmeasured
        # Aggregation at batch size 100: the records of n fresh responses, insert and screening.
        before_calls = AwsCalls()
        spec = stack.functions["AggregateFunction"]
        original = stack.call

        def measured(call_spec: Any, event: Any) -> Any:
            if call_spec.logical_id != spec.logical_id:
                return original(call_spec, event)
            with before_calls.watching(only_this_thread=True):
                return original(call_spec, event)

        stack.call = measured  # type: ignore[method-assign]
        try:
            more = _submissions(n, seed=202)
            for s in more:
                assert session.post(url, json=s, timeout=30).status_code == 201
            started = time.perf_counter()
            stack.drain(timeout=900)
            elapsed = time.perf_counter() - started
        finally:
            stack.call = original  # type: ignore[method-assign]
        writes = before_calls.total("dynamodb", DDB_WRITES)
        out["aggregation_write_requests_per_response"] = writes / n
        out["aggregation_transaction_items_per_response"] = before_calls.items["transaction_items"] / n
        out["aggregation_reads_per_response"] = before_calls.total("dynamodb", DDB_READS) / n
        out["drain_seconds_for_batch_of_responses"] = round(elapsed, 2)
        out["batch_size"] = spec.streams[0].batch_size if getattr(spec, "streams", None) else 100
    return out


def bench_edge_cpu(n: int = 2000) -> dict[str, Any]:
    """CPU time of the edge per 60-answer SIPAS submission, in-process, store excluded (an in-memory twin)."""
    from chalice.test import Client

    import app as app_module
    from chalicelib import wiring
    from chalicelib.domain.submissions import ClientInfo, IdentifierHasher, SubmissionService
    from tests.shared.fakes import AllLocations, FakeCatalog, FakeResponseStore

    definition = _definition()
    subs = _submissions(n + 50, seed=303)
    answers = statistics.mean(len(s["answers"]) for s in subs)
    service = SubmissionService(
        FakeCatalog(definition), FakeResponseStore(), AllLocations(), IdentifierHasher(b"k" * 32, "k1")
    )
    bodies = [json.dumps(s).encode() for s in subs]
    for body in bodies[:50]:
        service.submit("sipas-2026", service.parse_body(body, "application/json"), ClientInfo("198.51.100.1", "bench"))
    service_ns = []
    for body in bodies[50:]:
        t = time.process_time_ns()
        service.submit("sipas-2026", service.parse_body(body, "application/json"), ClientInfo("198.51.100.1", "bench"))
        service_ns.append(time.process_time_ns() - t)
    # The same through Chalice's routing and our error mapping (what a warm Lambda runs), store still in memory.
    wiring.submission_service.cache_clear()
    fresh = SubmissionService(
        FakeCatalog(definition), FakeResponseStore(), AllLocations(), IdentifierHasher(b"k" * 32, "k1")
    )
    original = wiring.submission_service
    wiring.submission_service = lambda: fresh  # type: ignore[assignment]
    route_ns = []
    try:
        with Client(app_module.app) as client:
            for i, body in enumerate(bodies):
                t = time.process_time_ns()
                response = client.http.post(
                    "/surveys/sipas-2026/responses", body=body, headers={"content-type": "application/json"}
                )
                if i >= 50:
                    route_ns.append(time.process_time_ns() - t)
                assert response.status_code == 201
    finally:
        wiring.submission_service = original  # type: ignore[assignment]
    return {
        "answers_per_submission": round(answers, 1),
        "service_cpu_ms_p50": round(_pct(service_ns, 0.5) / 1e6, 3),
        "service_cpu_ms_p99": round(_pct(service_ns, 0.99) / 1e6, 3),
        "route_cpu_ms_p50": round(_pct(route_ns, 0.5) / 1e6, 3),
        "route_cpu_ms_p99": round(_pct(route_ns, 0.99) / 1e6, 3),
    }


def bench_cold_import(runs: int = 15) -> dict[str, Any]:
    """Cold import of app.py against a bare Chalice app, each in a fresh interpreter."""
    probe = (
        "import sys, time; t = time.perf_counter(); {stmt}; d = time.perf_counter() - t; "
        "print(d, int('pandas' in sys.modules), int('jinja2' in sys.modules), int('boto3' in sys.modules))"
    )
    env = {"PYTHONDONTWRITEBYTECODE": "0", "PATH": "/usr/bin:/bin"}

    def measure(stmt: str) -> tuple[list[float], list[str]]:
        times, flags = [], []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", probe.format(stmt=stmt)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            value, *rest = out.stdout.split()
            times.append(float(value))
            flags = rest
        return times, flags

    measure("import app")  # compile the .pyc files once
    app_times, flags = measure("import app")
    bare_times, _ = measure("from chalice import Chalice; Chalice(app_name='bare')")
    app_ms, bare_ms = statistics.median(app_times) * 1000, statistics.median(bare_times) * 1000
    return {
        "app_import_ms_median": round(app_ms, 1),
        "bare_chalice_import_ms_median": round(bare_ms, 1),
        "ratio": round(app_ms / bare_ms, 2),
        "pandas_imported": bool(int(flags[0])),
        "jinja2_imported": bool(int(flags[1])),
        "boto3_imported": bool(int(flags[2])),
    }


def bench_latency(samples: int = 40) -> dict[str, Any]:
    """Submit -> visible in live results on the local stack with its background workers (poll interval as `make run`)."""
    import requests

    latencies = []
    with _stack() as stack:
        stack.start_workers()
        session = requests.Session()
        base = f"{stack.api_url}/surveys/sipas-2026"
        for s in _submissions(samples, seed=404):
            before = session.get(f"{base}/results?include_flagged=1", timeout=30).json()["counts"]
            seen_before = before["accepted"] + before["flagged"] + before["rejected"]
            t = time.perf_counter()
            assert session.post(f"{base}/responses", json=s, timeout=30).status_code == 201
            while True:
                counts = session.get(f"{base}/results?include_flagged=1", timeout=30).json()["counts"]
                if counts["accepted"] + counts["flagged"] + counts["rejected"] > seen_before:
                    break
                if time.perf_counter() - t > 30:
                    raise TimeoutError("a submission did not reach the results in 30 s")
                time.sleep(0.02)
            latencies.append(time.perf_counter() - t)
        stack.stop_workers()
    return {
        "samples": samples,
        "p50_s": round(_pct(latencies, 0.5), 3),
        "p95_s": round(_pct(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
    }


def bench_widget(views: int = 600) -> dict[str, Any]:
    """Store reads per embedded widget view (the agency's frame-ancestors lookup) and its latency."""
    import requests

    from chalicelib import wiring
    from chalicelib.domain.audit import Actor

    out: dict[str, Any] = {}
    with _stack() as stack:
        actor = Actor("bench", "bench", "system_admin")
        wiring.agency_service().set_embed_origins(
            actor, "P01", ["https://dichvucong.hanoi.gov.vn"], 0, "2026-01-01T00:00:00Z"
        )
        session = requests.Session()
        url = f"{stack.api_url}/s/sipas-2026?embed=1&agency=P01"
        session.get(url, timeout=30)  # warm
        calls = AwsCalls()
        latencies = []
        with calls.watching():
            for _ in range(views):
                started = time.perf_counter()
                answer = session.get(url, timeout=30)
                latencies.append((time.perf_counter() - started) * 1000)
                assert "frame-ancestors https://dichvucong.hanoi.gov.vn" in answer.headers["Content-Security-Policy"]
        out["widget_views"] = views
        out["widget_ddb_reads_per_view"] = round(calls.total("dynamodb", DDB_READS) / views, 4)
        out["widget_ms_p50"] = round(_pct(latencies, 0.5), 1)
        out["widget_ms_p95"] = round(_pct(latencies, 0.95), 1)
    return out


def _post_concurrently(url: str, batches: list[list[dict[str, Any]]]) -> tuple[list[float], float]:
    """One client thread per batch, all at once: every submission's latency (ms) and the wall time (s)."""
    import requests

    latencies: list[float] = []
    lock = threading.Lock()

    def client(batch: list[dict[str, Any]]) -> None:
        with requests.Session() as session:
            for s in batch:
                started = time.perf_counter()
                assert session.post(url, json=s, timeout=60).status_code == 201
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)

    workers = [threading.Thread(target=client, args=(batch,)) for batch in batches]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, time.perf_counter() - started


def bench_journal(sequential: int = 300, threads: int = 8, per_thread: int = 40) -> dict[str, Any]:
    """Submission latency through the local API with the write-ahead journal off and on (issue 7).

    Sequential: one client, one submission at a time (each waits for its own fsync). Concurrent:
    `threads` clients at once, where group commit lets one fsync cover several submissions.
    """
    import requests

    out: dict[str, Any] = {}
    for journal in (False, True):
        mode = "on" if journal else "off"
        with _stack(journal=journal) as stack:
            url = f"{stack.api_url}/surveys/sipas-2026/responses"
            subs = _submissions(20 + sequential + threads * per_thread, seed=505 if journal else 606)
            session = requests.Session()
            for s in subs[:20]:  # warm: the survey definition is cached after the first request
                assert session.post(url, json=s, timeout=30).status_code == 201
            latencies = []
            for s in subs[20 : 20 + sequential]:
                started = time.perf_counter()
                assert session.post(url, json=s, timeout=30).status_code == 201
                latencies.append((time.perf_counter() - started) * 1000)
            out[f"journal_{mode}_sequential_ms_p50"] = round(_pct(latencies, 0.5), 1)
            out[f"journal_{mode}_sequential_ms_p95"] = round(_pct(latencies, 0.95), 1)
            rest = subs[20 + sequential :]
            fsyncs_before = stack._journal.fsyncs  # the journal's own count (0 when it is off)
            concurrent, wall = _post_concurrently(
                url, [rest[i * per_thread : (i + 1) * per_thread] for i in range(threads)]
            )
            out[f"journal_{mode}_concurrent_ms_p50"] = round(_pct(concurrent, 0.5), 1)
            out[f"journal_{mode}_concurrent_ms_p95"] = round(_pct(concurrent, 0.95), 1)
            out[f"journal_{mode}_concurrent_per_s"] = round(len(concurrent) / wall, 1)
            if journal:
                out["journal_fsyncs_per_concurrent_submission"] = round(
                    (stack._journal.fsyncs - fsyncs_before) / len(concurrent), 2
                )
                started = time.perf_counter()
                stack.snapshot()
                out["snapshot_s"] = round(time.perf_counter() - started, 2)
                out["snapshot_cut_ms"] = round(stack.last_snapshot_pause * 1000, 1)
                out["snapshot_responses"] = 20 + sequential + threads * per_thread
    return out


def bench_survey_rules(runs: int = 7) -> dict[str, Any]:
    """What the survey model costs: reading a definition, compiling its contract, the contract's size."""
    import gzip

    from chalicelib.domain.survey import Survey
    from tests.shared.model_survey import model_definition

    out: dict[str, Any] = {}
    for name, definition in (("sipas", _definition()), ("model", model_definition())):
        build_ms, compile_ms = [], []
        for _ in range(runs):
            t = time.perf_counter()
            survey = Survey.from_definition(definition)
            build_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            survey.validator()
            compile_ms.append((time.perf_counter() - t) * 1000)
        contract = json.dumps(survey.submission_schema(), ensure_ascii=False).encode()
        logic = json.dumps(survey.client_logic(), ensure_ascii=False).encode()
        out[name] = {
            "items": len(survey.items),
            "build_ms_median": round(statistics.median(build_ms), 1),
            "compile_ms_median": round(statistics.median(compile_ms), 1),
            "contract_kb": round(len(contract) / 1024, 1),
            "contract_gzip_kb": round(len(gzip.compress(contract)) / 1024, 1),
            "browser_logic_bytes": len(logic),
        }
    return out


def bench_page_weight() -> dict[str, Any]:
    """Gzipped bytes of the SIPAS form's first load and the survey's own text in it (bench/page_weight.py)."""
    from bench.page_weight import measure

    return measure()


def bench_widget_loader() -> dict[str, Any]:
    """Raw and gzipped bytes of the widget loader (embed.js) and of frame.js (bench/widget_size.py)."""
    from bench.widget_size import BUDGET_GZIP, sizes

    return {"embed.js": sizes("embed.js"), "frame.js": sizes("frame.js"), "budget_gzip": BUDGET_GZIP}


def bench_sampling() -> dict[str, Any]:
    """A national household sample from a realistic frame: read, draw, export (bench/sampling.py)."""
    from bench.sampling import bench_sampling as measure

    return measure()


BENCHES = {
    "survey": bench_survey_rules,
    "requests": bench_requests_and_aggregation,
    "edge": bench_edge_cpu,
    "cold": bench_cold_import,
    "latency": bench_latency,
    "widget": bench_widget,
    "journal": bench_journal,
    "page": bench_page_weight,
    "loader": bench_widget_loader,
    "sampling": bench_sampling,
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHES)
    print(
        f"# {platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()} · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    for name in chosen:
        started = time.perf_counter()
        figures = BENCHES[name]()
        print(
            json.dumps(
                {"bench": name, **figures, "wall_s": round(time.perf_counter() - started, 1)}, ensure_ascii=False
            )
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
