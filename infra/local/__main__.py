"""`python -m infra.local run`: the whole platform on 127.0.0.1 (moto, the Chalice API, the workers, the schedules)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from infra.local.demo_site import DemoSite
from infra.local.demo_site import register as register_demo_origin
from infra.local.idp import LocalIdentityProvider
from infra.local.stack import CHECKPOINTS_FILE, JOURNAL_DIR, SNAPSHOT_DIR, LocalStack

SNAPSHOT_EVERY = 60.0
log = logging.getLogger("infra.local")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the API and run the workers until Ctrl-C")
    run.add_argument("--state", type=Path, default=Path(".local"), help="where snapshots and checkpoints live")
    run.add_argument("--api-port", type=int, default=8000)
    run.add_argument("--aws-port", type=int, default=4566)
    run.add_argument("--idp-port", type=int, default=8001, help="the local OpenID Connect provider")
    run.add_argument("--demo-port", type=int, default=8002, help="a province portal that embeds the widget")
    run.add_argument("--reset", action="store_true", help="forget the saved state and seed again")
    run.add_argument("--seed-count", type=int, default=400, help="submissions to seed on a first start")
    run.add_argument(
        "--snapshot-every",
        type=float,
        default=SNAPSHOT_EVERY,
        help="seconds between snapshots (the journal covers the rest)",
    )
    return parser


def _reset_state(state: Path) -> None:
    """Remove only what the local stack writes there, never the directory's other files."""
    for name in (SNAPSHOT_DIR, f"{SNAPSHOT_DIR}.tmp", f"{SNAPSHOT_DIR}.old", JOURNAL_DIR):
        shutil.rmtree(state / name, ignore_errors=True)
    (state / CHECKPOINTS_FILE).unlink(missing_ok=True)


def _seed(stack: LocalStack, count: int) -> None:
    print(f"Seeding the demo survey and {count} submissions...", flush=True)
    started = time.monotonic()
    try:
        statuses = stack.seed(n=count)
    except ImportError as exc:
        log.error("seeding skipped, a module is missing (%s); run again with --reset once it exists", exc)
        return
    except Exception:
        log.exception("seeding failed; the stack keeps running, run again with --reset to retry")
        return
    print(f"Seeded in {time.monotonic() - started:.1f} s; HTTP statuses: {statuses}", flush=True)


def _print_urls(stack: LocalStack, idp: LocalIdentityProvider, demo: DemoSite) -> None:
    api = stack.api_url
    print(
        "\n".join(
            [
                "",
                "PAR platform, local stack",
                f"  API            {api}",
                f"  Survey         {api}/s/sipas-2026",
                f"  Results        {api}/s/sipas-2026/results",
                f"  Reports        {api}/reports",
                f"  Console        {api}/admin   (officials; sign in with a user below)",
                f"  Surveys        {api}/admin/surveys   (XLSForm upload, preview, publish; khaosat or bientap.hanoi)",
                f"  QR posters     {api}/admin/agencies/P01/channels   (a counter's QR code and A4 poster; quantri.hanoi)",
                f"  Sampling       {api}/admin/sampling   (a year's frame and multi-stage sample; khaosat)",
                f"  Fieldwork      {api}/admin/fieldwork   (progress by province, village, enumerator; assignments; quantri.hanoi)",
                f"  Widget demo    {demo.origin}/   (a province portal: a quick prompt and the form inline; P01)",
                f"  Counter demo   {demo.origin}/quay-3   (the prompt on a service counter's tablet, MOTCUA-Q03)",
                f"  OpenAPI        {api}/openapi.json",
                f"  AWS (moto)     {stack.endpoint}   (AWS_ENDPOINT_URL; dashboard at /moto-api/)",
                f"  Sign-in (IdP)  {idp.issuer}   (OpenID Connect; users below, passwords in {idp.dir}/users.json)",
                *[
                    f"      {u.username:<16} {u.password:<18} {', '.join(u.roles)} @ {u.agency}"
                    + ("" if u.enabled else "   (disabled)")
                    for u in idp.users.values()
                ],
                f"  State          {stack.state_dir.resolve()}",
                "Ctrl-C to stop (drains the workers and saves a snapshot).",
                "",
            ]
        ),
        flush=True,
    )


def _use_local_hmac_keys(state: Path) -> None:
    """The identifier-hash keys live in a git-ignored file here, as they live in Secrets Manager on AWS.

    Same format: {"current": "k1", "k1": "<key>"}. Rotate by adding "k2" and setting current, then restart.
    """
    path = state / "hmac-keys.json"
    if not path.exists():
        state.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"current": "k1", "k1": secrets.token_urlsafe(48)}), encoding="utf-8")
        path.chmod(0o600)
    keys = json.loads(path.read_text(encoding="utf-8"))
    os.environ["PAR_HMAC_KEY_ID"] = keys["current"]
    os.environ["PAR_HMAC_KEY"] = keys[keys["current"]]


def run(args: argparse.Namespace) -> int:
    if args.reset:
        _reset_state(args.state)
    _use_local_hmac_keys(args.state)
    idp = LocalIdentityProvider(args.state, port=args.idp_port)
    idp.start()
    os.environ.update(idp.environment())  # the app trusts this issuer as it trusts Cognito on AWS
    # PAR_LOCAL_JOURNAL=off: no journal, as before issue 7 (a kill loses what came after the last snapshot).
    journal = os.environ.get("PAR_LOCAL_JOURNAL", "on").lower() not in {"off", "0", "false"}
    stack = LocalStack(args.state, port_aws=args.aws_port, port_api=args.api_port, journal=journal)
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stack.start()
        # Again after start(), which set the template's Globals: they name Cognito as the directory.
        os.environ.update(idp.environment())
        stack.start_api()  # resets the app's caches: settings are read again with these values
        # the provider redirects only to registered console callbacks, exactly (the console may be opened either way)
        idp.register_redirect_uri(f"{stack.api_url}/admin/callback")
        idp.register_redirect_uri(f"http://localhost:{args.api_port}/admin/callback")
        if not stack.restored:
            _seed(stack, args.seed_count)
        stack.start_workers()
        demo = DemoSite(stack.api_url, port=args.demo_port)
        try:
            register_demo_origin(demo.origin)
        except Exception:
            log.exception("could not register the widget demo's origin for P01; the demo page will not frame it")
        _print_urls(stack, idp, demo)
        last_snapshot = time.monotonic()
        while not stopping.wait(min(1.0, args.snapshot_every)):
            if time.monotonic() - last_snapshot >= args.snapshot_every:
                try:
                    stack.snapshot()
                except Exception:  # the journal still holds everything; the next snapshot tries again
                    log.exception("periodic snapshot failed")
                last_snapshot = time.monotonic()
        print("Stopping: draining the workers and saving a snapshot...", flush=True)
        stack.stop_api()  # no new requests; then everything they caused is processed and saved
        stack.drain(timeout=120)
        stack.snapshot()
    finally:
        stack.stop()
        idp.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Stopped.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("botocore", "pynamodb", "aws_lambda_powertools"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
