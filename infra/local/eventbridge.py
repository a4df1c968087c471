"""EventBridge locally: event patterns (also Lambda's FilterCriteria), schedule expressions, firing schedules."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from infra.local.runtime import FunctionError, iso, now
from infra.local.template import FunctionSpec, LocalStackError, ScheduleSource

# ------------------------------------------------------------------------------------------ patterns


def matches_pattern(pattern: dict[str, Any], event: Any) -> bool:
    """EventBridge-style pattern matching, as Lambda's FilterCriteria applies it to a record.

    Supported: nested objects; lists of allowed values (strings, numbers, booleans, null, with
    arrays in the event matching if any element matches); and the operators prefix, suffix,
    equals-ignore-case, anything-but (a value, a list or {"prefix": ...}), exists and numeric.
    Not supported (raise ValueError): wildcard, cidr, $or.
    """
    if not isinstance(pattern, dict):
        raise ValueError(f"a pattern must be an object, got {pattern!r}")
    for key, rule in pattern.items():
        if key == "$or":
            raise ValueError("$or patterns are not supported locally")
        present = isinstance(event, dict) and key in event
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(rule, dict):
            if not (present and isinstance(value, dict) and matches_pattern(rule, value)):
                return False
        elif isinstance(rule, list):
            if not _matches_any(rule, present, value):
                return False
        else:
            raise ValueError(f"pattern values must be lists or objects, got {rule!r} for {key!r}")
    return True


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 and true differ, 1 and 1.0 do not."""
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    return type(a) is type(b) and a == b


def _matches_any(rules: list[Any], present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, dict):
            if _matches_operator(rule, present, values):
                return True
        elif present and any(_same(v, rule) for v in values):
            return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _matches_operator(rule: dict[str, Any], present: bool, values: list[Any]) -> bool:
    ((op, arg),) = rule.items()
    strings = [v for v in values if isinstance(v, str)]
    if op == "exists":
        return present is bool(arg)
    if not present:
        return False
    if op == "prefix":
        return any(s.startswith(arg) for s in strings)
    if op == "suffix":
        return any(s.endswith(arg) for s in strings)
    if op == "equals-ignore-case":
        return any(s.lower() == str(arg).lower() for s in strings)
    if op == "anything-but":
        if isinstance(arg, dict) and "prefix" in arg:
            return all(not (isinstance(v, str) and v.startswith(arg["prefix"])) for v in values)
        banned = arg if isinstance(arg, list) else [arg]
        return all(not any(_same(v, b) for b in banned) for v in values)
    if op == "numeric":
        conditions = list(zip(arg[0::2], arg[1::2], strict=True))
        return any(_is_number(v) and all(_NUMERIC_OPS[o](v, n) for o, n in conditions) for v in values)
    raise ValueError(f"pattern operator {op!r} is not supported locally")


# ------------------------------------------------------------------------------------------ schedules


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_DOW_NAMES = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}


def _shift_dow_part(part: str) -> str:
    """One comma-separated part of an AWS day-of-week field (1=SUN..7=SAT) in cron's 0..6."""
    base, _, step = part.partition("/")
    nth = ""
    if "#" in base:
        base, nth = base.split("#", 1)
        nth = "#" + nth
    if "L" in base or "W" in base:
        raise ValueError(f"day-of-week {part!r}: L and W are not supported locally")

    def shift(item: str) -> str:
        if item.isdigit():
            day = int(item)
            if not 1 <= day <= 7:
                raise ValueError(f"day-of-week {item} is out of 1-7")
            return str(day - 1)
        if item.upper() in _DOW_NAMES or item == "*":
            return item
        raise ValueError(f"day-of-week item {item!r} is not understood")

    shifted = "-".join(shift(t) for t in base.split("-"))
    return shifted + nth + (f"/{step}" if step else "")


def _expand_years(field_: str) -> set[int] | None:
    """The years an AWS cron year field allows; None for any year."""
    if field_ in {"*", "?"}:
        return None
    years: set[int] = set()
    for part in field_.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, end = 1970, 2199
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = int(first), int(last)
        else:
            start = int(base)
            end = 2199 if step else start
        years.update(range(start, end + 1, int(step) if step else 1))
    return years


