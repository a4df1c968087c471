"""`make package` builds an API package merged with infra/template.yaml that cfn-lint accepts, with the contracts inside."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra import package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def merged_template() -> Path:
    package.copy_schemas_into_chalicelib()
    return package.build_api("dev")


def test_packaged_schemas_are_the_repository_schemas(merged_template):
    comparison = filecmp.dircmp(ROOT / "schemas", ROOT / "chalicelib" / "schemas")
    assert not comparison.diff_files
    assert not comparison.left_only
    assert not comparison.right_only


def test_merged_template_has_the_api_and_every_worker_and_passes_cfn_lint(merged_template):
    template = json.loads(merged_template.read_text())
    functions = {k for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert {
        "APIHandler",
        "ScreenFunction",
        "AggregateFunction",
        "ArchiveFunction",
        "ReportsFunction",
        "ReconcileFunction",
    } <= functions
    # the API gets the tables' real names from the template, not from hand-written stage settings
    env = template["Resources"]["APIHandler"]["Properties"].get("Environment", {}).get("Variables", {})
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    assert "PAR_RESPONSES_TABLE" in {**globals_env, **env}
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(merged_template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_api_may_administer_only_its_own_user_pool(merged_template):
    text = merged_template.read_text()
    template = json.loads(text)
    # the policy file says userpool/* (it cannot know the pool's id); infra/package.py names the pool instead
    assert "userpool/*" not in text
    statements = [
        s
        for resource in template["Resources"].values()
        for policy in resource.get("Properties", {}).get("Policies", []) or []
        if isinstance(policy, dict)
        for s in policy.get("PolicyDocument", {}).get("Statement", [])
        if s.get("Sid") == "OfficialsDirectory"
    ]
    assert statements, "the API role lost its directory statement"
    assert all(s["Resource"] == {"Fn::GetAtt": ["OfficialsUserPool", "Arn"]} for s in statements)


def test_api_package_leaves_pandas_out(merged_template):
    import zipfile

    names = zipfile.ZipFile(merged_template.parent / "deployment.zip").namelist()
    assert not [n for n in names if n.startswith("pandas/")]
    assert "chalicelib/schemas/survey.schema.json" in names


def test_the_api_compresses_its_answers(merged_template):
    # The page-weight budget (README) counts gzip-transferred bytes: API Gateway must compress what it sends.
    template = json.loads(merged_template.read_text())
    apis = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Api"]
    assert apis and all(0 < a["Properties"].get("MinimumCompressionSize", -1) <= 1024 for a in apis)


def test_binary_answers_reach_browsers_as_binary(merged_template):
    template = json.loads(merged_template.read_text())
    (api,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Api"]
    assert api["Properties"]["DefinitionBody"]["x-amazon-apigateway-binary-media-types"] == ["*/*"]
