"""Reading the SAM template for the local stack: its data resources, its functions and their events."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("infra.local")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "infra" / "template.yaml"

# The resource types deployed to moto. Everything else in the template (functions, alarms, log
# groups, subscriptions, bucket policies: moto's CloudFormation has no AWS::S3::BucketPolicy) is
# either run by this module or has no local meaning.
DATA_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic"})
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NoValue",
        "AWS::NotificationARNs",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)


class LocalStackError(RuntimeError):
    """The template or the local environment cannot be brought up as asked."""


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain JSON-able data, with !Ref/!GetAtt/!Sub short forms expanded."""
    from cfnlint.decode import cfn_yaml

    # A JSON round trip turns cfn-lint's node classes into plain dicts, lists and strings.
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def references(expr: Any) -> set[str]:
    """Logical ids and parameters an expression refers to (Ref, Fn::GetAtt, Fn::Sub variables)."""
    found: set[str] = set()
    if isinstance(expr, list):
        for item in expr:
            found |= references(item)
    elif isinstance(expr, dict):
        if len(expr) == 1 and "Ref" in expr:
            found.add(str(expr["Ref"]))
        elif len(expr) == 1 and "Fn::GetAtt" in expr:
            target = expr["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
        elif len(expr) == 1 and "Fn::Sub" in expr:
            body = expr["Fn::Sub"]
            text, variables = (body[0], body[1]) if isinstance(body, list) else (body, {})
            for name in re.findall(r"\$\{([^}!][^}]*)\}", text):
                if name not in variables:
                    found.add(name.split(".")[0])
            found |= references(variables)
        else:
            for value in expr.values():
                found |= references(value)
    return found


def data_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's resources that the local stack deploys to moto, by logical id."""
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") in DATA_TYPES}


def expr_key(expr: Any) -> str:
    digest = hashlib.sha1(json.dumps(expr, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
    return f"LocalExpr{digest[:16]}"


def local_template(template: dict[str, Any], expressions: list[Any]) -> dict[str, Any]:
    """The deployable subset: data resources only, plus one output per expression to resolve.

    moto's CloudFormation evaluates the outputs (Ref, GetAtt, Sub, If, Join...), so the local
    stack needs no intrinsic-function interpreter of its own.
    """
    resources = copy.deepcopy(data_resources(template))
    known = set(resources) | set(template.get("Parameters", {})) | PSEUDO_PARAMETERS
    for name, resource in resources.items():
        missing = references(resource) - known
        if missing:
            raise LocalStackError(f"{name} refers to {sorted(missing)}, which the local stack does not deploy")
        depends = resource.get("DependsOn")
        if depends is not None:
            kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d in resources]
            resource.pop("DependsOn")
            if kept:
                resource["DependsOn"] = kept
    outputs = {}
    for name, output in template.get("Outputs", {}).items():
        if references(output.get("Value")) <= known:
            outputs[name] = {k: v for k, v in output.items() if k != "Export"}
    for expr in expressions:
        if references(expr) <= known:
            outputs[expr_key(expr)] = {"Value": expr}
    body: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, "Outputs": outputs}
    for section in ("Parameters", "Conditions", "Mappings"):
        if template.get(section):
            body[section] = template[section]
    return body


# ------------------------------------------------------------------------------------------ functions


@dataclass
class StreamSource:
    """A DynamoDB event of a function: the event source mapping's settings."""

    name: str
    stream: Any  # expression; resolved to the stream ARN after deploy
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    batching_window: float = 0.0
    report_failures: bool = False
    bisect: bool = False
    max_retries: int = -1
    max_record_age: int = -1
    filters: list[dict[str, Any]] = field(default_factory=list)
    on_failure: Any = None  # expression of the destination ARN
    enabled: bool = True


@dataclass
class ScheduleSource:
    """A Schedule event: rate(...) or cron(...), optionally with a fixed Input."""

    name: str
    expression: str
    input: str | None = None
    enabled: bool = True


@dataclass
class RuleSource:
    """An EventBridgeRule event: a pattern on an event bus."""

    name: str
    pattern: dict[str, Any]
    bus: str = "default"


@dataclass
class FunctionSpec:
    """What the local runner needs to know of one AWS::Serverless::Function."""

    logical_id: str
    handler: str
    env: dict[str, Any]
    timeout: int = 3
    memory: int = 128
    streams: list[StreamSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    rules: list[RuleSource] = field(default_factory=list)
    async_max_retries: int = 2
    async_on_failure: Any = None
    function_name: str = ""
    arn: str = ""


def _merge_globals(global_props: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge recursively, the function's own values win."""
    merged = copy.deepcopy(global_props)
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not _is_intrinsic(value):
            merged[key] = _merge_globals(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _is_intrinsic(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
    )


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _stream_source(name: str, props: dict[str, Any]) -> StreamSource:
    unsupported = {"ParallelizationFactor", "TumblingWindowInSeconds", "StartingPositionTimestamp"} & set(props)
    if unsupported:
        log.warning("event %s: %s not emulated locally", name, sorted(unsupported))
    filters = []
    for entry in (props.get("FilterCriteria") or {}).get("Filters", []):
        pattern = entry.get("Pattern", "{}")
        filters.append(json.loads(pattern) if isinstance(pattern, str) else pattern)
    return StreamSource(
        name=name,
        stream=props["Stream"],
        starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
        batch_size=int(props.get("BatchSize", 100)),
        batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        bisect=as_bool(props.get("BisectBatchOnFunctionError")),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        max_record_age=int(props.get("MaximumRecordAgeInSeconds", -1)),
        filters=filters,
        on_failure=((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
        enabled=as_bool(props.get("Enabled"), default=True),
    )


def parse_functions(template: dict[str, Any]) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function of the template with Globals applied (expressions unresolved)."""
    global_props = (template.get("Globals") or {}).get("Function") or {}
    specs = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = _merge_globals(global_props, resource.get("Properties") or {})
        invoke_config = props.get("EventInvokeConfig") or {}
        spec = FunctionSpec(
            logical_id=logical_id,
            handler=props["Handler"],
            env=dict(((props.get("Environment") or {}).get("Variables")) or {}),
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            async_max_retries=int(invoke_config.get("MaximumRetryAttempts", 2)),
            async_on_failure=((invoke_config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
        )
        for event_name, event in (props.get("Events") or {}).items():
            kind, event_props = event.get("Type"), event.get("Properties") or {}
            if kind == "DynamoDB":
                spec.streams.append(_stream_source(event_name, event_props))
            elif kind == "Schedule":
                spec.schedules.append(
                    ScheduleSource(
                        name=event_name,
                        expression=event_props["Schedule"],
                        input=event_props.get("Input"),
                        enabled=as_bool(event_props.get("Enabled"), default=True)
                        and event_props.get("State", "ENABLED") == "ENABLED",
                    )
                )
            elif kind == "EventBridgeRule":
                bus = event_props.get("EventBusName", "default")
                spec.rules.append(
                    RuleSource(event_name, event_props["Pattern"], bus if isinstance(bus, str) else "default")
                )
            else:
                log.warning("%s: event %s of type %s is not emulated locally", logical_id, event_name, kind)
        specs.append(spec)
    return specs


def function_expressions(specs: list[FunctionSpec]) -> list[Any]:
    """The intrinsic expressions of the functions that moto must evaluate for the runner."""
    exprs: list[Any] = []
    for spec in specs:
        exprs.extend(v for v in spec.env.values() if isinstance(v, (dict, list)))
        exprs.extend(s.stream for s in spec.streams)
        exprs.extend(s.on_failure for s in spec.streams if s.on_failure is not None)
        if spec.async_on_failure is not None:
            exprs.append(spec.async_on_failure)
    return exprs
