#!/usr/bin/env python3
"""The deploy gate: check template.yaml as CloudFormation will receive it.

    transformgate.py [--template template.yaml] [--out build/transformed.json]
                     [--root DIR] [--region us-east-1]

`make lint-transform` runs it. It runs the SAM transform offline (tools/samtransform.py:
the translator that CloudFormation's AWS::Serverless-2016-10-31 transform runs, with code
locations as `sam package` leaves them), writes the transformed CloudFormation template
to --out, and checks that template:

  transform   the transform accepts the template at all
  cfn-lint    cfn-lint's rules, on the transformed template (cfn-lint 1.x on the SAM
              template does not run the whole transform, so it misses what only the
              transform produces, such as the HTTP API's body)
  cycle       no dependency cycle between resources (Ref, Fn::GetAtt, Fn::Sub variables,
              DependsOn), which CloudFormation refuses at deploy time
  refs        every Ref, Fn::GetAtt and Fn::Sub variable names a parameter, a pseudo
              parameter or a resource; every Fn::GetAtt attribute exists for the
              resource's type (cfn-lint's resource schemas); every condition used exists
  asl         every DefinitionSubstitutions key of a state machine is used by its
              definition (the file its DefinitionUri names, under --root) and every
              ${...} placeholder of the definition is substituted
  alarms      every Lambda function has an alarm on its Errors and on its Throttles
  logs        every Lambda function logs to a log group of the template
              (LoggingConfig.LogGroup) that has a retention (RetentionInDays)

It prints one line per problem, naming the check, and exits 1 if there is any; 0 and a
one-line summary otherwise. The checks are functions (check_*) so that
tools/test_transformgate.py can feed each one a broken template.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import samtransform  # noqa: E402  (tools/samtransform.py, beside this file)
from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

# The translator warns about its usage metrics, which only the hosted transform publishes.
logging.getLogger("samtranslator").setLevel(logging.ERROR)

PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}

# ${Name} or ${Name.Attr} in Fn::Sub; ${!Literal} is an escaped literal, not a variable.
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
# A state machine definition's placeholders are plain names (DefinitionSubstitutions keys).
ASL_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


class Refused(Exception):
    """The SAM transform refused the template; args[0] lists the translator's reasons."""


def load_sam(path: str | os.PathLike) -> dict:
    """Parse a SAM template (YAML or JSON) as the translator does."""
    with open(path, encoding="utf-8") as f:
        return yaml_parse(f.read())


def run_transform(sam: dict, region: str = "us-east-1") -> dict:
    """Run the SAM transform on a parsed template (a deep copy is packaged, not sam)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ.setdefault("AWS_REGION", region)
    packaged = samtransform.packaged(json.loads(json.dumps(sam)))
    try:
        return transform(packaged, {}, samtransform.OfflinePolicies())
    except InvalidDocumentException as e:
        raise Refused([c.message for c in e.causes]) from e


# --- walking intrinsic functions --------------------------------------------------------


def intrinsics(node, path=""):
    """Yield (kind, value, path) for every Ref, Fn::GetAtt, Fn::Sub, Fn::If and
    Condition found in node, at any depth."""
    if isinstance(node, dict):
        if len(node) == 1:
            (key, value), = node.items()
            if key in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Condition"):
                yield key, value, path
        for k, v in node.items():
            yield from intrinsics(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from intrinsics(v, f"{path}[{i}]")


def getatt_target(value) -> tuple[str, str] | None:
    """Split Fn::GetAtt's argument ("Res.Attr" or ["Res", "Attr"]) into (resource, attribute)."""
    if isinstance(value, str) and "." in value:
        res, attr = value.split(".", 1)
        return res, attr
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], str):
        return value[0], value[1]
    return None


