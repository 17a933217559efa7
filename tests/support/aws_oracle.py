#!/usr/bin/env python3
"""A recording, validating proxy in front of moto: every AWS request the tests send is checked
against botocore's service model for its operation (required, min/max, pattern, enum) and the
documented AWS limits the models do not encode (tests/README.md lists them), then forwarded.

moto accepts many requests real AWS refuses; this proxy refuses them as AWS would (HTTP 400 in
the service's protocol) and appends each violation to a JSON-lines file, which the last step of
.ci/run requires to be empty. Requests naming a resource that starts with PLANTED are the tests'
deliberate bad requests: refused and recorded the same way, but marked `planted` (the report
requires at least one, which proves the checker is live).

    aws_oracle.py serve PORT UPSTREAM VIOLATIONS   # e.g. 5124 http://127.0.0.1:5123 target/v.jsonl
    aws_oracle.py report VIOLATIONS                # exit 1 on any unplanted violation
    aws_oracle.py covered VIOLATIONS docs/permissions.md   # exit 1 on a call of kedactl's without its row

Each request that went through is also appended to VIOLATIONS.seen (service and operation) and
VIOLATIONS.calls (JSON: service, operation and the parameters naming its resource).
"""

import json
import re
import sys
import threading
import urllib.parse

import botocore.session

from forwarding import Forwarding, Server

PLANTED = "kedactl-oracle-planted"

# Documented AWS limits that botocore's models do not encode (sources in tests/README.md).
IAM_TRUST_POLICY = 2048  # default quota, "Role trust policy length"
IAM_ROLE_INLINE_AGGREGATE = 10240  # all inline policies of one role
IAM_MANAGED_POLICY = 6144
SQS_BATCH_BYTES = 1 << 20
SQS_BATCH_ENTRIES = 10
SQS_ID_MAX = 128
ACCOUNT_PLACEHOLDER = "<account>"

# The services the tests reach, by botocore name; the request's SigV4 scope names the signing
# name, and JSON services are told apart by their X-Amz-Target prefix.
SERVICES = ["iam", "sts", "sqs", "ecr", "eks", "amp", "kinesis", "dynamodb", "dynamodbstreams",
            "kms", "cloudwatch", "resourcegroupstaggingapi"]

_session = botocore.session.get_session()
_models = {}
_lock = threading.Lock()
_state = {"inline": {}, "content_dedup": {}}


def model(name):
    with _lock:
        if name not in _models:
            _models[name] = _session.get_service_model(name)
        return _models[name]


def signing_name(m):
    return m.metadata.get("signingName") or m.metadata.get("endpointPrefix")


def candidates(scope):
    return [model(n) for n in SERVICES if signing_name(model(n)) == scope]


def credential_scope(headers):
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    return (m.group(1), m.group(2)) if m else (None, None)


# ---------------------------------------------------------------------------------------------
# Parsing a request into (service model, operation model, params) by the service's protocol.

def parse(method, path, headers, body):
    _, scope = credential_scope(headers)
    if scope is None:
        return None, None, None, "no SigV4 credential scope in the Authorization header"
    models = candidates(scope)
    if not models:
        return None, None, None, f"no model for signing name {scope}"
    url = urllib.parse.urlsplit(path)
    ctype = headers.get("Content-Type", "")
    target = headers.get("X-Amz-Target")
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        return models[0], None, None, "rpc-v2-cbor is not parsed"
    if target:
        prefix, _, op = target.rpartition(".")
        for m in models:
            if m.metadata.get("targetPrefix") == prefix:
                return m, m.operation_model(op), json.loads(body or b"{}"), None
        return None, None, None, f"no model has target prefix {prefix}"
    if "x-www-form-urlencoded" in ctype or (method == "GET" and "Action=" in (url.query or "")):
        form = urllib.parse.parse_qs((body or b"").decode() or url.query, keep_blank_values=True)
        form = {k: v[0] for k, v in form.items()}
        m = models[0]
        op = m.operation_model(form["Action"])
        return m, op, query_params(op.input_shape, form, ""), None
    for m in models:
        op, labels = rest_operation(m, method, url.path)
        if op is not None:
            return m, op, rest_params(op, labels, url.query, headers, body), None
    return models[0], None, None, f"no operation of {models[0].service_name} matches {method} {url.path}"