def next_fire(expression: str, after: datetime) -> datetime:
    """The first time strictly after `after` (UTC) at which an EventBridge schedule fires.

    rate(N minute[s]|hour[s]|day[s]) fires every N units counted from `after`; cron(min hour dom
    month dow year) is AWS's six-field cron in UTC: '?' is accepted, days of week are 1-7 from
    Sunday or SUN-SAT, '#' selects the nth weekday; L and W are not supported locally.
    """
    after = after.astimezone(timezone.utc)
    rate = _RATE.match(expression.strip())
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        return after + timedelta(**{f"{unit}s": amount})
    if not (expression.startswith("cron(") and expression.endswith(")")):
        raise ValueError(f"schedule expression {expression!r} is neither rate(...) nor cron(...)")
    fields = expression[5:-1].split()
    if len(fields) != 6:
        raise ValueError(f"cron expression {expression!r} needs six fields")
    minute, hour, dom, month, dow, year = fields
    if "W" in dom or "L" in dom:
        raise ValueError(f"day-of-month {dom!r}: L and W are not supported locally")
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else ",".join(_shift_dow_part(p) for p in dow.split(","))
    from croniter import croniter

    schedule = croniter(" ".join([minute, hour, dom, month, dow]), after)
    years = _expand_years(year)
    for _ in range(10_000):
        candidate: datetime = schedule.get_next(datetime)
        if years is None or candidate.year in years:
            return candidate
    raise ValueError(f"cron expression {expression!r} never fires")


def eventbridge_event(account_id: str, region: str, source: str, detail_type: str, detail: Any) -> dict[str, Any]:
    """An event as EventBridge hands it to a rule's target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": iso(now()),
        "region": region,
        "resources": [],
        "detail": detail,
    }


@dataclass
class Schedule:
    spec: FunctionSpec
    source: ScheduleSource
    rule_arn: str
    next_at: datetime


class Schedules:
    """The template's Schedule events: each fires its function asynchronously when due, once per due time.

    `invoke_async(spec, event)` is the stack's asynchronous invocation (retries, then the destination).
    """

    def __init__(self, account_id: str, region: str, invoke_async: Callable[[FunctionSpec, Any], Any]) -> None:
        self.account_id = account_id
        self.region = region
        self._invoke_async = invoke_async
        self._schedules: list[Schedule] = []
        self.lock = threading.Lock()

    def add(self, spec: FunctionSpec, source: ScheduleSource, rule_arn: str, at: datetime) -> None:
        self._schedules.append(Schedule(spec, source, rule_arn, next_fire(source.expression, at)))

    def event(self, schedule: Schedule, at: datetime) -> Any:
        if schedule.source.input is not None:
            return json.loads(schedule.source.input)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account_id,
            "time": iso(at),
            "region": self.region,
            "resources": [schedule.rule_arn],
            "detail": {},
        }

    def fire(self, function_logical_id: str, event_name: str | None, at: datetime) -> Any:
        """Fire a function's schedule (its first, or the named one) as EventBridge would; the result."""
        candidates = [
            s
            for s in self._schedules
            if s.spec.logical_id == function_logical_id and event_name in {None, s.source.name}
        ]
        if not candidates:
            raise LocalStackError(f"{function_logical_id} has no schedule {event_name or ''}".rstrip())
        schedule = candidates[0]
        return self._invoke_async(schedule.spec, self.event(schedule, at))

    def tick(self, at: datetime) -> list[str]:
        """Fire every enabled schedule that is due at `at`; once each, missed runs are not replayed."""
        fired = []
        with self.lock:
            for schedule in self._schedules:
                if not schedule.source.enabled or at < schedule.next_at:
                    continue
                schedule.next_at = next_fire(schedule.source.expression, at)
                fired.append(f"{schedule.spec.logical_id}/{schedule.source.name}")
                with contextlib.suppress(FunctionError):
                    self._invoke_async(schedule.spec, self.event(schedule, at))
        return fired

    def next(self) -> dict[str, datetime]:
        return {f"{s.spec.logical_id}/{s.source.name}": s.next_at for s in self._schedules}