def sub_parts(value) -> tuple[str, dict] | None:
    """Fn::Sub's string and its local variables (the list form's map)."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):
        return value[0], value[1]
    return None


def names_used(node) -> set[str]:
    """Logical IDs and parameter names that node refers to (Ref, GetAtt, Sub variables),
    without pseudo parameters."""
    out: set[str] = set()
    for kind, value, _ in intrinsics(node):
        if kind == "Ref" and isinstance(value, str):
            out.add(value)
        elif kind == "Fn::GetAtt":
            t = getatt_target(value)
            if t:
                out.add(t[0])
        elif kind == "Fn::Sub":
            parts = sub_parts(value)
            if parts:
                text, local = parts
                for var in SUB_VARIABLE.findall(text):
                    name = var.split(".", 1)[0]
                    if name not in local:
                        out.add(name)
    return out - PSEUDO_PARAMETERS


# --- checks -----------------------------------------------------------------------------


def check_cycles(cfn: dict) -> list[str]:
    """Dependency cycles between resources, each as 'A -> B -> A'."""
    resources = cfn.get("Resources") or {}
    edges: dict[str, set[str]] = {}
    for rid, res in resources.items():
        deps = {n for n in names_used(res.get("Properties") or {}) if n in resources}
        depends_on = res.get("DependsOn") or []
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        deps |= {d for d in depends_on if d in resources}
        edges[rid] = deps

    # Tarjan's strongly connected components, iteratively (templates can be large).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1 or node in edges[node]:
                    components.append(sorted(comp))

    problems = []
    for comp in components:
        path = cycle_path(comp, edges)
        also = f"; {len(comp)} resources depend on each other: {', '.join(comp)}" if len(set(path)) < len(comp) else ""
        problems.append(f"cycle: {' -> '.join(path)} (CloudFormation refuses circular dependencies{also})")
    return problems


def cycle_path(comp: list[str], edges: dict[str, set[str]]) -> list[str]:
    """The shortest cycle through the component's first resource, for the message: in a
    strongly connected component every member leads back to every other, so a
    breadth-first walk from it finds its way back."""
    members = set(comp)
    start = comp[0]
    parent: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges[node] & members):
            if nxt == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return list(reversed(path)) + [start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return comp + [start]  # unreachable for a component; keeps the message whole


def resource_attributes(resource_type: str, region: str) -> set[str] | None:
    """The Fn::GetAtt attributes cfn-lint's schema gives a type (None: unknown type)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        return set(PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).get_atts)
    except Exception:  # a type cfn-lint does not know (custom resources)
        return None


def check_refs(cfn: dict, region: str = "us-east-1") -> list[str]:
    """Ref, GetAtt and Sub variables that name nothing; GetAtt attributes the type lacks;
    conditions used but not defined."""
    params = set((cfn.get("Parameters") or {}).keys())
    resources = cfn.get("Resources") or {}
    conditions = set((cfn.get("Conditions") or {}).keys())
    known = params | set(resources) | PSEUDO_PARAMETERS
    problems = []

    def check_getatt(where: str, res: str, attr: str, how: str):
        if res not in resources:
            problems.append(f"refs: {where}: {how} {res}.{attr}: no resource {res}")
            return
        attrs = resource_attributes(resources[res].get("Type", ""), region)
        if attrs is not None and attr not in attrs:
            problems.append(
                f"refs: {where}: {how} {res}.{attr}: {resources[res].get('Type')} has no attribute {attr!r} "
                f"(it has {', '.join(sorted(attrs)) or 'none'})"
            )

    sections = {"Resources": resources, "Outputs": cfn.get("Outputs") or {}, "Conditions": cfn.get("Conditions") or {}}
    for section, entries in sections.items():
        for eid, entry in entries.items():
            where = f"{section}.{eid}"
            if isinstance(entry, dict) and isinstance(entry.get("Condition"), str) and section != "Conditions":
                if entry["Condition"] not in conditions:
                    problems.append(f"refs: {where}: Condition {entry['Condition']}: no such condition")
            for kind, value, path in intrinsics(entry):
                at = f"{where}.{path}" if path else where
                if kind == "Ref":
                    if not isinstance(value, str) or value not in known:
                        problems.append(f"refs: {at}: Ref {value}: no parameter, pseudo parameter or resource of that name")
                elif kind == "Fn::GetAtt":
                    t = getatt_target(value)
                    if t is None:
                        problems.append(f"refs: {at}: Fn::GetAtt {value!r} is not Resource.Attribute")
                    else:
                        check_getatt(at, t[0], t[1], "Fn::GetAtt")
                elif kind == "Fn::Sub":
                    parts = sub_parts(value)
                    if parts is None:
                        continue  # a Sub built by another function: cfn-lint judges its shape
                    text, local = parts
                    for var in SUB_VARIABLE.findall(text):
                        if var in local:
                            continue
                        if "." in var and not var.startswith("AWS::"):
                            res, attr = var.split(".", 1)
                            check_getatt(at, res, attr, "Fn::Sub ${...}")
                        elif var not in known:
                            problems.append(f"refs: {at}: Fn::Sub variable ${{{var}}}: no parameter, pseudo parameter or resource of that name")
                elif kind == "Fn::If":
                    name = value[0] if isinstance(value, list) and value else None
                    if not isinstance(name, str) or name not in conditions:
                        problems.append(f"refs: {at}: Fn::If {name}: no such condition")
                elif kind == "Condition" and isinstance(value, str) and value not in conditions:
                    problems.append(f"refs: {at}: Condition {value}: no such condition")
    return problems