def query_params(shape, form, prefix):
    """The query protocol's flattened keys (Tags.member.1.Key) as the input shape's values."""
    if shape is None:
        return None
    out = {}
    for name, member in shape.members.items():
        key = prefix + member.serialization.get("name", name)
        value = query_value(member, form, key)
        if value is not None:
            out[name] = value
    return out


def query_value(shape, form, key):
    t = shape.type_name
    if t == "structure":
        if not any(k == key or k.startswith(key + ".") for k in form):
            return None
        return query_params(shape, form, key + ".")
    if t == "list":
        flat = shape.serialization.get("flattened")
        base = key if flat else key + ".member"
        if key in form and form[key] == "":
            return []
        items, i = [], 1
        while True:
            v = query_value(shape.member, form, f"{base}.{i}")
            if v is None:
                break
            items.append(v)
            i += 1
        return items if items else None
    if t == "map":
        items, i = {}, 1
        while f"{key}.entry.{i}.key" in form:
            items[form[f"{key}.entry.{i}.key"]] = query_value(shape.value, form, f"{key}.entry.{i}.value")
            i += 1
        return items or None
    if key not in form:
        return None
    return scalar(shape, form[key])


def scalar(shape, text):
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if shape.type_name == "boolean":
        return text == "true"
    return text


def rest_operation(m, method, path):
    best = None
    for name in m.operation_names:
        op = m.operation_model(name)
        if op.http.get("method") != method:
            continue
        uri = op.http["requestUri"].split("?")[0]
        pattern = ""
        labels = []
        for part in re.split(r"(\{[^}]+\})", uri):
            if part.startswith("{"):
                label = part[1:-1]
                greedy = label.endswith("+")
                label = label.rstrip("+")
                labels.append(label)
                pattern += f"(?P<{label.replace('-', '_')}>{'.+' if greedy else '[^/]+'})"
            else:
                pattern += re.escape(part)
        hit = re.fullmatch(pattern, path.rstrip("/") or "/") or re.fullmatch(pattern, path)
        if hit:
            literal = len(re.sub(r"\{[^}]+\}", "", uri))
            if best is None or literal > best[0]:
                values = {lb: urllib.parse.unquote(hit.group(lb.replace("-", "_"))) for lb in labels}
                best = (literal, op, values)
    return (best[1], best[2]) if best else (None, None)


def rest_params(op, labels, query, headers, body):
    shape = op.input_shape
    if shape is None:
        return {}
    qs = urllib.parse.parse_qs(query or "", keep_blank_values=True)
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        doc = {}
    out = {}
    claimed = set()
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "uri":
            if wire in labels:
                out[name] = scalar(member, labels[wire])
        elif loc == "querystring":
            if member.type_name == "map":
                # A map in the query string takes every parameter no other member names.
                named = {m.serialization.get("name", n) for n, m in shape.members.items()
                         if m.serialization.get("location") == "querystring" and m is not member}
                rest = {k: v for k, v in qs.items() if k not in named}
                if rest:
                    out[name] = {k: (v if member.value.type_name == "list" else v[0])
                                 for k, v in rest.items()}
            elif wire in qs:
                v = qs[wire]
                out[name] = [scalar(member.member, x) for x in v] if member.type_name == "list" \
                    else scalar(member, v[0])
            claimed.add(wire)
        elif loc == "header":
            if wire in headers:
                out[name] = scalar(member, headers[wire])
        elif loc is None and wire in doc:
            out[name] = doc[wire]
    return out


# ---------------------------------------------------------------------------------------------
# Validation against the model.

_patterns = {}


def compiled(pattern):
    if pattern not in _patterns:
        try:
            _patterns[pattern] = re.compile(pattern)
        except re.error:
            _patterns[pattern] = None  # a Java-only construct: the pattern is not checked
    return _patterns[pattern]


