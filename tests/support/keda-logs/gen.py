# Writes the KEDA v2.20.2 keda-operator logs the doctor --keda-log tests read. Every line is
# built from upstream format strings (kedacore/keda at v2.20.2), never typed by hand:
#   log lines    pkg/scaling/scale_handler.go:1019   logger.Error(err, "error getting scale decision", "scaler", ...)
#                  (logger "scale_handler" with scaledObject.Namespace/Name, line 804)
#                pkg/scalers/aws_sqs_queue_scaler.go:169  s.logger.Error(err, "Error getting queue length")
#                  (InitializeLogger, pkg/scalers/scaler.go:91: type, namespace, name)
#                pkg/scalers/aws/aws_config_cache.go:163  "error retrieving arnRole %s via WebIdentity"
#                  (logger "aws_credentials_cache"; RoleSessionName "KEDA", lines 153/169)
#                pkg/util/welcome.go:34-39  "Starting %s", "KEDA Version: %s", "Running on Kubernetes %s"
#   encodings    vendor/sigs.k8s.io/controller-runtime/pkg/log/zap/zap.go (console: development
#                encoder config; JSON: zap.NewProductionEncoderConfig, level/ts/logger/msg/stacktrace
#                keys; RFC3339 time; stack traces on errors), vendor/github.com/go-logr/zapr/zapr.go:207
#                (the "error" key)
#   error text   vendor/github.com/aws/smithy-go/errors.go:37,60,136 ("api error %s: %s",
#                "operation error %s: %s, %v", "canceled, %v")
#                vendor/github.com/aws/aws-sdk-go-v2/aws/transport/http/response_error.go:25
#                vendor/github.com/aws/aws-sdk-go-v2/service/sqs/auth.go:280 ("get identity: %w")
#                vendor/github.com/aws/aws-sdk-go-v2/internal/auth/smithy/credentials_adapter.go:42
#                vendor/github.com/aws/aws-sdk-go-v2/aws/credential_cache.go:128
#                vendor/github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds/provider.go:185
#                vendor/github.com/aws/aws-sdk-go-v2/credentials/stscreds/web_identity_provider.go:140
#                vendor/github.com/aws/aws-sdk-go-v2/credentials/stscreds/assume_role_provider.go:312
#                vendor/github.com/aws/aws-sdk-go-v2/service/sqs/types/errors.go:580
#                vendor/github.com/aws/aws-sdk-go-v2/service/{kinesis,dynamodb,sts}/types/errors.go
#                  (modeled errors: "<ErrorCode>: <message>"; STS's PackedPolicyTooLarge)
#                vendor/github.com/aws/aws-sdk-go-v2/credentials/endpointcreds/provider.go:151
#                  ("failed to load credentials, %w": the Pod Identity Agent at 169.254.170.23)
#                vendor/github.com/aws/aws-sdk-go-v2/aws/retry/errors.go:13 ("exceeded maximum
#                number of attempts, %d, %v"), vendor/github.com/aws/smithy-go/transport/http/
#                client.go:147 ("request send failed, %v"); Go's net/http and net errors
#                (`Get "<url>": dial tcp <addr>: connect: connection refused` / `i/o timeout`,
#                `proxyconnect tcp: …`)
#                pkg/scalers/aws_kinesis_stream_scaler.go:143 "Error getting shard count",
#                pkg/scalers/aws_dynamodb_scaler.go:205 "Failed to get output",
#                pkg/scalers/prometheus_scaler.go:248-249 "prometheus query api returned error"
#   The service messages after "api error <Code>:" are AWS's own responses (AccessDenied,
#   ExpiredToken), as the services return them.
# Run: python3 gen.py (from this directory).
import json

ACCT = "123456789012"
Q = f"arn:aws:sqs:us-east-1:{ACCT}:event-messages-queue"
ID = f"arn:aws:iam::{ACCT}:role/keda-identity"
OP = f"arn:aws:sts::{ACCT}:assumed-role/keda-operator/eks-demo-keda-opera-5b2c9d8e-7f41-4a4b-9d6e-0c1f2a3b4c5d"
NODE = f"arn:aws:sts::{ACCT}:assumed-role/eksctl-demo-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F/i-0abc123def4567890"


def sqs(inner):
    return "operation error SQS: GetQueueAttributes, " + inner


def resp(code, rid, err):
    return f"https response error StatusCode: {code}, RequestID: {rid}, {err}"


def creds(inner):
    return "get identity: get credentials: failed to refresh cached credentials, " + inner


def sts(op, inner):
    return f"operation error STS: {op}, " + inner


def denied(who, action, resource, why=""):
    return f"api error AccessDenied: User: {who} is not authorized to perform: {action} on resource: {resource}{why}"


