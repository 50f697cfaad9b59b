"""Tests of tools/transformgate.py: the real template passes, and each check refuses a
template broken the way it guards against (the first two are the template as it was
before the gate existed). Run by `make test-tools` (part of `make test`):

    .venv/bin/python -m unittest discover -s tools -p 'test_*.py'
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import transformgate as gate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
DELIVER_ASL = ROOT / "statemachine" / "deliver.asl.json"

SAM = gate.load_sam(TEMPLATE)


def variant(change) -> dict:
    """A deep copy of template.yaml with change(template) applied."""
    t = copy.deepcopy(SAM)
    change(t)
    return t


def res(t: dict, rid: str) -> dict:
    return t["Resources"][rid]["Properties"]


def with_asl(text: str, machine: str = "CheckoutStateMachine"):
    """A change that points a state machine at a definition file holding text."""
    d = tempfile.mkdtemp(prefix="gate-asl-")
    path = Path(d) / "checkout.asl.json"
    path.write_text(text, encoding="utf-8")

    def change(t):
        res(t, machine)["DefinitionUri"] = str(path)

    return change


class TransformGateTest(unittest.TestCase):
    def problems(self, sam: dict, lint: bool = False) -> list[str]:
        _, problems = gate.check(sam, ROOT, lint=lint)
        return problems

    def assertRefused(self, sam: dict, *fragments: str, lint: bool = False):
        problems = self.problems(sam, lint=lint)
        self.assertTrue(problems, "the gate accepted a broken template")
        text = "\n".join(problems)
        for f in fragments:
            self.assertIn(f, text, f"no problem mentions {f!r}:\n{text}")

    def test_the_template_passes_every_check_and_the_command_writes_the_transformed_template(self):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "sub" / "transformed.json"
            run = subprocess.run(
                [sys.executable, str(ROOT / "tools" / "transformgate.py"), "--template", str(TEMPLATE), "--out", str(out)],
                capture_output=True, text=True, cwd=ROOT,
            )
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertIn("transform gate: ok", run.stdout)
            cfn = json.loads(out.read_text())
        # What the transform produces: plain CloudFormation, the API with its IAM route.
        self.assertNotIn("Transform", cfn)
        types = {r["Type"] for r in cfn["Resources"].values()}
        self.assertIn("AWS::ApiGatewayV2::Api", types)
        self.assertNotIn("AWS::Serverless::Function", types)

    # The two ways the template was broken before the gate existed.

    def test_without_the_iam_authorizer_the_transform_refuses_the_ops_route(self):
        # The first break: an AWS_IAM route on an API that does not enable the IAM
        # authorizer (today the automation route /ops; the operators' /admin takes JWTs).
        def change(t):
            del res(t, "HttpApi")["Auth"]["EnableIamAuthorizer"]

        self.assertRefused(variant(change), "transform:", "Authorizer [AWS_IAM]", "/ops/{proxy+}")

    def test_without_the_jwt_authorizer_the_transform_refuses_the_admin_route(self):
        def change(t):
            del res(t, "HttpApi")["Auth"]["Authorizers"]

        self.assertRefused(variant(change), "transform:", "Authorizer [OperatorAuthorizer]", "/admin/{proxy+}")

    def test_api_url_in_globals_is_a_cycle_between_the_api_and_the_functions(self):
        def change(t):
            t["Globals"]["Function"]["Environment"]["Variables"]["API_URL"] = {
                "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
            }

        problems = self.problems(variant(change))
        cycles = [p for p in problems if p.startswith("cycle:")]
        self.assertTrue(cycles, f"no cycle reported: {problems}")
        self.assertIn("HttpApi", cycles[0])
        self.assertRegex(cycles[0], r"\w+Function")

    def test_cfn_lint_runs_on_the_transformed_template(self):
        def change(t):
            res(t, "HttpApi5xxAlarm")["ComparisonOperator"] = "MoreThan"

        self.assertRefused(variant(change), "cfn-lint:", "MoreThan", lint=True)

    # One broken variant per other check.

    def test_a_ref_to_nothing(self):
        def change(t):
            res(t, "ShopFunction")["Environment"] = {"Variables": {"X": {"Ref": "NoSuchThing"}}}

        self.assertRefused(variant(change), "refs:", "Ref NoSuchThing", "ShopFunction")

    def test_a_getatt_of_a_missing_resource_and_of_a_missing_attribute(self):
        def change(t):
            res(t, "ShopFunction")["Environment"] = {
                "Variables": {"A": {"Fn::GetAtt": ["NoTable", "Arn"]}, "B": {"Fn::GetAtt": ["CheckoutTable", "Url"]}}
            }

        self.assertRefused(variant(change), "Fn::GetAtt NoTable.Arn: no resource NoTable",
                           "CheckoutTable.Url: AWS::DynamoDB::Table has no attribute 'Url'")

    def test_a_sub_variable_naming_nothing(self):
        def change(t):
            res(t, "ShopFunction")["Environment"] = {"Variables": {"X": {"Fn::Sub": "${AWS::Region}-${Nope}"}}}

        self.assertRefused(variant(change), "refs:", "${Nope}")

    def test_sub_escapes_and_local_variables_are_not_references(self):
        def change(t):
            res(t, "ShopFunction")["Environment"] = {
                "Variables": {"X": {"Fn::Sub": ["${!Literal}-${Local}", {"Local": {"Ref": "ShopId"}}]}}
            }

        self.assertEqual(self.problems(variant(change)), [])

    def test_an_undefined_condition(self):
        def change(t):
            t["Resources"]["AlarmEmailSubscription"]["Condition"] = "NoSuchCondition"

        self.assertRefused(variant(change), "refs:", "NoSuchCondition")

    def test_a_substitution_the_definition_does_not_use(self):
        def change(t):
            res(t, "CheckoutStateMachine")["DefinitionSubstitutions"]["UnusedArn"] = {"Fn::GetAtt": ["ShopFunction", "Arn"]}

        self.assertRefused(variant(change), "asl:", "DefinitionSubstitutions key UnusedArn is not used")

    def test_a_placeholder_without_substitution(self):
        def change(t):
            del res(t, "DeliverStateMachine")["DefinitionSubstitutions"]["NotifyFunctionArn"]

        self.assertRefused(variant(change), "asl:", "${NotifyFunctionArn}", "has no DefinitionSubstitutions entry")

    def test_a_new_placeholder_in_the_definition(self):
        asl = DELIVER_ASL.read_text(encoding="utf-8").replace("${BillFunctionArn}", "${BilFunctionArn}")
        self.assertRefused(variant(with_asl(asl, "DeliverStateMachine")), "${BilFunctionArn}", "BillFunctionArn is not used")

    def test_a_missing_definition_file(self):
        def change(t):
            res(t, "CheckoutStateMachine")["DefinitionUri"] = "statemachine/nope.asl.json"

        self.assertRefused(variant(change), "asl:", "cannot read its definition statemachine/nope.asl.json")

    def test_a_function_without_its_alarms(self):
        def change(t):
            del t["Resources"]["BillFunctionErrorsAlarm"]
            del t["Resources"]["BillFunctionThrottlesAlarm"]

        self.assertRefused(variant(change), "alarms: BillFunction has no CloudWatch alarm on AWS/Lambda Errors",
                           "alarms: BillFunction has no CloudWatch alarm on AWS/Lambda Throttles")

    def test_a_function_logging_to_a_group_without_retention(self):
        def change(t):
            del res(t, "UsersFunction")["LoggingConfig"]
            del res(t, "BillLogGroup")["RetentionInDays"]

        self.assertRefused(variant(change), "logs: UsersFunction: LoggingConfig.LogGroup is not a !Ref",
                           "logs: BillFunction: its log group BillLogGroup has no RetentionInDays")

    def test_the_command_exits_1_and_names_the_problem(self):
        broken = variant(lambda t: res(t, "HttpApi").pop("Auth"))
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "template.json"
            path.write_text(json.dumps(broken), encoding="utf-8")
            run = subprocess.run(
                [sys.executable, str(ROOT / "tools" / "transformgate.py"), "--template", str(path),
                 "--root", str(ROOT), "--out", str(Path(d) / "out.json")],
                capture_output=True, text=True,
            )
        self.assertEqual(run.returncode, 1)
        self.assertIn("the deploy gate refuses the template", run.stderr)
        self.assertIn("transform: ", run.stderr)


class CycleTest(unittest.TestCase):
    def test_a_three_resource_cycle_is_named_in_order_and_depends_on_counts(self):
        cfn = {"Resources": {
            "A": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "B"}}},
            "B": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::Sub": "${C.TopicName}"}}},
            "C": {"Type": "AWS::SNS::Topic", "DependsOn": "A"},
            "D": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "A"}}},
        }}
        self.assertEqual(gate.check_cycles(cfn), ["cycle: A -> B -> C -> A (CloudFormation refuses circular dependencies)"])

    def test_a_self_reference(self):
        cfn = {"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "A"}}}}}
        self.assertEqual(len(gate.check_cycles(cfn)), 1)

    def test_no_cycle(self):
        cfn = {"Resources": {
            "A": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "B"}}},
            "B": {"Type": "AWS::SNS::Topic"},
        }}
        self.assertEqual(gate.check_cycles(cfn), [])


if __name__ == "__main__":
    unittest.main()
