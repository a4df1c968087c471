"""Builds the deployable artefacts: the workers' bundle, the Chalice API package merged with infra/template.yaml.

    python -m infra.package                      # build/ only (what `make package` runs)
    python -m infra.package --deploy --stage dev # also upload code to S3 and deploy the stack

Deploying needs AWS credentials and PAR_ARTIFACT_BUCKET (an S3 bucket for code); the HMAC keys are a generated secret.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
WORKERS = BUILD / "workers"
API = BUILD / "api"
LAMBDA_PIP = [
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    "3.11",
    "--only-binary=:all:",
]


def copy_schemas_into_chalicelib() -> Path:
    """Chalice packages only app.py, chalicelib/ and vendor/: the contracts travel inside chalicelib/."""
    target = ROOT / "chalicelib" / "schemas"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "schemas", target)
    return target


def build_workers() -> Path:
    shutil.rmtree(WORKERS, ignore_errors=True)
    WORKERS.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("chalicelib", "functions"):
        shutil.copytree(ROOT / name, WORKERS / name, ignore=ignore)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(WORKERS),
            *LAMBDA_PIP,
            "-r",
            str(ROOT / "functions" / "requirements.txt"),
        ],
        check=True,
    )
    return WORKERS


def build_api(stage: str) -> Path:
    shutil.rmtree(API, ignore_errors=True)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "chalice"),
            "package",
            "--stage",
            stage,
            "--merge-template",
            "infra/template.yaml",
            str(API),
        ],
        cwd=ROOT,
        check=True,
        env={"AWS_DEFAULT_REGION": os.environ.get("AWS_REGION", "ap-southeast-1"), **os.environ},
    )
    import yaml

    # With a YAML merge template Chalice writes sam.yaml, in long-form intrinsics that plain YAML reads.
    produced = API / "sam.yaml" if (API / "sam.yaml").exists() else API / "sam.json"
    template = yaml.safe_load(produced.read_text())
    # The merged template sits in build/api/: give the workers' CodeUri the path seen from there.
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and props.get("CodeUri") == "../build/workers":
            props["CodeUri"] = os.path.relpath(WORKERS, API)
    _narrow_directory_statement(template)
    _binary_for_browsers(template)
    (API / "sam.json").write_text(json.dumps(template, indent=2))
    return API / "sam.json"


def _binary_for_browsers(template: dict[str, Any]) -> None:
    """API Gateway (REST) decides whether an answer is binary from the request's *first* Accept type, and a
    browser's <img> asks for image/avif first: with Chalice's specific list a QR PNG or a share card would
    reach a browser as base64 text. `*/*` makes every proxy answer follow the function's own
    isBase64Encoded flag (text stays text), and request bodies arrive base64, which Chalice's raw_body
    decodes. Chalice's own list (app.api.binary_types) stays specific: it decides what the function encodes.
    """
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Api" and "DefinitionBody" in resource.get("Properties", {}):
            resource["Properties"]["DefinitionBody"]["x-amazon-apigateway-binary-media-types"] = ["*/*"]


DIRECTORY_SID = "OfficialsDirectory"


def _narrow_directory_statement(node: Any) -> int:
    """The API's Cognito admin statement names the pool, whose id only exists in this stack.

    .chalice/policy-<stage>.json cannot know it, so it says userpool/*; the merged template
    replaces that with the pool's ARN. Returns how many statements were narrowed.
    """
    count = 0
    if isinstance(node, dict):
        if node.get("Sid") == DIRECTORY_SID and "Resource" in node:
            node["Resource"] = {"Fn::GetAtt": ["OfficialsUserPool", "Arn"]}
            count += 1
        for value in node.values():
            count += _narrow_directory_statement(value)
    elif isinstance(node, list):
        for value in node:
            count += _narrow_directory_statement(value)
    return count


def _zip_dir(directory: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return target


def deploy(template_path: Path, stage: str) -> None:
    import boto3

    bucket = os.environ["PAR_ARTIFACT_BUCKET"]
    template: dict[str, Any] = json.loads(template_path.read_text())
    s3 = boto3.client("s3")
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        uri = props.get("CodeUri")
        if resource.get("Type") != "AWS::Serverless::Function" or not isinstance(uri, str) or uri.startswith("s3://"):
            continue
        local = (template_path.parent / uri).resolve()
        archive = local if local.suffix == ".zip" else _zip_dir(local, BUILD / f"{local.name}.zip")
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
        key = f"par-platform/{stage}/{archive.stem}-{digest}.zip"
        s3.upload_file(str(archive), bucket, key)
        props["CodeUri"] = f"s3://{bucket}/{key}"
    packaged = BUILD / "packaged.json"
    packaged.write_text(json.dumps(template, indent=2))
    cfn = boto3.client("cloudformation")
    s3.upload_file(str(packaged), bucket, f"par-platform/{stage}/template.json")
    url = f"https://{bucket}.s3.amazonaws.com/par-platform/{stage}/template.json"
    name = f"par-{stage}"
    exists = bool(
        [
            s
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE"
        ]
    )
    change = cfn.create_change_set(
        StackName=name,
        ChangeSetName=f"deploy-{digest}",
        ChangeSetType="UPDATE" if exists else "CREATE",
        TemplateURL=url,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": stage},
        ],
    )
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change["Id"])
    cfn.execute_change_set(ChangeSetName=change["Id"])
    waiter = "stack_update_complete" if exists else "stack_create_complete"
    cfn.get_waiter(waiter).wait(StackName=name)
    print(f"deployed {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--deploy", action="store_true")
    args = parser.parse_args(argv)
    copy_schemas_into_chalicelib()
    build_workers()
    template = build_api(args.stage)
    print(f"built {WORKERS.relative_to(ROOT)} and {template.relative_to(ROOT)}")
    if args.deploy:
        deploy(template, args.stage)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