NO_POLICY = " because no identity-based policy allows the sqs:getqueueattributes action"
ERR = {
    "identity": sqs(resp(403, "8f2a3c1e-5b7d-5e9a-9c1f-2d4e6a8b0c13", denied(f"arn:aws:sts::{ACCT}:assumed-role/keda-identity/KEDA", "sqs:getqueueattributes", Q, NO_POLICY))),
    "assume": sqs(creds(sts("AssumeRole", resp(403, "0d6c4b2a-9e8f-4a7b-b6c5-d4e3f2a1b0c9", denied(OP, "sts:AssumeRole", ID))))),
    "tag": sqs(creds(sts("AssumeRole", resp(403, "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d", denied(OP, "sts:TagSession", ID))))),
    "node": sqs(creds(sts("AssumeRole", resp(403, "3c2b1a09-8f7e-4d6c-a5b4-c3d2e1f0a9b8", denied(NODE, "sts:AssumeRole", ID))))),
    "node_sqs": sqs(resp(403, "4d3c2b1a-0f9e-4d8c-b7a6-e5d4c3b2a1f0", denied(NODE, "sqs:getqueueattributes", Q, NO_POLICY))),
    "operator_sqs": sqs(resp(403, "5e4d3c2b-1a0f-4e9d-8c7b-a6f5e4d3c2b1", denied(OP, "sqs:getqueueattributes", Q, NO_POLICY))),
    "imds": sqs(creds(sts("AssumeRole", creds("no EC2 IMDS role found, operation error ec2imds: GetMetadata, canceled, context deadline exceeded")))),
    "webid": "failed to retrieve credentials, " + sts("AssumeRoleWithWebIdentity", resp(403, "9b8a7f6e-5d4c-4b3a-a291-807f6e5d4c3b", "api error AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity")),
    "expired": sqs(resp(403, "1f0e9d8c-7b6a-4594-8372-61504f3e2d1c", "api error ExpiredToken: The security token included in the request is expired")),
    "nonexistent": sqs(resp(400, "2e1d0c9b-8a7f-4e6d-9c5b-4a3928170f6e", "AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.")),
}
AGENT = 'Get "http://169.254.170.23/v1/credentials": '


def agent(why):
    return sqs(creds(sts("AssumeRole", creds("failed to load credentials, exceeded maximum number of attempts, 3, request send failed, " + AGENT + why))))


STREAM = f"arn:aws:kinesis:us-east-1:{ACCT}:stream/orders"
KEDA_ID = f"arn:aws:sts::{ACCT}:assumed-role/keda-identity/KEDA"
MORE_ERR = {
    "agent_refused": agent("dial tcp 169.254.170.23:80: connect: connection refused"),
    "agent_timeout": agent("dial tcp 169.254.170.23:80: i/o timeout"),
    "proxy": agent("proxyconnect tcp: dial tcp 10.0.0.10:3128: i/o timeout"),
    "packed": sqs(creds(sts("AssumeRole", resp(400, "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7", "PackedPolicyTooLarge: Packed policy consumes 109% of allotted space, please use smaller policy for the session.")))),
    "stream_denied": "operation error Kinesis: DescribeStreamSummary, " + resp(400, "8d7c6b5a-4938-4726-b5c4-d3e2f1a0b9c8", f"AccessDeniedException: User: {KEDA_ID} is not authorized to perform: kinesis:DescribeStreamSummary on resource: {STREAM} because no identity-based policy allows the kinesis:DescribeStreamSummary action"),
    "stream_missing": "operation error Kinesis: DescribeStreamSummary, " + resp(400, "9e8d7c6b-5a49-4837-a6d5-e4f3a2b1c0d9", f"ResourceNotFoundException: Stream orders under account {ACCT} not found."),
    "table_missing": "operation error DynamoDB: Query, " + resp(400, "0f9e8d7c-6b5a-4948-b7e6-f5a4b3c2d1e0", "ResourceNotFoundException: Requested resource not found"),
    "prometheus": "prometheus query api returned error. status: 403",
}
SO = [("scaledObject.Namespace", "security"), ("scaledObject.Name", "k8s-sqs-read-msg-keda")]
STACKS = {
    "scale_handler": [
        "github.com/kedacore/keda/v2/pkg/scaling.(*scaleHandler).getScalerState",
        "\t/workspace/pkg/scaling/scale_handler.go:1019",
        "github.com/kedacore/keda/v2/pkg/scaling.(*scaleHandler).getScaledObjectState.func1",
        "\t/workspace/pkg/scaling/scale_handler.go:840",
    ],
    "aws_sqs_queue_scaler": [
        "github.com/kedacore/keda/v2/pkg/scalers.(*awsSqsQueueScaler).GetMetricsAndActivity",
        "\t/workspace/pkg/scalers/aws_sqs_queue_scaler.go:169",
        "github.com/kedacore/keda/v2/pkg/scaling/cache.(*ScalersCache).GetMetricsAndActivityForScaler",
        "\t/workspace/pkg/scaling/cache/scalers_cache.go:231",
    ],
    "aws_kinesis_stream_scaler": [
        "github.com/kedacore/keda/v2/pkg/scalers.(*awsKinesisStreamScaler).GetMetricsAndActivity",
        "\t/workspace/pkg/scalers/aws_kinesis_stream_scaler.go:143",
    ],
    "aws_dynamodb_scaler": [
        "github.com/kedacore/keda/v2/pkg/scalers.(*awsDynamoDBScaler).GetQueryMetrics",
        "\t/workspace/pkg/scalers/aws_dynamodb_scaler.go:205",
    ],
    "prometheus_scaler": [
        "github.com/kedacore/keda/v2/pkg/scalers.(*prometheusScaler).ExecutePromQuery",
        "\t/workspace/pkg/scalers/prometheus_scaler.go:249",
    ],
    "aws_credentials_cache": [
        "github.com/kedacore/keda/v2/pkg/scalers/aws.(*sharedConfigCache).retrievePodIdentityCredentials",
        "\t/workspace/pkg/scalers/aws/aws_config_cache.go:163",
    ],
}


