#!/usr/bin/env python3
"""Run the AWS SAM transform offline, as CloudFormation runs it on deploy.

    samtransform.py [--template template.yaml] [--out FILE] [--region us-east-1]

It reads the SAM template, replaces local code locations with the S3 locations that
`sam package` leaves in their place (CodeUri -> s3://..., DefinitionUri -> {Bucket, Key}),
and feeds the result to aws-sam-translator, the library behind CloudFormation's
AWS::Serverless-2016-10-31 transform and `sam validate` (pinned in tools/requirements.txt).
The transformed CloudFormation template is written as JSON to --out (stdout by default).

The translator is given no IAM client: every managed policy the template names must be an
ARN, never a bare name (a name would need IAM's ListPolicies, which a deploy resolves
but an offline run cannot). A refusal by the transform is printed as the translator
words it and exits 1, so `make lint` fails where `sam deploy` would.
"""

import argparse
import json
import sys

import boto3  # noqa: F401  (the translator imports botocore; fail early with a clear message)
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# Where `sam package` would have put the artifacts. Any bucket does: the transform copies
# the location into the resource and checks only its shape.
ARTIFACT_BUCKET = "lms-checkout-artifacts"


class OfflinePolicies(ManagedPolicyLoader):
    """A managed policy loader that knows no policy names (no IAM call)."""

    def __init__(self) -> None:
        super().__init__(iam_client=None)

    def load(self) -> dict:
        return {}


def packaged(template: dict) -> dict:
    """Replace local artifact paths with S3 locations, as `sam package` does."""
    for logical_id, res in (template.get("Resources") or {}).items():
        props = res.get("Properties") or {}
        typ = res.get("Type")
        if typ == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            if not props["CodeUri"].startswith("s3://"):
                props["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{logical_id}.zip"
        if typ == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            props["DefinitionUri"] = {"Bucket": ARTIFACT_BUCKET, "Key": f"{logical_id}.asl.json"}
    return template


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default="template.yaml")
    ap.add_argument("--out", default="-")
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args()

    # The translator reads the region for ARNs it builds (managed policies, partitions).
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", args.region)
    os.environ.setdefault("AWS_REGION", args.region)

    with open(args.template, encoding="utf-8") as f:
        template = packaged(yaml_parse(f.read()))
    try:
        out = transform(template, {}, OfflinePolicies())
    except InvalidDocumentException as e:
        print(f"{args.template}: the SAM transform refuses the template:", file=sys.stderr)
        for cause in e.causes:
            print(f"  - {cause.message}", file=sys.stderr)
        return 1
    text = json.dumps(out, indent=2, sort_keys=False) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