def check_definitions(cfn: dict, sam: dict, root: str | os.PathLike) -> list[str]:
    """DefinitionSubstitutions keys the definition never uses, and placeholders of the
    definition that no key substitutes."""
    problems = []
    for rid, res in (cfn.get("Resources") or {}).items():
        if res.get("Type") != "AWS::StepFunctions::StateMachine":
            continue
        props = res.get("Properties") or {}
        subs = props.get("DefinitionSubstitutions") or {}
        raw = ((sam.get("Resources") or {}).get(rid) or {}).get("Properties") or {}
        uri = raw.get("DefinitionUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            path = Path(root) / uri
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as e:
                problems.append(f"asl: {rid}: cannot read its definition {uri}: {e.strerror}")
                continue
            source = uri
        elif "Definition" in props or "DefinitionString" in props:
            text = json.dumps(props.get("Definition")) if "Definition" in props else str(props["DefinitionString"])
            source = "its inline definition"
        else:
            continue  # a definition already in S3: nothing local to compare
        used = set(ASL_PLACEHOLDER.findall(text))
        for key in sorted(set(subs) - used):
            problems.append(f"asl: {rid}: DefinitionSubstitutions key {key} is not used by {source}")
        for name in sorted(used - set(subs)):
            problems.append(f"asl: {rid}: placeholder ${{{name}}} of {source} has no DefinitionSubstitutions entry")
    return problems


def check_alarms(cfn: dict) -> list[str]:
    """Lambda functions without an Errors or a Throttles alarm."""
    resources = cfn.get("Resources") or {}
    alarmed: set[tuple[str, str]] = set()
    for res in resources.values():
        if res.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        p = res.get("Properties") or {}
        if p.get("Namespace") != "AWS/Lambda":
            continue
        for d in p.get("Dimensions") or []:
            v = d.get("Value") if isinstance(d, dict) else None
            if isinstance(d, dict) and d.get("Name") == "FunctionName" and isinstance(v, dict) and "Ref" in v:
                alarmed.add((v["Ref"], p.get("MetricName")))
    problems = []
    for rid, res in resources.items():
        if res.get("Type") != "AWS::Lambda::Function":
            continue
        for metric in ("Errors", "Throttles"):
            if (rid, metric) not in alarmed:
                problems.append(f"alarms: {rid} has no CloudWatch alarm on AWS/Lambda {metric} (FunctionName: !Ref {rid})")
    return problems


def check_logs(cfn: dict) -> list[str]:
    """Lambda functions whose logs would go to a group without retention: no
    LoggingConfig.LogGroup naming a log group of the template, or a group kept forever."""
    resources = cfn.get("Resources") or {}
    problems = []
    for rid, res in resources.items():
        if res.get("Type") != "AWS::Lambda::Function":
            continue
        group = ((res.get("Properties") or {}).get("LoggingConfig") or {}).get("LogGroup")
        target = group.get("Ref") if isinstance(group, dict) else None
        if target not in resources or resources[target].get("Type") != "AWS::Logs::LogGroup":
            problems.append(f"logs: {rid}: LoggingConfig.LogGroup is not a !Ref to an AWS::Logs::LogGroup of the template (Lambda would create one kept forever)")
        elif "RetentionInDays" not in (resources[target].get("Properties") or {}):
            problems.append(f"logs: {rid}: its log group {target} has no RetentionInDays")
    return problems


def check_cfn_lint(cfn: dict, region: str = "us-east-1") -> list[str]:
    """cfn-lint's errors and warnings on the transformed template."""
    from cfnlint.api import lint

    text = json.dumps(cfn, indent=1)
    problems = []
    for m in lint(text, regions=[region]):
        rule = m.rule.id
        if rule.startswith("I"):
            continue  # informational, as the cfn-lint command treats it
        problems.append(f"cfn-lint: {rule} {m.message} (transformed template, line {m.linenumber})")
    return problems


def check(sam: dict, root: str | os.PathLike, region: str = "us-east-1", lint: bool = True) -> tuple[dict | None, list[str]]:
    """Transform sam and run every check; returns the transformed template (None when the
    transform refused) and the problems found."""
    try:
        cfn = run_transform(sam, region)
    except Refused as e:
        return None, [f"transform: {m}" for m in e.args[0]]
    problems = []
    if lint:
        problems += check_cfn_lint(cfn, region)
    problems += check_cycles(cfn)
    problems += check_refs(cfn, region)
    problems += check_definitions(cfn, sam, root)
    problems += check_alarms(cfn)
    problems += check_logs(cfn)
    return cfn, problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default="template.yaml")
    ap.add_argument("--out", default="build/transformed.json", help="where the transformed template is written")
    ap.add_argument("--root", help="directory DefinitionUri paths are relative to (default: the template's)")
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args()

    root = args.root or str(Path(args.template).resolve().parent)
    cfn, problems = check(load_sam(args.template), root, args.region)
    if cfn is not None:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(cfn, indent=2) + "\n", encoding="utf-8")
    if problems:
        print(f"{args.template}: the deploy gate refuses the template ({len(problems)} problems):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    n = len(cfn.get("Resources") or {})
    print(f"transform gate: ok ({args.template} -> {args.out}, {n} resources: transform, cfn-lint, cycle, refs, asl, alarms, logs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
