# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kedactl_global_optspecs
    string join \n f/config= o/output= color= only= y/yes profile= endpoint-url= kubeconfig= context= connect-timeout= call-timeout= trust-watch= v/verbose q/quiet max-attempts= max-in-flight= retry-mode= cluster= region= account= stack= auth-mode= oidc-issuer= scoped-trust= keda-namespace= keda-service-account= keda-version= operator-role= identity-role= permissions-boundary= app= deployment= namespace= service-account= image= app-identity-role= repository= queue= visibility-timeout= dlq= max-receive-count= kms-key= scaling-kind= scaler-name= queue-length= activation-queue-length= min-replicas= max-replicas= polling-interval= cooldown-period= scale-on-in-flight= scale-on-delayed= h/help V/version
end

function __fish_kedactl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kedactl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kedactl_using_subcommand
    set -l cmd (__fish_kedactl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kedactl -n "__fish_kedactl_needs_command" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_needs_command" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_needs_command" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_needs_command" -l only -d 'Work on these groups only (comma-separated), e.g. one CI job per group' -r -f -a "iam\t'IAM roles, trust and inline policies'
queue\t'SQS queues (and dead-letter queues)'
registry\t'ECR repositories'
source\t'What other triggers read and kedactl creates: an AMP workspace and its scraper, a Kinesis stream, a DynamoDB table'
eks\t'The Pod Identity Agent add-on and pod identity associations'
keda\t'The KEDA installation'
app\t'The app\'s Kubernetes objects'"
complete -c kedactl -n "__fish_kedactl_needs_command" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l kubeconfig -d 'Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]' -r -F
complete -c kedactl -n "__fish_kedactl_needs_command" -l context -d 'The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config); without it, the current context must point at --cluster\'s endpoint' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l trust-watch -d 'Seconds to watch a trust policy shared with other clusters after writing it: a concurrent `up`/`down` of another cluster that overwrote this cluster\'s change is undone (IAM has no conditional write; see docs/concurrency.md)' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_needs_command" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_needs_command" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_needs_command" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_needs_command" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_needs_command" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_needs_command" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_needs_command" -s y -l yes -d 'Apply without asking (required when stdin is not a terminal, e.g. in CI)'
complete -c kedactl -n "__fish_kedactl_needs_command" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_needs_command" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_needs_command" -s V -l version -d 'Print version'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "up" -d 'Create or repair the stack: plan, confirm, apply (idempotent; only touches what it owns)'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "plan" -d 'Show what `up` would change, without changing anything'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "down" -d 'Remove what this stack created, in reverse order; anything it does not own is left alone'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "doctor" -d 'Find what keeps KEDA from scaling: every known cause of 403 / AssumeRole / "not scaling", each with its evidence and the exact fix'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "render" -d 'Print the IAM policies and Kubernetes manifests, for GitOps and review'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "simulate" -d 'Simulate KEDA and the HPA on an arrival pattern, offline: replicas, backlog, waits, cost'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "load" -d 'Send test messages to the app\'s queue: a count, or a rate for a duration'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "scale" -d 'Scale the app\'s Deployment on its queue with KEDA\'s and the HPA\'s exact rules (or, with --dry-run, show what they would decide)'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "watch" -d 'Watch the queue, KEDA\'s scaler, the HPA and the pods live, refreshed every few seconds'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "validate" -d 'Check kedactl.yaml and the flags; report every problem with its field and fix (exit 3)'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "init" -d 'Write a commented kedactl.yaml (the seed\'s defaults, with any flags given)'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "schema" -d 'Print the JSON Schema of kedactl.yaml, or of the JSON documents a command prints (--kind)'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c kedactl -n "__fish_kedactl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l plan -d 'Apply exactly the plan `kedactl plan --out FILE` saved, or change nothing and exit 5 when the config, kedactl or a resource it touches changed since (docs/plan-files.md)' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l only -d 'Work on these groups only (comma-separated), e.g. one CI job per group' -r -f -a "iam\t'IAM roles, trust and inline policies'
queue\t'SQS queues (and dead-letter queues)'
registry\t'ECR repositories'
source\t'What other triggers read and kedactl creates: an AMP workspace and its scraper, a Kinesis stream, a DynamoDB table'
eks\t'The Pod Identity Agent add-on and pod identity associations'
keda\t'The KEDA installation'
app\t'The app\'s Kubernetes objects'"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l kubeconfig -d 'Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l context -d 'The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config); without it, the current context must point at --cluster\'s endpoint' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l trust-watch -d 'Seconds to watch a trust policy shared with other clusters after writing it: a concurrent `up`/`down` of another cluster that overwrote this cluster\'s change is undone (IAM has no conditional write; see docs/concurrency.md)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l adopt -d 'Take over same-named resources that lack this stack\'s tags (they get tagged)'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l force-conflicts -d 'Server-side apply takes over fields another field manager owns (e.g. kubectl edits)'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l force -d 'Delete what the config no longer names even when it holds data: a queue\'s messages, a repository\'s images (without it, up refuses and changes nothing)'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l no-prune -d 'Keep what the config no longer names (listed as "kept, no longer in the config")'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -l dry-run -d 'Show the plan and change nothing: the same as `kedactl plan` (which also has --offline and --detailed-exitcode)'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -s y -l yes -d 'Apply without asking (required when stdin is not a terminal, e.g. in CI)'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l out -d 'Also save the plan, with what it was computed from, for `up --plan FILE` to apply exactly (docs/plan-files.md)' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l only -d 'Work on these groups only (comma-separated), e.g. one CI job per group' -r -f -a "iam\t'IAM roles, trust and inline policies'
queue\t'SQS queues (and dead-letter queues)'
registry\t'ECR repositories'
source\t'What other triggers read and kedactl creates: an AMP workspace and its scraper, a Kinesis stream, a DynamoDB table'
eks\t'The Pod Identity Agent add-on and pod identity associations'
keda\t'The KEDA installation'
app\t'The app\'s Kubernetes objects'"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l kubeconfig -d 'Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l context -d 'The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config); without it, the current context must point at --cluster\'s endpoint' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l offline -d 'Plan against an empty account and cluster, with no AWS or Kubernetes call'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l detailed-exitcode -d 'Exit 5 when the plan has changes, 0 when it is empty'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l adopt -d 'Take over same-named resources that lack this stack\'s tags (they get tagged)'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l force -d 'Plan as `up --force`: delete what the config no longer names even when it holds data'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -l no-prune -d 'Keep what the config no longer names (listed as "kept, no longer in the config")'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l only -d 'Work on these groups only (comma-separated), e.g. one CI job per group' -r -f -a "iam\t'IAM roles, trust and inline policies'
queue\t'SQS queues (and dead-letter queues)'
registry\t'ECR repositories'
source\t'What other triggers read and kedactl creates: an AMP workspace and its scraper, a Kinesis stream, a DynamoDB table'
eks\t'The Pod Identity Agent add-on and pod identity associations'
keda\t'The KEDA installation'
app\t'The app\'s Kubernetes objects'"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l kubeconfig -d 'Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l context -d 'The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config); without it, the current context must point at --cluster\'s endpoint' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l trust-watch -d 'Seconds to watch a trust policy shared with other clusters after writing it: a concurrent `up`/`down` of another cluster that overwrote this cluster\'s change is undone (IAM has no conditional write; see docs/concurrency.md)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -l force -d 'Also delete what holds data: a queue\'s messages, a repository\'s images, a table\'s items, a stream\'s records, a workspace\'s metrics (without it, down refuses and deletes nothing)'
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -s y -l yes -d 'Apply without asking (required when stdin is not a terminal, e.g. in CI)'
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l explain -d 'Explain one check, e.g. KD010' -r -f -a "KD001\t'Pod Identity Agent add-on is installed and ACTIVE'
KD002\t'Pod Identity Agent is healthy on the nodes'
KD003\t'Node role may call eks-auth:AssumeRoleForPodIdentity'
KD004\t'The agent reaches the EKS Auth API'
KD005\t'keda-operator\'s service account has a pod identity association'
KD006\t'The running keda-operator pod got Pod Identity credentials'
KD007\t'keda-operator runs where Pod Identity works'
KD008\t'Roles used by associations trust pods.eks.amazonaws.com with sts:TagSession'
KD009\t'keda-operator does not mix IRSA with Pod Identity'
KD010\t'The identity role trusts the keda-operator role (sts:AssumeRole)'
KD011\t'The identity role lets the keda-operator role tag the session'
KD012\t'keda-operator\'s own policy allows assuming the identity role where needed'
KD013\t'Trust policies name live roles, not stale unique IDs'
KD014\t'roleArn is not the operator\'s own role'
KD015\t'The identity role may read the queue (sqs:GetQueueAttributes)'
KD016\t'Without roleArn, keda-operator itself may read the queue'
KD017\t'The ScaledObject references an existing TriggerAuthentication'
KD018\t'The TriggerAuthentication uses provider aws with KEDA as identity owner'
KD019\t'roleArn and identityOwner: workload are not combined'
KD020\t'KEDA is installed and is 2.13 or newer'
KD021\t'The trigger sets awsRegion'
KD022\t'queueURL matches awsRegion and the account, and the queue exists'
KD023\t'queueURL is well formed'
KD024\t'The app\'s pods have credentials to consume the queue'
KD025\t'KEDA\'s external metrics API is available to the HPA'
KD026\t'Scale to zero can happen'
KD027\t'keda-operator\'s pod is newer than its association\'s last change'
KD028\t'Session tags fit in the chained AssumeRole'
KD029\t'The caller may pass the stack\'s roles to EKS (iam:PassRole)'
KD030\t'Each service account\'s association points at the intended role'
KD031\t'A just-deleted queue is not being re-created'
KD032\t'No proxy intercepts the Pod Identity credential calls'
KD033\t'The config describes the stack that is live'
KD034\t'A target role on an association fits the chain'
KD035\t'The ScaledObject is not paused'
KD036\t'KEDA reports the HPA active (HPAActive)'
KD037\t'keda-operator does not run on the host network'
KD038\t'No NetworkPolicy blocks keda-operator from the Pod Identity Agent'
KD039\t'keda-operator calls the regional STS endpoint'
KD040\t'A ScaledJob\'s Jobs finish within the queue\'s visibility timeout'
KD041\t'The queue\'s visibility timeout covers the app\'s processing'
KD042\t'A queue\'s dead-letter queue exists'
KD043\t'The app may decrypt its queue\'s messages (kms:Decrypt on a customer-managed key)'
KD044\t'The app\'s image is in the stack\'s ECR repository'
KD045\t'The nodes may pull the app\'s image from ECR'
KD046\t'The trigger\'s source exists and is ready'
KD047\t'KEDA\'s session may read the trigger\'s source'
KD048\t'The live trigger is the one the config renders'
KD049\t'The trigger\'s metric reads as KEDA reads it'
KD050\t'The AMP scraper may read the cluster (its access entry)'
KD051\t'IRSA: the cluster\'s OIDC issuer has its IAM identity provider'
KD052\t'IRSA: each role\'s trust admits its service accounts through the provider'
KD053\t'IRSA: the service accounts name their role (eks.amazonaws.com/role-arn)'
KD054\t'IRSA: the pods got AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE'
KD055\t'The roles carry the configured permissions boundary, and it allows what they do'
KD056\t'An existing workload is there, runs as the app\'s service account, and only KEDA scales it'"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l scaled-object -d 'The ScaledObject to diagnose, when it is not the one the config renders (with several apps, name the app with --app)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l keda-log -d 'Only classify the 403 / AssumeRole failures in this saved keda-operator log (`-`: stdin); reads neither AWS nor the cluster, so the other checks are not run' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l only -d 'Work on these groups only (comma-separated), e.g. one CI job per group' -r -f -a "iam\t'IAM roles, trust and inline policies'
queue\t'SQS queues (and dead-letter queues)'
registry\t'ECR repositories'
source\t'What other triggers read and kedactl creates: an AMP workspace and its scraper, a Kinesis stream, a DynamoDB table'
eks\t'The Pod Identity Agent add-on and pod identity associations'
keda\t'The KEDA installation'
app\t'The app\'s Kubernetes objects'"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l kubeconfig -d 'Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l context -d 'The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config); without it, the current context must point at --cluster\'s endpoint' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l trust-watch -d 'Seconds to watch a trust policy shared with other clusters after writing it: a concurrent `up`/`down` of another cluster that overwrote this cluster\'s change is undone (IAM has no conditional write; see docs/concurrency.md)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l list -d 'Print the catalogue of checks (code, layer, title)'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l fix -d 'Apply the safe repairs (through the same executor as `up`), after showing them and asking'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l adopt -d 'With --fix: take over same-named resources that lack this stack\'s tags'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -l strict -d 'Exit 1 when a check could not run (a read failed or was out of scope), as on a failure; for CI'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -s y -l yes -d 'Apply without asking (required when stdin is not a terminal, e.g. in CI)'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l out-dir -d 'Write one file per object into this folder instead of printing; the folder then holds exactly this render (files an earlier render wrote and this one does not are removed, as listed in DIR/.kedactl-render.json); a folder kedactl did not write must be empty' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l commands -d 'With --caller-policy: the commands the policy is for' -r -f -a "plan\t'Reads only'
doctor\t'plan\'s reads, the policy simulator, nodegroups and access entries, the metric reads'
up\t'Reads, creates, updates, and removes what the config no longer has'
down\t'Reads and deletes'
watch\t'`watch`, `scale` and `app-queue`: the triggers\' metric reads (doctor reads them too)'
load\t'`load`: sends messages to the stack\'s queues'"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l caller-arn -d 'With --caller-policy: the ARN of the role or user that will hold the policy, so doctor may ask the IAM policy simulator about it (without it, doctor\'s simulator questions are answered from the policy documents instead)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l format -d 'What to write (kustomize needs --out-dir: DIR/base and DIR/overlays/<cluster>; docs/export.md)' -r -f -a "documents\t'The IAM policies and Kubernetes manifests, as a stream or one file each'
cloudformation\t'The AWS half as one CloudFormation template (for a StackSet)'
kustomize\t'The Kubernetes half as a Kustomize base and this cluster\'s overlay (for Argo CD, Flux)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l only -d 'Work on these groups only (comma-separated), e.g. one CI job per group' -r -f -a "iam\t'IAM roles, trust and inline policies'
queue\t'SQS queues (and dead-letter queues)'
registry\t'ECR repositories'
source\t'What other triggers read and kedactl creates: an AMP workspace and its scraper, a Kinesis stream, a DynamoDB table'
eks\t'The Pod Identity Agent add-on and pod identity associations'
keda\t'The KEDA installation'
app\t'The app\'s Kubernetes objects'"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l force -d 'With --out-dir: write into a non-empty folder kedactl did not write, and overwrite or remove files of an earlier render that were edited since'
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l strict -d 'Exit 3, printing and writing nothing, when a document would hold a placeholder (a value only AWS knows, such as the id of a workspace `up` has not created yet)'
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -l caller-policy -d 'Print instead the IAM policy the caller of kedactl (a CI role) needs to run --commands on this stack: every action kedactl calls, on the stack\'s ARNs (`*` only for actions without resource-level permissions)'
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l shape -d 'A built-in arrival pattern (ignored with --trace)' -r -f -a "steady\t'The same rate every second'
burst\t'All of the duration\'s messages at once, at t = 0'
ramp\t'From 0 up to twice the rate'
sine\t'A wave around the rate (three periods over the duration)'
spikes\t'A low base with 20-second bursts about every 5 minutes (repeatable with --seed); the run\'s total is still rate × duration'"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l rate -d 'Mean arrivals per second for --shape (at most 100000)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l duration -d 'Length of the --shape pattern: 90s, 30m, 2h, 1h30m (at most 7d)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l seed -d 'Seed of the spikes pattern' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l trace -d 'Arrivals per second from a file: JSON array, or CSV with one count per line or `t,count` (at most 7d of seconds, 16 MiB)' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l pod-rate -d 'Messages one pod completes per second (at most 100000)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l startup -d 'Time from pod creation until it processes messages: 30s, 2m (at most 1h)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l price -d 'Price of one pod-hour in dollars, to show cost (at most 1000)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l chart -d 'Write an SVG chart of queue depth and replicas (the file name must end in .svg)' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l compare -d 'Run the same arrivals with another kedactl.yaml and show both' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l phase -d 'Time from an HPA sync to KEDA\'s poll, below the app\'s pollingInterval: 0s (KEDA polls in the second the HPA syncs, just after it), 10s' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l k8s-version -d 'Kubernetes version whose HPA rules apply, 1.23 to 1.99 (default 1.36, the newest EKS supports; from 1.33 the tolerance band 0.9..=1.1 is inclusive)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l job-duration -d 'ScaledJob apps: seconds a Job works on each message it received, like the seed\'s PROCESS_SLEEP_TIME: 30s, 2m (1s to 1d)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand simulate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l count -d 'Send this many messages, then stop (at most 10000000)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l rate -d 'Messages per second, at most 3000 (with --duration)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l duration -d 'How long to send at --rate: 90s, 10m, 1h (at most 1d)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l body -d 'Message body' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l seed -d 'Seed of {n}' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l concurrency -d 'Batches (of up to 10 messages, 1 MiB) in flight at once, 1 to 256' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l group-id -d 'MessageGroupId of every message, sent in order one batch at a time (FIFO queues; default: one group per concurrent sender, so the groups are received in parallel)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand load" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l current -d 'Replicas the Deployment has now, or a ScaledJob\'s running Jobs, 0 to 2147483647 (--dry-run; otherwise read from the cluster)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l k8s-version -d 'Kubernetes version whose HPA rules apply, 1.23 to 1.99 (default: the cluster\'s version from DescribeCluster; with --dry-run 1.36, the newest EKS supports)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l kubeconfig -d 'Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l context -d 'The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config); without it, the current context must point at --cluster\'s endpoint' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l dry-run -d 'Only print decisions; needs no cluster access'
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l once -d 'Make one decision (and apply it unless --dry-run) and exit'
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -l force -d 'Scale even though a ScaledObject or HPA already scales the Deployment'
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand scale" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l interval -d 'Seconds between refreshes' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l count -d 'Stop after this many refreshes [default: until Ctrl-C]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l endpoint-url -d 'Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l kubeconfig -d 'Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l context -d 'The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config); without it, the current context must point at --cluster\'s endpoint' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l connect-timeout -d 'Seconds to wait for a connection to AWS or the cluster' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l call-timeout -d 'Seconds to wait for one AWS or Kubernetes call to answer, retries included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l max-attempts -d 'Attempts per AWS call, throttled ones included' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l max-in-flight -d 'Requests on the wire at once per AWS service; more wait their turn (1 to 256)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l retry-mode -d 'How AWS calls are retried: adaptive slows down each service as soon as it throttles' -r -f -a "adaptive\t'Retries with backoff, and a client-side rate limiter per service that slows down as soon as AWS throttles and speeds up again as calls succeed'
standard\t'Retries with backoff only (`legacy` is read as this)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -l no-cluster -d 'Show the queue and KEDA\'s target only; do not reach the cluster'
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -s f -l config -d 'Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]' -r -F
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l profile -d 'AWS shared-config profile: its credentials, and its region when no other is given' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -s o -l output -d 'Output format' -r -f -a "human\t'Readable text'
json\t'One JSON document on stdout (logs stay on stderr)'
junit\t'JUnit XML test report, one testcase per check (doctor only)'
markdown\t'A Markdown table for a pull-request comment (plan only)'
jsonl\t'JSON lines, written as they are made (simulate only: a line per simulated second)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l color -d 'When to colour the text output' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set or TERM is dumb'
always\t''
never\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l cluster -d 'EKS cluster name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s region]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l account -d 'AWS account ID, so offline commands can write ARNs (online ones ask STS)' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l stack -d 'Stack name used in ownership tags and labels [default: kedactl]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l auth-mode -d 'How pods get AWS credentials' -r -f -a "pod-identity\t''
irsa\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l oidc-issuer -d 'IRSA: the cluster\'s OIDC issuer URL' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l scoped-trust -d 'Scope role trust to this cluster and its service accounts [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l keda-namespace -d 'Namespace of KEDA [default: keda]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l keda-service-account -d 'Service account of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l keda-version -d 'KEDA chart version [default: 2.20.2]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l operator-role -d 'IAM role of the keda-operator [default: keda-operator]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l identity-role -d 'IAM role KEDA assumes to read the queue [default: keda-identity]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l permissions-boundary -d 'Managed policy ARN set as the permissions boundary of every IAM role kedactl creates' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l app -d 'Which app (its deployment name) the app flags change, when there are several' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l deployment -d 'Deployment name [default: q-read]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l namespace -d 'App namespace [default: security]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l service-account -d 'App service account [default: my-sqs-read-msgs]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l image -d 'Container image [default: the app\'s ECR repository, :latest]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l app-identity-role -d 'IAM role of this app [default: the identity role]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l repository -d 'ECR repository [default: keda-pod-identity-registry]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l queue -d 'SQS queue name [default: event-messages-queue]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l visibility-timeout -d 'Queue visibility timeout in seconds [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l dlq -d 'Add a dead-letter queue with this name' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l max-receive-count -d 'Receives before a message moves to the dead-letter queue [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l kms-key -d 'Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l scaling-kind -d 'ScaledObject (Deployment) or ScaledJob (Jobs)' -r -f -a "ScaledObject\t''
ScaledJob\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l scaler-name -d 'Name of the ScaledObject/ScaledJob' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l queue-length -d 'Messages per replica [default: 5]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l activation-queue-length -d 'Messages needed to scale from zero [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l min-replicas -d 'Minimum replicas [default: 0]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l max-replicas -d 'Maximum replicas [default: 10]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l polling-interval -d 'Seconds between queue reads [default: 30]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l cooldown-period -d 'Seconds before scaling to zero [default: 300]' -r
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l scale-on-in-flight -d 'Count in-flight messages [default: true]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l scale-on-delayed -d 'Count delayed messages [default: false]' -r -f -a "true\t''
false\t''"
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l stdout -d 'Print to stdout instead of writing a file'
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -l force -d 'Overwrite an existing file'
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand schema" -l kind -d 'The schema of this kind of JSON document instead (the `kind` field of `-o json` output)' -r -f -a "Plan\t'plan -o json, up --dry-run -o json'
SavedPlan\t'plan --out FILE (the file; up --plan FILE applies it)'
Up\t'up -o json'
Down\t'down -o json'
Doctor\t'doctor -o json, doctor --keda-log FILE -o json'
DoctorChecks\t'doctor --list -o json'
DoctorCheck\t'doctor --explain CODE -o json'
Validation\t'validate -o json'
Rendered\t'render -o json'
RenderedFiles\t'render --out-dir DIR -o json'
ScaleDecision\t'scale -o json (a line per decision), scale --once -o json'
WatchSnapshot\t'watch -o json (a line per refresh)'
Load\t'load -o json'
Simulation\t'simulate -o json'
SimulationStart\t'simulate -o jsonl (the first line of each run)'
SimulationTick\t'simulate -o jsonl (a line per simulated second)'
SimulationSummary\t'simulate -o jsonl (the last line of each run)'
Error\t'any command with -o json that fails (beside the message on stderr)'"
complete -c kedactl -n "__fish_kedactl_using_subcommand schema" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c kedactl -n "__fish_kedactl_using_subcommand schema" -s q -l quiet -d 'Only results on stdout and errors on stderr'
complete -c kedactl -n "__fish_kedactl_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kedactl -n "__fish_kedactl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "up" -d 'Create or repair the stack: plan, confirm, apply (idempotent; only touches what it owns)'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "plan" -d 'Show what `up` would change, without changing anything'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "down" -d 'Remove what this stack created, in reverse order; anything it does not own is left alone'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "doctor" -d 'Find what keeps KEDA from scaling: every known cause of 403 / AssumeRole / "not scaling", each with its evidence and the exact fix'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "render" -d 'Print the IAM policies and Kubernetes manifests, for GitOps and review'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "simulate" -d 'Simulate KEDA and the HPA on an arrival pattern, offline: replicas, backlog, waits, cost'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "load" -d 'Send test messages to the app\'s queue: a count, or a rate for a duration'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "scale" -d 'Scale the app\'s Deployment on its queue with KEDA\'s and the HPA\'s exact rules (or, with --dry-run, show what they would decide)'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "watch" -d 'Watch the queue, KEDA\'s scaler, the HPA and the pods live, refreshed every few seconds'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "validate" -d 'Check kedactl.yaml and the flags; report every problem with its field and fix (exit 3)'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "init" -d 'Write a commented kedactl.yaml (the seed\'s defaults, with any flags given)'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "schema" -d 'Print the JSON Schema of kedactl.yaml, or of the JSON documents a command prints (--kind)'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c kedactl -n "__fish_kedactl_using_subcommand help; and not __fish_seen_subcommand_from up plan down doctor render simulate load scale watch validate init schema completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