def validate(shape, value, where, out):
    if shape is None or value is None:
        return
    meta = shape.metadata
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return
        for req in shape.required_members:
            if value.get(req) is None:
                out.append(f"{where}.{req}: required, missing")
        for name, v in value.items():
            if name in shape.members:
                validate(shape.members[name], v, f"{where}.{name}", out)
        return
    if t == "list":
        if isinstance(value, list):
            bounds(len(value), meta, where, "items", out)
            for i, v in enumerate(value):
                validate(shape.member, v, f"{where}[{i}]", out)
        return
    if t == "map":
        if isinstance(value, dict):
            bounds(len(value), meta, where, "entries", out)
            for k, v in value.items():
                validate(shape.key, k, f"{where} key", out)
                validate(shape.value, v, f"{where}[{k!r}]", out)
        return
    if t == "string":
        if not isinstance(value, str):
            return
        bounds(len(value), meta, where, "characters", out)
        if shape.enum and value not in shape.enum:
            out.append(f"{where}: {value[:80]!r} is not one of {list(shape.enum)}")
        p = meta.get("pattern")
        rx = compiled(p) if p else None
        if rx is not None and not rx.fullmatch(value):
            out.append(f"{where}: {value[:80]!r} does not match the pattern {p}")
        if ACCOUNT_PLACEHOLDER in value:
            out.append(f"{where}: {value[:120]!r} holds the placeholder {ACCOUNT_PLACEHOLDER}")
        return
    if t in ("integer", "long"):
        if isinstance(value, int) and not isinstance(value, bool):
            if "min" in meta and value < meta["min"]:
                out.append(f"{where}: {value} is below the minimum {meta['min']}")
            if "max" in meta and value > meta["max"]:
                out.append(f"{where}: {value} is above the maximum {meta['max']}")
        return


def bounds(n, meta, where, unit, out):
    if "min" in meta and n < meta["min"]:
        out.append(f"{where}: {n} {unit}, below the minimum {meta['min']}")
    if "max" in meta and n > meta["max"]:
        out.append(f"{where}: {n} {unit}, above the maximum {meta['max']}")


# ---------------------------------------------------------------------------------------------
# The documented limits the models do not encode.

def iam_size(doc):
    """As IAM counts a policy against its quotas: characters, whitespace not counted."""
    return sum(1 for c in doc if not c.isspace())


def sqs_body_ok(c):
    o = ord(c)
    return o in (0x9, 0xA, 0xD) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


def sqs_id_ok(s):
    return 1 <= len(s) <= SQS_ID_MAX and all(c.isascii() and (c.isalnum() or (33 <= ord(c) <= 126)) for c in s)