def console(ts, level, logger, msg, fields):
    line = [ts, level, logger, msg]
    if fields:
        line.append("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in fields) + "}")
    return ["\t".join(line)] + (STACKS[logger] if level == "ERROR" else [])


def js(ts, level, logger, msg, fields):
    d = {"level": level.lower(), "ts": ts, "logger": logger, "msg": msg}
    d.update(fields)
    if level == "ERROR":
        d["stacktrace"] = "\n".join(STACKS[logger])
    return [json.dumps(d, separators=(",", ":"))]


def decision(ts, err):
    return (ts, "ERROR", "scale_handler", "error getting scale decision", SO + [("scaler", "awsSqsQueueScaler"), ("error", err)])


def queue_length(ts, err):
    fields = [("type", "ScaledObject"), ("namespace", "security"), ("name", "k8s-sqs-read-msg-keda"), ("error", err)]
    return (ts, "ERROR", "aws_sqs_queue_scaler", "Error getting queue length", fields)


HEALTHY = [
    ("2026-11-24T08:00:00Z", "INFO", "setup", "Starting manager", []),
    ("2026-11-24T08:00:00Z", "INFO", "setup", "KEDA Version: 2.20.2", []),
    ("2026-11-24T08:00:00Z", "INFO", "setup", "Running on Kubernetes 1.33", [("version", "v1.33.5-eks-113cf36")]),
    queue_length("2026-11-24T08:00:31Z", ERR["nonexistent"]),
    decision("2026-11-24T08:00:31Z", ERR["nonexistent"]),
]
REFUSED = HEALTHY + [
    queue_length("2026-11-24T08:01:01Z", ERR["node"]),
    decision("2026-11-24T08:01:01Z", ERR["node"]),
    decision("2026-11-24T08:01:31Z", ERR["imds"]),
    ("2026-11-24T08:02:01Z", "ERROR", "aws_credentials_cache", f"error retrieving arnRole {ID} via WebIdentity", [("error", ERR["webid"])]),
    decision("2026-11-24T08:02:01Z", ERR["assume"]),
    decision("2026-11-24T08:02:31Z", ERR["tag"]),
    decision("2026-11-24T08:02:45Z", ERR["operator_sqs"]),
    queue_length("2026-11-24T08:03:01Z", ERR["identity"]),
    decision("2026-11-24T08:03:01Z", ERR["identity"]),
    decision("2026-11-24T08:03:31Z", ERR["expired"]),
    decision("2026-11-24T08:04:01Z", ERR["node_sqs"]),
]


def scaler(ts, logger, msg, err):
    fields = [("type", "ScaledObject"), ("namespace", "orders"), ("name", "orders-scaler"), ("error", err)]
    return (ts, "ERROR", logger, msg, fields)


# One line per class beyond the 403s above: the agent, a proxy, session tags, a trigger's source.
MORE = [
    decision("2026-11-24T09:00:01Z", MORE_ERR["agent_refused"]),
    decision("2026-11-24T09:00:31Z", MORE_ERR["agent_timeout"]),
    decision("2026-11-24T09:01:01Z", MORE_ERR["proxy"]),
    decision("2026-11-24T09:01:31Z", MORE_ERR["packed"]),
    scaler("2026-11-24T09:02:01Z", "aws_kinesis_stream_scaler", "Error getting shard count", MORE_ERR["stream_denied"]),
    scaler("2026-11-24T09:02:31Z", "aws_kinesis_stream_scaler", "Error getting shard count", MORE_ERR["stream_missing"]),
    scaler("2026-11-24T09:03:01Z", "aws_dynamodb_scaler", "Failed to get output", MORE_ERR["table_missing"]),
    scaler("2026-11-24T09:03:31Z", "prometheus_scaler", "prometheus query api returned error", MORE_ERR["prometheus"]),
]


def write(name, encode, entries):
    with open(name, "w") as f:
        for e in entries:
            f.write("\n".join(encode(*e)) + "\n")


write("refused.console.log", console, REFUSED)
write("refused.json.log", js, REFUSED)
write("healthy.console.log", console, HEALTHY)
write("more.console.log", console, MORE)
write("more.json.log", js, MORE)
