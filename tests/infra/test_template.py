"""infra/template.yaml: lint-clean, safe stream workers, protected data stores, and what the local stack deploys."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.stack import DATA_TYPES, LocalStack, load_template, parse_functions, references

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "infra" / "template.yaml"
CHALICE_DIR = ROOT / ".chalice"
# Names Chalice's own packaged template uses; --merge-template would overwrite ours or theirs.
CHALICE_NAMES = {"APIHandler", "APIHandlerInvokePermission", "ApiHandlerRole", "DefaultRole", "RestAPI", "RestAPIId"}
CHALICE_OUTPUTS = {"RestAPIId", "APIHandlerName", "APIHandlerArn", "EndpointURL"}
PAR_VARIABLES = {
    "PAR_STAGE",
    "PAR_SURVEYS_TABLE",
    "PAR_RESPONSES_TABLE",
    "PAR_AGGREGATES_TABLE",
    "PAR_AUDIT_TABLE",
    "PAR_AGENCIES_TABLE",
    "PAR_REVOCATIONS_TABLE",
    "PAR_FIELDWORK_TABLE",
    "PAR_REPORTS_BUCKET",
    "PAR_LAKE_BUCKET",
    "PAR_EVENT_BUS",
}


TABLES = {
    "SurveysTable",
    "ResponsesTable",
    "AggregatesTable",
    "AuditTable",
    "AgenciesTable",
    "RevocationsTable",
    "FieldworkTable",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _stream_events(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, event["Properties"])
        for name, fn in _of_type(template, "AWS::Serverless::Function").items()
        for event in fn["Properties"].get("Events", {}).values()
        if event["Type"] == "DynamoDB"
    ]


def test_cfn_lint_finds_no_errors_or_warnings() -> None:
    from cfnlint.api import lint

    matches = lint(TEMPLATE_PATH.read_text(encoding="utf-8"), regions=["ap-southeast-1"])
    problems = [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches if m.rule.id[0] in "EW"]
    assert problems == []


def test_stream_workers_report_failures_bisect_retry_boundedly_and_keep_what_fails(template: dict[str, Any]) -> None:
    events = _stream_events(template)
    assert sorted(name for name, _ in events) == [
        "AggregateFunction",
        "ArchiveFunction",
        "FieldProgressFunction",
        "ScreenFunction",
    ]
    for name, props in events:
        table = "FieldworkTable" if name == "FieldProgressFunction" else "ResponsesTable"
        assert props["Stream"] == {"Fn::GetAtt": [table, "StreamArn"]}, name
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert props["BisectBatchOnFunctionError"] is True, name
        assert 0 <= props["MaximumRetryAttempts"] <= 10, name
        assert 0 < props["MaximumRecordAgeInSeconds"] <= 86400, name
        assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["WorkerDLQ", "Arn"]}, name
        assert props["BatchSize"] == 100, name


def test_screen_only_sees_inserts(template: dict[str, Any]) -> None:
    (screen,) = [s for s in parse_functions(template) if s.logical_id == "ScreenFunction"]
    assert screen.streams[0].filters == [{"eventName": ["INSERT"]}]
    others = [s for s in parse_functions(template) if s.logical_id in {"AggregateFunction", "ArchiveFunction"}]
    assert all(not s.streams[0].filters for s in others)  # they need MODIFY (status changes) too


def test_field_progress_sees_only_new_visits(template: dict[str, Any]) -> None:
    from infra.local.eventbridge import matches_pattern

    (worker,) = [s for s in parse_functions(template) if s.logical_id == "FieldProgressFunction"]
    (pattern,) = worker.streams[0].filters

    def record(event: str, pk: str) -> dict[str, Any]:
        return {"eventName": event, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "-"}}}}

    assert matches_pattern(pattern, record("INSERT", "visit#01J0000000000000000000000A"))
    for event, pk in (
        ("MODIFY", "visit#01J"),
        ("INSERT", "mark#01J"),
        ("INSERT", "progress#2026#S"),
        ("INSERT", "paper#P01"),
    ):
        assert not matches_pattern(pattern, record(event, pk)), (event, pk)


def test_functions_share_the_runtime_environment(template: dict[str, Any]) -> None:
    specs = {s.logical_id: s for s in parse_functions(template)}
    assert set(specs) == {
        "ScreenFunction",
        "AggregateFunction",
        "ArchiveFunction",
        "FieldProgressFunction",
        "ReportsFunction",
        "ReconcileFunction",
        "RetentionFunction",
        "PreTokenFunction",
    }
    for name, spec in specs.items():
        assert spec.handler == f"functions.{name.removesuffix('Function').lower()}.handler.handler"
        assert set(spec.env) >= PAR_VARIABLES, name
        assert spec.env["POWERTOOLS_METRICS_NAMESPACE"] == "ParPlatform"
    props = template["Resources"]["ReportsFunction"]["Properties"]
    assert (props["MemorySize"], props["Timeout"]) == (1024, 300)
    assert template["Resources"]["ReconcileFunction"]["Properties"]["Timeout"] == 900
    assert [s.expression for s in specs["ReportsFunction"].schedules] == ["cron(0 19 * * ? *)"]
    assert specs["ReportsFunction"].rules[0].pattern == {"source": ["par.reports"], "detail-type": ["ReportRequested"]}
    assert [s.expression for s in specs["ReconcileFunction"].schedules] == ["rate(1 hour)"]
    globals_ = template["Globals"]["Function"]
    assert (globals_["Runtime"], globals_["Tracing"]) == ("python3.11", "Active")
    for fn in _of_type(template, "AWS::Serverless::Function").values():
        assert fn["Properties"]["CodeUri"] == "../build/workers"


def test_the_pool_puts_the_agency_into_access_tokens_with_a_v2_trigger(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    pool = resources["OfficialsUserPool"]["Properties"]
    assert pool["LambdaConfig"] == {
        "PreTokenGenerationConfig": {"LambdaArn": {"Fn::GetAtt": ["PreTokenFunction", "Arn"]}, "LambdaVersion": "V2_0"}
    }
    # V2_0 needs Essentials or Plus; threat protection (AdvancedSecurityMode) needs Plus.
    assert pool["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert pool["UserPoolTier"] == "PLUS"
    (permission,) = [
        p["Properties"]
        for p in _of_type(template, "AWS::Lambda::Permission").values()
        if "PreTokenFunction" in references(p["Properties"]["FunctionName"])
    ]
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": ["PreTokenFunction", "Arn"]},
        "Principal": "cognito-idp.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["OfficialsUserPool", "Arn"]},
    }
    fn = resources["PreTokenFunction"]["Properties"]
    assert (fn["Handler"], fn["Timeout"]) == ("functions.pretoken.handler.handler", 5)
    assert 128 <= fn["MemorySize"] <= 256
    assert "Events" not in fn  # only the pool invokes it; the local stack leaves it alone
    assert fn["LoggingConfig"] == {"LogGroup": {"Ref": "PreTokenLogGroup"}}
    assert resources["PreTokenLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/par-${Stage}-pretoken"
    }
    # The pool depends on the function: with the Globals merged in, the function must not name the pool.
    (spec,) = [s for s in parse_functions(template) if s.logical_id == "PreTokenFunction"]
    assert not references(spec.env) & {"OfficialsUserPool", "ConsoleClient"}
    assert not (spec.streams or spec.schedules or spec.rules)


def test_tables_have_pitr_and_encryption(template: dict[str, Any]) -> None:
    tables = _of_type(template, "AWS::DynamoDB::Table")
    assert set(tables) == TABLES
    for name, table in tables.items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        # what citizens and officials wrote is retained; revocations only matter for a day
        assert table.get("DeletionPolicy") == ("Delete" if name == "RevocationsTable" else "Retain"), name
    responses = tables["ResponsesTable"]["Properties"]
    assert responses["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert responses["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    indexes = {gsi["IndexName"]: gsi for gsi in responses["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_survey", "by_field"}  # by_field: sparse, field interviews only
    for name, key in (("by_survey", "survey_key"), ("by_field", "field_key")):
        assert [k["AttributeName"] for k in indexes[name]["KeySchema"]] == [key, "response_id"]
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}


def test_buckets_are_versioned_private_encrypted_and_https_only(template: dict[str, Any]) -> None:
    buckets = _of_type(template, "AWS::S3::Bucket")
    assert set(buckets) == {"ReportsBucket", "LakeBucket"}
    policies = {p["Properties"]["Bucket"]["Ref"]: p for p in _of_type(template, "AWS::S3::BucketPolicy").values()}
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}, name
        assert len(props["PublicAccessBlockConfiguration"]) == 4, name
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, name
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert any("NoncurrentVersionExpiration" in r for r in props["LifecycleConfiguration"]["Rules"]), name
        (statement,) = policies[name]["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_dlq_is_encrypted_kept_14_days_and_alarmed(template: dict[str, Any]) -> None:
    dlq = template["Resources"]["WorkerDLQ"]["Properties"]
    assert dlq["MessageRetentionPeriod"] == 1209600
    assert dlq["SqsManagedSseEnabled"] is True
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    assert any(a["Properties"]["Namespace"] == "AWS/SQS" and "WorkerDLQ" in references(a) for a in alarms.values())
    for fn in ("ScreenFunction", "AggregateFunction", "ArchiveFunction", "FieldProgressFunction"):
        metrics = {a["Properties"]["MetricName"] for a in alarms.values() if fn in references(a)}
        assert metrics == {"Errors", "IteratorAge"}, fn
    # the sign-in trigger and the scheduled jobs alarm on errors too
    for fn in ("PreTokenFunction", "ReportsFunction", "ReconcileFunction", "RetentionFunction"):
        assert any(a["Properties"]["MetricName"] == "Errors" and fn in references(a) for a in alarms.values()), fn


def test_outputs_name_every_table_bucket_and_queue(template: dict[str, Any]) -> None:
    stores = {
        k
        for k, v in template["Resources"].items()
        if v["Type"] in {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue"}
    }
    referenced = set().union(*(references(o["Value"]) for o in template["Outputs"].values()))
    assert stores <= referenced


def test_nothing_clashes_with_chalices_packaged_template(template: dict[str, Any]) -> None:
    assert not CHALICE_NAMES & set(template["Resources"])
    assert not CHALICE_NAMES & set(template["Parameters"])
    assert not CHALICE_OUTPUTS & set(template["Outputs"])
    # the identifier-hash keys are a generated secret, never a parameter or a plain environment value
    assert "HmacKey" not in template["Parameters"]
    assert template["Resources"]["HmacKeySecret"]["Type"] == "AWS::SecretsManager::Secret"


def test_chalice_stages_have_least_privilege_policies() -> None:
    config = json.loads((CHALICE_DIR / "config.json").read_text(encoding="utf-8"))
    assert config["app_name"] == "par-platform"
    assert set(config["stages"]) == {"local", "dev", "prod"}
    for stage, settings in config["stages"].items():
        assert settings.get("autogen_policy", config.get("autogen_policy")) is False, stage
        policy = json.loads((CHALICE_DIR / settings["iam_policy_file"]).read_text(encoding="utf-8"))
        assert settings["iam_policy_file"] == f"policy-{stage}.json"
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in a for a in actions), statement
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if statement["Sid"] == "OfficialsDirectory":  # the pool's id is known only in the stack
                assert resources == ["arn:aws:cognito-idp:*:*:userpool/*"]  # infra/package.py narrows it
            elif statement["Sid"] != "Tracing":  # X-Ray has no resource-level permissions
                assert all(
                    f"par-{stage}-" in r or f"par-platform-{stage}" in r or r.endswith("event-bus/default")
                    for r in resources
                )
        env = {**config.get("environment_variables", {}), **settings.get("environment_variables", {})}
        assert env["PAR_STAGE"] == stage


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("state"), template=TEMPLATE_PATH) as stack:
        yield stack


def test_local_stack_deploys_exactly_the_data_resources(deployed: LocalStack, template: dict[str, Any]) -> None:
    expected = {k for k, v in template["Resources"].items() if v["Type"] in DATA_TYPES}
    assert set(deployed.resources) == expected
    assert expected == TABLES | {
        "ReportsBucket",
        "LakeBucket",
        "WorkerDLQ",
        "AlarmTopic",
    }
    # Outputs of data resources only: officials' identities come locally from infra/local/idp.py, not Cognito.
    assert set(deployed.outputs) == set(template["Outputs"]) - {"OfficialsUserPoolId", "ConsoleClientId"}


def test_local_stack_environment_matches_the_deployment_and_chalice_local_stage(deployed: LocalStack) -> None:
    env = deployed.environment()
    assert set(env) >= PAR_VARIABLES
    assert env["PAR_STAGE"] == "local"
    assert env["PAR_SURVEYS_TABLE"] == deployed.physical_id("SurveysTable")
    assert env["PAR_LAKE_BUCKET"] == deployed.physical_id("LakeBucket")
    assert os.environ["AWS_ENDPOINT_URL"] == deployed.endpoint
    stream = deployed.client("dynamodb").describe_table(TableName=env["PAR_RESPONSES_TABLE"])["Table"]
    assert stream["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    local_stage = json.loads((CHALICE_DIR / "config.json").read_text(encoding="utf-8"))["stages"]["local"]
    for name, value in local_stage["environment_variables"].items():
        # `chalice local --stage local` would point at the same resources (in moto's default account;
        # a stack started beside another one in the same process gets an account of its own).
        assert env[name] == value.replace("123456789012", deployed.account_id), name


def test_local_stack_opens_every_event_source(deployed: LocalStack) -> None:
    schedules = deployed.next_schedules()
    assert set(schedules) == {"ReportsFunction/Nightly", "ReconcileFunction/Hourly", "RetentionFunction/Daily"}
    assert (schedules["ReportsFunction/Nightly"].hour, schedules["ReportsFunction/Nightly"].minute) == (19, 0)
    queues = deployed.client("sqs").list_queues()["QueueUrls"]
    assert any(q.endswith("/par-local-ReportsFunction-events") for q in queues)
    deployed.drain()  # nothing written yet: no handler is imported or invoked


def test_the_user_pool_keeps_the_settings_that_cannot_change(template: dict[str, Any]) -> None:
    """Cognito cannot change these after creation: CloudFormation would replace the pool, and every
    official would lose their account (the old pool is retained, detached). Change them only with a
    new logical id and a migration plan."""
    pool = template["Resources"]["OfficialsUserPool"]["Properties"]
    assert pool["AliasAttributes"] == ["email"]
    assert "UsernameAttributes" not in pool
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert [a["Name"] for a in pool["Schema"]] == ["agency"]  # custom attributes cannot be removed either
    assert template["Resources"]["OfficialsUserPool"]["UpdateReplacePolicy"] == "Retain"


def test_invitations_are_in_vietnamese_and_carry_what_cognito_requires(template: dict[str, Any]) -> None:
    invite = template["Resources"]["OfficialsUserPool"]["Properties"]["AdminCreateUserConfig"]["InviteMessageTemplate"]
    assert "{username}" in invite["EmailMessage"] and "{####}" in invite["EmailMessage"]
    assert "Mật khẩu tạm thời" in invite["EmailMessage"] and "Bộ Nội vụ" in invite["EmailSubject"]
    assert "HasSesSender" in template["Conditions"]