def documented(service, op, p, out):
    if service == "iam":
        role = p.get("RoleName")
        if op in ("CreateRole", "UpdateAssumeRolePolicy"):
            n = iam_size(p.get("AssumeRolePolicyDocument") or p.get("PolicyDocument") or "")
            if n > IAM_TRUST_POLICY:
                out.append(f"trust policy of {role}: {n} characters, over IAM's default quota of {IAM_TRUST_POLICY}")
        if op == "PutRolePolicy":
            with _lock:
                inline = _state["inline"].setdefault(role, {})
                sizes = dict(inline, **{p.get("PolicyName"): iam_size(p.get("PolicyDocument", ""))})
                total = sum(sizes.values())
            if total > IAM_ROLE_INLINE_AGGREGATE:
                out.append(f"inline policies of {role}: {total} characters together, over IAM's {IAM_ROLE_INLINE_AGGREGATE} per role")
        if op in ("CreatePolicy", "CreatePolicyVersion"):
            n = iam_size(p.get("PolicyDocument", ""))
            if n > IAM_MANAGED_POLICY:
                out.append(f"managed policy: {n} characters, over IAM's {IAM_MANAGED_POLICY}")
    if service == "sqs":
        url = p.get("QueueUrl", "")
        fifo = url.endswith(".fifo")
        queue = url.rsplit("/", 1)[-1]
        entries = p.get("Entries") if op == "SendMessageBatch" else [p] if op == "SendMessage" else []
        if op == "SendMessageBatch":
            if len(entries or []) > SQS_BATCH_ENTRIES:
                out.append(f"{len(entries)} entries, over SQS's {SQS_BATCH_ENTRIES} per batch")
            total = sum(len(e.get("MessageBody", "").encode()) for e in entries or [])
            if total > SQS_BATCH_BYTES:
                out.append(f"batch of {total} bytes, over SQS's {SQS_BATCH_BYTES}")
        with _lock:
            content_dedup = _state["content_dedup"].get(queue, False)
        for i, e in enumerate(entries or []):
            body = e.get("MessageBody", "")
            bad = next(((j, c) for j, c in enumerate(body) if not sqs_body_ok(c)), None)
            if bad:
                out.append(f"message {i}: body character {bad[0] + 1} is U+{ord(bad[1]):04X}, which SQS refuses")
            if len(body.encode()) > SQS_BATCH_BYTES:
                out.append(f"message {i}: {len(body.encode())} bytes, over SQS's largest message")
            if fifo and not e.get("MessageGroupId"):
                out.append(f"message {i}: no MessageGroupId, which a FIFO queue requires")
            if fifo and not content_dedup and not e.get("MessageDeduplicationId"):
                out.append(f"message {i}: no MessageDeduplicationId, which a FIFO queue without content-based deduplication requires")
            if not fifo and e.get("MessageDeduplicationId"):
                out.append(f"message {i}: a MessageDeduplicationId on a standard queue")
            for k in ("MessageGroupId", "MessageDeduplicationId"):
                if e.get(k) is not None and not sqs_id_ok(e[k]):
                    out.append(f"message {i}: {k} {e[k][:40]!r} is not 1 to 128 letters, digits or punctuation")


def learn(service, op, p):
    """State the limits depend on, learnt from requests that went through."""
    if service == "iam":
        role = p.get("RoleName")
        with _lock:
            if op == "PutRolePolicy":
                _state["inline"].setdefault(role, {})[p.get("PolicyName")] = iam_size(p.get("PolicyDocument", ""))
            elif op == "DeleteRolePolicy":
                _state["inline"].get(role, {}).pop(p.get("PolicyName"), None)
            elif op == "DeleteRole":
                _state["inline"].pop(role, None)
    if service == "sqs" and op in ("CreateQueue", "SetQueueAttributes"):
        attrs = p.get("Attributes") or {}
        queue = p.get("QueueName") or p.get("QueueUrl", "").rsplit("/", 1)[-1]
        if "ContentBasedDeduplication" in attrs:
            with _lock:
                _state["content_dedup"][queue] = str(attrs["ContentBasedDeduplication"]).lower() == "true"


# The parameters that name what a request acts on (the resource IAM authorizes it against).
NAMING = {"RoleName", "PolicyArn", "OpenIDConnectProviderArn", "PolicySourceArn", "QueueUrl",
          "QueueName", "repositoryName", "resourceArn", "name", "clusterName", "addonName",
          "associationId", "nodegroupName", "KeyId", "StreamName", "StreamARN", "TableName",
          "ResourceArn", "StreamArn", "workspaceId", "scraperId", "repositoryNames"}


def call_record(service, op, p, region):
    """One request as `<record>.calls` keeps it: who it acts on, for the caller-policy test."""
    return {"service": service, "operation": op, "region": region,
            "params": {k: v for k, v in p.items() if k in NAMING and isinstance(v, (str, list))}}


# ---------------------------------------------------------------------------------------------
# The proxy.

def refusal(m, op, message):
    """An HTTP 400 the SDK parses as the service's validation error."""
    proto = m.metadata.get("protocol") if m else "json"
    if proto == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>"
                f"<Message>{html_escape(message)}</Message></Error><RequestId>oracle</RequestId></ErrorResponse>")
        return body.encode(), {"Content-Type": "text/xml"}
    code = "InvalidParameterValue" if m and m.service_name == "sqs" else "ValidationException"
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code,
               "x-amzn-query-error": f"{code};Sender"}
    return json.dumps({"__type": code, "message": message}).encode(), headers


