"""The local stack: the SAM template's data resources on moto, its functions run in-process like Lambda.

LocalStack orchestrates; each concern lives in its own module:
- infra/local/template.py     reading the template (data resources, function specs, the local template)
- infra/local/runtime.py      the Lambda runtime (context, handlers, asynchronous invocation)
- infra/local/eventbridge.py  event patterns, schedule expressions, firing schedules
- infra/local/pollers.py      event source mappings: stream pollers and rule pollers
- infra/local/persistence.py  checkpoints, snapshots and their restore, how snapshot and journal fit
- infra/local/journal.py      the write-ahead journal of moto's mutating requests, and its replay
- infra/local/emulator.py     moto's server (behind the journal), its accounts, reads of its memory
- infra/local/wire.py         DynamoDB's JSON wire format of items
- infra/local/api_server.py   the Chalice app over HTTP
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from infra.local.api_server import ApiServer
from infra.local.emulator import ACCOUNT_ID, Emulator
from infra.local.eventbridge import Schedules, eventbridge_event, matches_pattern, next_fire
from infra.local.journal import JOURNAL_DIR, Journal, Replayer
from infra.local.persistence import (
    CHECKPOINTS_FILE,
    SNAPSHOT_DIR,
    Checkpoints,
    Snapshot,
    TableCopy,
    dump_bucket,
    put_items,
    put_objects,
    write_snapshot,
)
from infra.local.pollers import Poller, RulePoller, StreamPoller, lambda_record
from infra.local.runtime import FunctionError, FunctionRunner, LambdaContext, iso
from infra.local.runtime import now as _utcnow
from infra.local.template import (
    DATA_TYPES,
    DEFAULT_TEMPLATE,
    ROOT,
    FunctionSpec,
    LocalStackError,
    as_bool,
    data_resources,
    expr_key,
    function_expressions,
    load_template,
    local_template,
    parse_functions,
    references,
)
from infra.local.wire import item_from_wire

__all__ = [
    "CHECKPOINTS_FILE",
    "DATA_TYPES",
    "JOURNAL_DIR",
    "SNAPSHOT_DIR",
    "FunctionError",
    "FunctionSpec",
    "LambdaContext",
    "LocalStack",
    "LocalStackError",
    "lambda_record",
    "load_template",
    "matches_pattern",
    "next_fire",
    "parse_functions",
    "references",
]

log = logging.getLogger("infra.local")

SEED_DIR = Path(__file__).resolve().parent / "seed"
STACK_NAME = "par-local"
REGION = "ap-southeast-1"
DUMMY_KEY = "testing"  # moto's dummy credentials; unknown keys belong to the default account
POLL_INTERVAL = 0.2


# ------------------------------------------------------------------------------------------ the stack


class LocalStack:
    """moto in server mode with the template's data resources, plus an in-process Lambda runner.

    Life cycle: start() (moto, deploy, restore the snapshot, replay the journal, environment,
    pollers; then the journal records) -> drain() in tests, or start_workers() for background
    threads -> snapshot() (any time; nothing stops) -> stop().

    Emulated as Lambda does it: DynamoDB event source mappings (batch size, batching window,
    FilterCriteria, ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts,
    MaximumRecordAgeInSeconds, the on-failure record sent to SQS/SNS, a checkpoint per function
    and shard); asynchronous invocations from schedules and EventBridge rules (EventInvokeConfig
    retries, then the on-failure destination); the event and context shapes.
    Not emulated: timeouts and memory limits (a warning only), concurrency limits, separate
    processes per function (one interpreter; a function's own variables apply at import), retry
    back-off (retries are immediate), shard splits, the 24 h stream retention, IAM, X-Ray.
    """

    def __init__(
        self,
        state_dir: Path,
        port_aws: int = 0,
        port_api: int = 0,
        template: Path = DEFAULT_TEMPLATE,
        aws_endpoint: str | None = None,
        parameters: dict[str, str] | None = None,
        stack_name: str = STACK_NAME,
        fast_reads: bool = True,
        account_id: str | None = None,
        journal: bool = True,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.port_aws = port_aws
        self.port_api = port_api
        self.template_path = Path(template)
        self.stack_name = stack_name
        self.region = REGION
        self.account_id = account_id or ACCOUNT_ID
        self._credentials = {"AWS_ACCESS_KEY_ID": DUMMY_KEY, "AWS_SECRET_ACCESS_KEY": DUMMY_KEY}
        self.endpoint = aws_endpoint or ""
        self.restored = False
        # Read streams and snapshot tables from moto's memory when this process runs moto.
        self.fast_reads = fast_reads
        self._external = aws_endpoint is not None
        self._parameters = parameters
        # The write-ahead journal of moto's mutating requests (infra/local/journal.py); off only for
        # the benchmark that measures its cost, and absent when moto is not ours.
        self._journal = Journal(self.state_dir / JOURNAL_DIR)
        self._journal_on = journal
        self._emulator: Emulator | None = None
        self._snapshot_lock = threading.Lock()
        self._continued: set[str] = set()  # tables whose stream goes on with its numbers (see restore)
        self._replay_from: int | None = None  # the journal segment to replay from (see restore)
        self.last_snapshot_pause = 0.0  # seconds the last snapshot held mutating requests (its cut)
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._template: dict[str, Any] = {}
        self._functions: dict[str, FunctionSpec] = {}
        self._resources: dict[str, str] = {}
        self._resource_types: dict[str, str] = {}
        self._outputs: dict[str, str] = {}
        self._stream_pollers: list[StreamPoller] = []
        self._rule_pollers: list[RulePoller] = []
        self._schedules = Schedules(self.account_id, self.region, self.invoke_async)
        self._runner = FunctionRunner(self.resolve, self.send_to_destination, lambda: self.stopping)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._saved_env: dict[str, str | None] = {}
        self._quiet_http = threading.Event()  # set while seeding: 400 access-log lines help nobody
        self._api = ApiServer(self._quiet_http)
        self.api_url = ""
        self.checkpoints = Checkpoints(self.state_dir / CHECKPOINTS_FILE)
        if journal:
            self.checkpoints.barrier = self._journal.sync

    # -------------------------------------------------------------- life cycle

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start moto, deploy (or restore) the data resources, set the environment, open the pollers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if ROOT.as_posix() not in sys.path:
            sys.path.insert(0, ROOT.as_posix())  # handlers are imported by module path from the repo root
        self._stop.clear()
        try:
            if not self._external:
                self._start_moto()
            self._use_account()
            self._set_env(self._aws_env())
            self._template = load_template(self.template_path)
            self._functions = {spec.logical_id: spec for spec in parse_functions(self._template)}
            created = self.deploy()
            # Restore only into a stack this start created: an existing one (external endpoint) has its data.
            self.restored = created and self.restore()
            self._set_env(self._stack_env())
            self._reset_app_caches()
            self._open_sources(replay=created)
        except BaseException:
            self.stop()  # no server, thread or environment change outlives a failed start
            raise

    def stop(self) -> None:
        """Stop everything this stack started and put the environment back as it was."""
        self.stop_workers()
        self.stop_api()
        self.checkpoints.flush()
        self._journal.close()
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None
        for client in self._clients.values():
            client.close()  # its keep-alive connections would hold moto's request threads open
        self._clients.clear()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        self._reset_app_caches()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _start_moto(self) -> None:
        self._emulator = Emulator(self.port_aws, self._journal)
        self.endpoint = self._emulator.start()
        self.account_id = self._emulator.account_id

    def _use_account(self) -> None:
        """Credentials that moto maps to this stack's account (assumed-role keys for a non-default one)."""
        if self.account_id == ACCOUNT_ID:
            return
        sts = boto3.session.Session().client(
            "sts",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=DUMMY_KEY,
            aws_secret_access_key=DUMMY_KEY,
        )
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{self.account_id}:role/{self.stack_name}",
            RoleSessionName="local-stack",
            DurationSeconds=43200,
        )["Credentials"]
        sts.close()
        self._credentials = {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }

    # -------------------------------------------------------------- environment

    def _aws_env(self) -> dict[str, str | None]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_SESSION_TOKEN": None,  # unless the account needs one (below)
            **self._credentials,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "PAR_STAGE": "local",
            # No X-Ray daemon here; Powertools' tracer would only complain.
            "POWERTOOLS_TRACE_DISABLED": "true",
            # No CloudWatch either: metric documents and INFO logs on stdout would bury the URLs.
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        }

    def _stack_env(self) -> dict[str, str]:
        """The template's Globals environment, resolved against the deployed stack."""
        global_vars = (
            (((self._template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables")
        ) or {}
        env = {}
        for name, expr in global_vars.items():
            value = self.resolve(expr)
            if value is None:
                # e.g. the Cognito issuer: locally infra/local/idp.py provides it (make run sets it first)
                log.debug("environment variable %s refers to something not deployed locally; left unset", name)
                continue
            env[name] = value
        env["PAR_STAGE"] = "local"
        return env

    def _set_env(self, values: Mapping[str, str | None]) -> None:
        """Set (None: unset) variables, remembering the first value each had, for stop()."""
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    @staticmethod
    def _reset_app_caches() -> None:
        """Make the app re-read the environment: settings, and the clients and models built from them."""
        boto3.DEFAULT_SESSION = None  # boto3.client() would keep the credentials it resolved first
        wiring = sys.modules.get("chalicelib.wiring")
        if wiring is not None and callable(getattr(wiring, "reset", None)):
            wiring.reset()  # settings, boto3 clients, pynamodb models, services
            return
        settings = sys.modules.get("chalicelib.settings")
        if settings is not None and callable(getattr(settings, "reset_settings", None)):
            settings.reset_settings()

    def environment(self) -> dict[str, str]:
        """The variables this stack put in os.environ (AWS endpoint and credentials, PAR_*)."""
        return {key: os.environ[key] for key in self._saved_env if key in os.environ}

    # -------------------------------------------------------------- AWS clients

    def client(self, service: str) -> Any:
        """A boto3 client on this stack's endpoint (cached; boto3 clients are thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.session.Session().client(
                    service,
                    endpoint_url=self.endpoint,
                    region_name=self.region,
                    aws_access_key_id=self._credentials["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=self._credentials["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=self._credentials.get("AWS_SESSION_TOKEN"),
                    config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}),
                )
            return self._clients[service]

    def moto_stream_shard(self, stream_arn: str, shard_id: str) -> Any:
        """moto's in-memory shard when this process runs moto (and fast_reads is on), else None."""
        if self._emulator is None or not self.fast_reads:
            return None
        try:
            return self._emulator.stream_shard(self.region, stream_arn, shard_id)
        except Exception:  # moto's internals moved: read through the API instead
            log.warning("cannot read %s in-process; using GetRecords", stream_arn, exc_info=True)
            return None

    # -------------------------------------------------------------- deploy

    @property
    def resources(self) -> dict[str, str]:
        """Deployed logical id -> physical id (table name, bucket name, queue URL, topic ARN)."""
        return dict(self._resources)

    @property
    def outputs(self) -> dict[str, str]:
        """The template's own outputs that the local deployment could evaluate."""
        declared = set(self._template.get("Outputs", {}))
        return {k: v for k, v in self._outputs.items() if k in declared}

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        return dict(self._functions)

    def deploy(self) -> bool:
        """Create the stack of data resources in moto; False when it already exists (nothing changes)."""
        cfn = self.client("cloudformation")
        created = not self._stack_exists()
        if created:
            body = local_template(self._template, function_expressions(list(self._functions.values())))
            cfn.create_stack(
                StackName=self.stack_name, TemplateBody=json.dumps(body), Parameters=self._stack_parameters()
            )
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        if stack["StackStatus"] not in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
            raise LocalStackError(
                f"stack {self.stack_name} is {stack['StackStatus']}: {stack.get('StackStatusReason')}"
            )
        self._outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        described = cfn.describe_stack_resources(StackName=self.stack_name)["StackResources"]
        self._resources = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in described}
        self._resource_types = {r["LogicalResourceId"]: r["ResourceType"] for r in described}
        if created:
            self._apply_ignored_properties()
        for spec in self._functions.values():
            spec.function_name = f"{self.stack_name}-{spec.logical_id}"
            spec.arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{spec.function_name}"
        return created

    def _stack_exists(self) -> bool:
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack_name)["Stacks"]
        except ClientError:
            return False
        return any(s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)

    def _stack_parameters(self) -> list[dict[str, str]]:
        declared = self._template.get("Parameters", {})
        values = {"Stage": "local"}
        values.update(self._parameters or {})
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in declared]

    def _apply_ignored_properties(self) -> None:
        """Apply, through the APIs, the properties moto's CloudFormation accepts but ignores.

        Versioning changes what S3 returns (version ids), so it matters locally; TTL and PITR are
        applied so that describe calls answer as on AWS. Values must be literals here.
        """
        s3, ddb = self.client("s3"), self.client("dynamodb")
        for logical_id, resource in data_resources(self._template).items():
            props, physical = resource.get("Properties") or {}, self._resources.get(logical_id)
            if not physical:
                continue
            try:
                if resource["Type"] == "AWS::S3::Bucket":
                    if isinstance((props.get("VersioningConfiguration") or {}).get("Status"), str):
                        s3.put_bucket_versioning(
                            Bucket=physical,
                            VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
                        )
                    block = props.get("PublicAccessBlockConfiguration")
                    if isinstance(block, dict) and all(isinstance(v, bool) for v in block.values()):
                        s3.put_public_access_block(Bucket=physical, PublicAccessBlockConfiguration=block)
                elif resource["Type"] == "AWS::DynamoDB::Table":
                    ttl = props.get("TimeToLiveSpecification")
                    if isinstance(ttl, dict) and isinstance(ttl.get("AttributeName"), str):
                        ddb.update_time_to_live(
                            TableName=physical,
                            TimeToLiveSpecification={
                                "Enabled": as_bool(ttl.get("Enabled"), True),
                                "AttributeName": ttl["AttributeName"],
                            },
                        )
                    pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
                    if isinstance(pitr, bool):
                        ddb.update_continuous_backups(
                            TableName=physical, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": pitr}
                        )
            except ClientError as exc:
                log.warning("%s: could not apply a property moto's CloudFormation ignores: %s", logical_id, exc)

    def resolve(self, expr: Any) -> str | None:
        """An expression of the template as the deployed stack evaluates it; None if it is not deployed."""
        if expr is None:
            return None
        if isinstance(expr, bool):
            return "true" if expr else "false"
        if not isinstance(expr, (dict, list)):
            return str(expr)
        return self._outputs.get(expr_key(expr))

    def physical_id(self, logical_id: str) -> str:
        try:
            return self._resources[logical_id]
        except KeyError:
            raise LocalStackError(f"{logical_id} is not deployed locally") from None

    def tables(self) -> dict[str, str]:
        return {k: v for k, v in self._resources.items() if self._resource_types.get(k) == "AWS::DynamoDB::Table"}

    def buckets(self) -> dict[str, str]:
        return {k: v for k, v in self._resources.items() if self._resource_types.get(k) == "AWS::S3::Bucket"}

    def queue_url(self, logical_id_or_arn: str) -> str:
        """The local URL of a queue given its logical id or ARN (moto's Ref gives an AWS-style URL)."""
        name = logical_id_or_arn.rsplit(":", 1)[-1] if logical_id_or_arn.startswith("arn:") else None
        if name is None:
            name = self.physical_id(logical_id_or_arn).rstrip("/").rsplit("/", 1)[-1]
        return self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]

    def send_to_destination(self, arn: str, message: dict[str, Any]) -> None:
        """Deliver an on-failure record to an SQS queue or SNS topic, as Lambda's destinations do."""
        body = json.dumps(message)
        if arn.startswith("arn:aws:sqs:"):
            self.client("sqs").send_message(QueueUrl=self.queue_url(arn), MessageBody=body)
        elif arn.startswith("arn:aws:sns:"):
            self.client("sns").publish(TopicArn=arn, Message=body)
        else:
            log.error("on-failure destination %s is not supported locally; record dropped: %s", arn, body)

    # -------------------------------------------------------------- sources

    def _open_sources(self, replay: bool) -> None:
        """Rule queues and schedules, then the journal's replay (its events need the queues), then the
        stream pollers, positioned after the replay; from then on the journal records."""
        self._stream_pollers, self._rule_pollers = [], []
        self._schedules = Schedules(self.account_id, self.region, self.invoke_async)
        started = _utcnow()
        for spec in self._functions.values():
            if spec.rules:
                self._rule_pollers.append(RulePoller(self, spec, self._create_rule_queue(spec)))
            for schedule in spec.schedules:
                rule_arn = f"arn:aws:events:{self.region}:{self.account_id}:rule/{self.stack_name}-{spec.logical_id}-{schedule.name}"
                self._schedules.add(spec, schedule, rule_arn, started)
        if replay and self._replay() > 0:
            self.restored = True
        stream_arns: set[str] = set()
        for spec in self._functions.values():
            for source in spec.streams:
                stream_arn = self.resolve(source.stream)
                if not stream_arn:
                    log.warning("%s/%s: its stream is not deployed locally; skipped", spec.logical_id, source.name)
                    continue
                stream_arns.add(stream_arn)
                if _table_of(stream_arn) in self._continued:
                    self.checkpoints.rebind(_table_of(stream_arn), stream_arn)
                shards = self.client("dynamodbstreams").describe_stream(StreamArn=stream_arn)["StreamDescription"][
                    "Shards"
                ]
                for shard in shards:
                    self._stream_pollers.append(StreamPoller(self, spec, source, stream_arn, shard["ShardId"]))
        self.checkpoints.keep_only(stream_arns)
        # A stream that goes on from a snapshot (or a journal since a fresh start) has the numbers
        # it had: each poller resumes after its checkpoint, or at the oldest record kept. Otherwise,
        # after a restore, the pollers start at LATEST: the restore's own writes are stream records
        # too, and re-processing them would count every restored response into the (also restored)
        # aggregates a second time. Iterators are opened here, before any worker runs.
        for poller in self._stream_pollers:
            poller.open(start_at_latest=self.restored and _table_of(poller.stream_arn) not in self._continued)
        self.checkpoints.flush()
        if self._journal_on and self._emulator is not None:
            self._journal.account_id = self.account_id
            self._journal.start_recording()

    def _create_rule_queue(self, spec: FunctionSpec) -> str:
        sqs, events = self.client("sqs"), self.client("events")
        queue_url = sqs.create_queue(QueueName=f"{self.stack_name}-{spec.logical_id}-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for rule in spec.rules:
            if rule.bus != "default":
                with contextlib.suppress(ClientError):
                    events.create_event_bus(Name=rule.bus)
            name = f"{self.stack_name}-{spec.logical_id}-{rule.name}"
            events.put_rule(Name=name, EventPattern=json.dumps(rule.pattern), EventBusName=rule.bus, State="ENABLED")
            events.put_targets(Rule=name, EventBusName=rule.bus, Targets=[{"Id": "local-runner", "Arn": queue_arn}])
        return queue_url

    # -------------------------------------------------------------- invocation

    def call(self, spec: FunctionSpec, event: Any) -> Any:
        """One invocation of a function's handler with a fresh context; exceptions propagate."""
        return self._runner.call(spec, event)

    def _spec(self, function_logical_id: str) -> FunctionSpec:
        try:
            return self._functions[function_logical_id]
        except KeyError:
            raise LocalStackError(f"no function {function_logical_id} in {self.template_path}") from None

    def invoke(self, function_logical_id: str, event: Any) -> Any:
        """A synchronous (RequestResponse) invocation: the handler's result, or its exception."""
        return self.call(self._spec(function_logical_id), event)

    def invoke_async(self, spec: FunctionSpec, event: Any) -> Any:
        """An asynchronous (Event) invocation as EventBridge makes: retries, then the on-failure destination."""
        return self._runner.invoke_async(self.call, spec, event)

    # -------------------------------------------------------------- schedules

    def fire_schedule(
        self, function_logical_id: str, event_name: str | None = None, now: datetime | None = None
    ) -> Any:
        """Fire a function's schedule now (its first, or the named one) as EventBridge would; the result."""
        self._spec(function_logical_id)
        return self._schedules.fire(function_logical_id, event_name, now or _utcnow())

    def tick_schedules(self, now: datetime | None = None) -> list[str]:
        """Fire every enabled schedule that is due at `now`; once each, missed runs are not replayed."""
        return self._schedules.tick(now or _utcnow())

    def next_schedules(self) -> dict[str, datetime]:
        return self._schedules.next()

    # -------------------------------------------------------------- workers

    def _pollers(self) -> list[Poller]:
        return [*self._stream_pollers, *self._rule_pollers]

    def drain(self, timeout: float = 30) -> None:
        """Process everything pending on every stream and event queue until two passes find nothing."""
        deadline = time.monotonic() + timeout
        idle_passes = 0
        while idle_passes < 2:
            if time.monotonic() > deadline:
                pending = {p.consumer: p.pending() for p in self._stream_pollers if p.pending()}
                raise TimeoutError(f"drain did not settle in {timeout} s; pending: {pending}")
            work = 0
            for poller in self._pollers():
                while (done := poller.poll_once(force=True, deadline=deadline)) > 0:
                    work += done
            idle_passes = idle_passes + 1 if work == 0 else 0

    def start_workers(self, interval: float = POLL_INTERVAL) -> None:
        """Background threads: one per stream shard and function, one per rule queue, one for schedules."""
        if self._threads:
            return
        self._stop.clear()
        for poller in self._pollers():
            name = poller.name
            self._threads.append(
                threading.Thread(
                    target=self._loop, args=(poller.poll_once, interval), name=f"local-{name}", daemon=True
                )
            )
        self._threads.append(
            threading.Thread(target=self._loop, args=(self._tick, 1.0), name="local-schedules", daemon=True)
        )
        for thread in self._threads:
            thread.start()

    def _tick(self) -> int:
        self.tick_schedules()
        return 0

    def _loop(self, step: Callable[[], int], interval: float) -> None:
        while not self._stop.is_set():
            try:
                busy = step()
            except Exception:
                log.exception("local worker step failed")
                busy = 0
            if not busy:
                self._stop.wait(interval)

    def stop_workers(self, timeout: float = 60) -> None:
        """Stop the background threads after their current batch."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
            if thread.is_alive():
                log.error("worker thread %s did not stop within %s s", thread.name, timeout)
        self._threads = []
        self._stop.clear()  # a later drain() must retry failures normally, not treat them as a shutdown
        self.checkpoints.flush()

    # -------------------------------------------------------------- persistence

    def has_snapshot(self) -> bool:
        return Snapshot.load(self.state_dir) is not None

    def snapshot(self) -> Path:
        """Save tables, stream positions, objects and checkpoints to state_dir; the journal before it goes.

        Requests are not stopped: mutating ones wait while the tables are copied in memory under
        the journal's lock, reads not at all (see infra/local/persistence.py for why that is enough).
        """
        if self._emulator is None:
            raise LocalStackError("a snapshot reads moto's memory: only a stack that runs its own moto takes one")
        with self._snapshot_lock:
            tables = self.tables()
            started = time.monotonic()
            with self._journal.lock:  # the cut: no mutating request is applied meanwhile
                checkpoints = self.checkpoints.as_dict()
                copies = {
                    logical_id: TableCopy(
                        name,
                        self._emulator.table_items(self.region, name),
                        self._emulator.stream_state(self.region, name, self._first_needed(name, checkpoints)),
                    )
                    for logical_id, name in tables.items()
                }
                segment = self._journal.rotate() if self._journal.recording else None
            paused = self.last_snapshot_pause = time.monotonic() - started
            target = write_snapshot(
                self.state_dir,
                self.stack_name,
                iso(_utcnow()),
                copies,
                self.buckets(),
                self._dump_bucket,
                checkpoints,
                segment,
            )
            if segment is not None:
                self._journal.drop_before(segment)
        self.checkpoints.flush()
        log.info("snapshot written to %s (mutating requests paused %.0f ms)", target, paused * 1000)
        return target

    def _first_needed(self, table: str, checkpoints: dict[str, Any]) -> int | None:
        """The oldest sequence number of a table's stream that some consumer has not processed; None: no consumer."""
        needed = []
        for poller in self._stream_pollers:
            if _table_of(poller.stream_arn) != table or not poller.source.enabled:
                continue
            checkpoint = checkpoints.get(poller.consumer, {}).get(poller.stream_arn, {}).get(poller.shard_id)
            needed.append(int(checkpoint) + 1 if checkpoint is not None else 0)
        return min(needed) if needed else None

    def _dump_bucket(self, bucket: str, directory: Path) -> list[dict[str, Any]]:
        return dump_bucket(self.client("s3"), bucket, directory)

    def restore(self) -> bool:
        """Put the last snapshot's items, objects and stream positions back; False when there is none.

        Called by start() before any poller is opened and before the journal is replayed: the
        journal's requests apply to exactly the state the snapshot cut.
        """
        self._continued, self._replay_from = set(), None
        snapshot = Snapshot.load(self.state_dir)
        segments = self._journal.segments()
        if snapshot is None:
            if segments[:1] == [1] and self._emulator is not None:
                # No snapshot yet: the journal holds the whole history since a fresh start, and each
                # stream starts from the same sequence number it started from then.
                self._replay_from = 1
                self._continued = set(self.tables().values())
            elif segments:
                log.warning("journal segments %s without their snapshot: ignored", segments)
            return False
        tables, buckets = self.tables(), self.buckets()
        for logical_id in snapshot.tables():
            if logical_id not in tables:
                log.warning("snapshot has table %s, which the template no longer has; skipped", logical_id)
                continue
            put_items(
                self.client("dynamodb"), tables[logical_id], [item_from_wire(i) for i in snapshot.items(logical_id)]
            )
            stream = snapshot.stream(logical_id)
            emulator = self._emulator
            if (
                stream is not None
                and emulator is not None
                and emulator.set_stream(self.region, tables[logical_id], stream)
            ):
                self._continued.add(tables[logical_id])
        for logical_id in snapshot.buckets():
            if logical_id not in buckets:
                log.warning("snapshot has bucket %s, which the template no longer has; skipped", logical_id)
                continue
            put_objects(self.client("s3"), buckets[logical_id], snapshot.objects(logical_id))
        if self._emulator is not None:
            self._replay_from = snapshot.journal_segment
        log.info(
            "restored %s from %s",
            ", ".join(f"{k}: {v['items']}" for k, v in snapshot.tables().items()),
            snapshot.directory,
        )
        return True

    def _replay(self) -> int:
        """Apply the journal after the snapshot (or all of it): what moto had accepted before the stop."""
        if self._replay_from is None or self._emulator is None or self._emulator.app is None:
            return 0
        started = time.monotonic()
        replayer = Replayer(self._emulator.app, self._credentials, self.account_id)
        for header, body in self._journal.records(self._replay_from):
            replayer.apply(header, body)
        if replayer.applied:
            log.info(
                "journal: replayed %d request(s) in %.1f s (%d answered otherwise than when journaled)",
                replayer.applied,
                time.monotonic() - started,
                replayer.failed,
            )
        return replayer.applied

    # -------------------------------------------------------------- HTTP API

    def start_api(self, port: int | None = None, app_import: str = "app:app", stage: str = "local") -> str:
        """Serve the Chalice app on http://127.0.0.1 (multithreaded); its URL.

        The app is imported here, after start() has set the environment (see api_server.py).
        """
        self.api_url = self._api.start(
            ROOT,
            app_import,
            stage,
            self.port_api if port is None else port,
            lambda env: self._set_env({k: v for k, v in env.items() if k not in os.environ}),
            self._reset_app_caches,
        )
        return self.api_url

    def stop_api(self) -> None:
        self._api.stop()

    # -------------------------------------------------------------- seed

    def seed(self, n: int = 400, survey_file: Path = SEED_DIR / "sipas-2026.xlsx") -> dict[str, int]:
        """Publish the demo survey, POST n generated submissions over HTTP, seed the year's fieldwork (frame,
        sample, the enumerator's assignment and visits: infra/local/seed/fieldwork.py), drain, build its report."""
        import requests

        from chalicelib.admin import publish_survey
        from chalicelib.reference.geography import load_geography
        from infra.local.seed import load_survey
        from infra.local.seed.responses import generate_submissions

        if not self.api_url:
            raise LocalStackError("seed() posts over HTTP: call start_api() first")
        definition = load_survey(survey_file)  # the XLSForm, read as an author's upload is
        publish_survey(definition)
        survey_id = definition["id"]
        counts: dict[str, int] = {}
        self._quiet_http.set()
        try:
            with requests.Session() as session:
                for submission in generate_submissions(definition, load_geography("vn-2025"), n, seed=7):
                    _vouch_for_widget(survey_id, submission)
                    response = session.post(
                        f"{self.api_url}/surveys/{survey_id}/responses", json=submission, timeout=30
                    )
                    counts[str(response.status_code)] = counts.get(str(response.status_code), 0) + 1
        finally:
            self._quiet_http.clear()
        from infra.local.seed.fieldwork import seed_fieldwork

        for outcome, count in seed_fieldwork(definition).items():
            counts[f"field:{outcome}"] = count
        self.drain(timeout=300)
        self.invoke(
            "ReportsFunction", self.eventbridge_event("par.reports", "ReportRequested", {"survey_id": survey_id})
        )
        self.drain(timeout=300)
        return counts

    def eventbridge_event(self, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
        """An event as EventBridge hands it to a rule's target."""
        return eventbridge_event(self.account_id, self.region, source, detail_type, detail)


def _table_of(stream_arn: str) -> str:
    """The table name in a stream ARN (arn:aws:dynamodb:region:account:table/NAME/stream/LABEL)."""
    return stream_arn.split("/")[1]


def _vouch_for_widget(survey_id: str, submission: dict[str, Any]) -> None:
    """The demo's widget submissions carry the token their province's widget page would have given them
    (chalicelib/domain/attribution.py), so the dashboard's attribution has something to show."""
    from chalicelib import wiring
    from chalicelib.domain.attribution import Attribution
    from chalicelib.domain.clock import stamp

    if submission.get("channel") != "widget":
        return
    found = Attribution(
        survey_id, "widget", agency=f"P{submission['province']}", rendered_at=stamp(), form_id=submission["id"]
    )
    submission["attribution"] = wiring.attribution_signer().sign(found)
