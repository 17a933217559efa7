"""The Pod Security Standards as an independent package judges them (k8s-policy-guard, pinned in
.ci/run): reads a JSON list of {"name", "spec"} pod specs, prints a JSON list of the findings
of its PSS rules, one {"name", "rule", "message"} each.

Its rules PG-PSS-018 (readOnlyRootFilesystem) and PG-PSS-019 (the default service account's
token) are its own advice, not part of the Pod Security Standards, so they are left out.
"""
import json
import sys

from policy_guard.analyzers import pod_security
from policy_guard.models import Resource

NOT_PSS = {"PG-PSS-018", "PG-PSS-019"}

pods = json.load(open(sys.argv[1]))
resources = [Resource(kind="Pod", name=p["name"], spec=p["spec"]) for p in pods]
found = [
    {"name": v.resource_name, "rule": v.rule_id, "message": v.message}
    for v in pod_security.analyze(resources)
    if v.rule_id not in NOT_PSS
]
json.dump(found, sys.stdout)