def html_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Proxy(Forwarding):
    record = None

    def handle_any(self):
        body = self.read_body()
        problems, m, op, note = [], None, None, None
        try:
            m, op, params, note = parse(self.command, self.path, self.headers, body)
            if op is not None:
                validate(op.input_shape, params, op.name, problems)
                documented(m.service_name, op.name, params or {}, problems)
        except Exception as e:  # a request the checker cannot read is itself worth a look
            note = f"not parsed: {type(e).__name__}: {e}"
        if problems:
            planted = PLANTED in self.path or PLANTED.encode() in body
            with _lock, open(Proxy.record, "a") as f:
                f.write(json.dumps({"service": m.service_name if m else None,
                                    "operation": op.name if op else None,
                                    "planted": planted, "problems": problems}) + "\n")
            data, headers = refusal(m, op, "kedactl-oracle: " + "; ".join(problems))
            return self.reply(400, headers, data)
        if op is not None:
            learn(m.service_name, op.name, params or {})
        with _lock, open(Proxy.record + ".seen", "a") as f:
            f.write(f"{m.service_name if m else '?'} {op.name if op else '?'}{' (' + note + ')' if note else ''}\n")
        if op is not None:
            with _lock, open(Proxy.record + ".calls", "a") as f:
                region, _ = credential_scope(self.headers)
                agent = self.headers.get("x-amz-user-agent", "") + self.headers.get("User-Agent", "")
                record = call_record(m.service_name, op.name, params or {}, region)
                record["kedactl"] = "app/kedactl" in agent
                f.write(json.dumps(record) + "\n")
        self.forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def serve(port, upstream, record):
    Proxy.upstream, Proxy.record = upstream, record
    open(record, "a").close()
    server = Server(("127.0.0.1", int(port)), Proxy)
    server.serve_forever()


def covered(record, page):
    """Every operation kedactl itself sent (User-Agent app/kedactl) has its row in the table
    docs/permissions.md lists (generated from src/cloud/permissions.rs)."""
    rows = set()
    for line in open(page):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("service", "---"):
            rows.add((cells[0], cells[1]))
    try:
        calls = [json.loads(x) for x in open(record + ".calls") if x.strip()]
    except FileNotFoundError:
        calls = []
    ours = [c for c in calls if c.get("kedactl")]
    missing = sorted({(c["service"], c["operation"]) for c in ours} - rows)
    print(f"caller policy: {len(ours)} requests kedactl sent, "
          f"{len({(c['service'], c['operation']) for c in ours})} operations, {len(missing)} without a row")
    for s, o in missing:
        print(f"  {s} {o}: add its IAM action to src/cloud/permissions.rs")
    if not ours:
        print("  no request from kedactl was recorded: is the oracle in the path of the tests?")
    return 1 if missing or not ours else 0


def report(record):
    lines = [json.loads(x) for x in open(record) if x.strip()]
    real = [x for x in lines if not x["planted"]]
    planted = [x for x in lines if x["planted"]]
    try:
        seen = [x.rstrip("\n") for x in open(record + ".seen")]
    except FileNotFoundError:
        seen = []
    unparsed = sorted({x for x in seen if "(" in x})
    print(f"aws oracle: {len(seen) + len(lines)} requests checked, {len(real)} violations, "
          f"{len(planted)} planted bad requests caught")
    for x in unparsed:
        print(f"  not checked: {x}")
    for x in real:
        print(f"  {x['service']} {x['operation']}: {'; '.join(x['problems'])}")
    if not planted:
        print("  no planted bad request was caught: is the checker in the path of the tests?")
    return 1 if real or not planted else 0


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(*sys.argv[2:5])
    elif sys.argv[1] == "report":
        sys.exit(report(sys.argv[2]))
    elif sys.argv[1] == "covered":
        sys.exit(covered(sys.argv[2], sys.argv[3]))
