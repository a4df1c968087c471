"""Operators' and inspectors' command for the audit log: `verify` the hash chain, `export` it as CSV.

    python -m chalicelib.audit_cli verify [--anchor SEQ:HASH ...] [--json]
    python -m chalicelib.audit_cli export [--out FILE]

It reads the table named by PAR_AUDIT_TABLE through AWS_ENDPOINT_URL, like the rest of the app.
`verify` exits 0 when the chain is intact and 1 when it is not; note the head it prints (seq and
hash) somewhere outside the system, and pass it back later as --anchor: a rewrite of the whole
chain, head item included, then still shows.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from chalicelib.domain.audit import ChainCheck, ChainProblem, to_csv, verify_chain
from chalicelib.store.audit import AuditRepository

SHOWN_PROBLEMS = 20


def _anchor(text: str) -> tuple[int, str]:
    seq, sep, digest = text.partition(":")
    if not sep or not seq.strip().isdigit() or len(digest.strip()) != 64:
        raise argparse.ArgumentTypeError("an anchor is SEQ:HASH, e.g. 120:3f5a... (64 hex digits)")
    return int(seq), digest.strip().lower()


def verify(repository: AuditRepository, anchors: dict[int, str] | None = None) -> tuple[ChainCheck, int | None]:
    """The chain's check against its head item (and any anchors); also the head's seq.

    Officials may keep working while this runs. The head is read first and entries only up to it,
    so an append landing meanwhile is not taken for tampering; entries beyond that head are then
    judged against the head read after them (an honest append moves entry and head in one
    transaction, so a visible entry is never ahead of a head read later).
    """
    head = repository.head()
    check = verify_chain(repository.entries(to_seq=None if head is None else head[0]), head=head, anchors=anchors)
    extra: list[ChainProblem] = []
    if head is None and check.last_seq is not None:
        extra.append(ChainProblem(check.last_seq, "broken_link", "entries exist but the head item is missing"))
    elif head is not None:
        stray = next(iter(repository.entries(from_seq=head[0] + 1)), None)
        now = repository.head() if stray is not None else head
        if stray is not None and (now is None or stray.seq > now[0]):
            extra.append(ChainProblem(stray.seq, "broken_link", f"entry {stray.seq} lies beyond the head"))
    if extra:
        check = replace(check, ok=False, problems=sorted([*check.problems, *extra], key=lambda p: p.seq))
    return check, None if head is None else head[0]


def _report(check: ChainCheck, head_seq: int | None, out: TextIO) -> None:
    verdict = "INTACT" if check.ok else "BROKEN"
    print(f"audit chain {verdict}: {check.checked} entries checked, head seq {head_seq}", file=out)
    if check.last_seq is not None:
        print(f"anchor (note it down): {check.last_seq}:{check.last_hash}", file=out)
    for problem in check.problems[:SHOWN_PROBLEMS]:
        print(f"  seq {problem.seq}: {problem.kind}: {problem.detail}", file=out)
    if len(check.problems) > SHOWN_PROBLEMS:
        print(f"  ... and {len(check.problems) - SHOWN_PROBLEMS} more problems", file=out)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m chalicelib.audit_cli", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check the hash chain; exit 1 when it is broken")
    check.add_argument("--anchor", action="append", type=_anchor, default=[], help="SEQ:HASH noted earlier")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    export = commands.add_parser("export", help="write the log as CSV (UTF-8 with BOM) for inspectors")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    args = parser.parse_args(argv)

    repository = AuditRepository()
    if args.command == "verify":
        result, head_seq = verify(repository, dict(args.anchor))
        if args.json:
            body = {
                "ok": result.ok,
                "checked": result.checked,
                "head_seq": head_seq,
                "last_seq": result.last_seq,
                "last_hash": result.last_hash,
                "problems": [p.to_dict() for p in result.problems],
            }
            print(json.dumps(body, ensure_ascii=False, indent=1), file=out)
        else:
            _report(result, head_seq, out)
        return 0 if result.ok else 1

    data = to_csv(repository.entries())
    if args.out is None:
        out.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        args.out.write_bytes(data)
        print(f"wrote {args.out} ({len(data)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
