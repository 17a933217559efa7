#!/usr/bin/env bash
# The way teams do it today (the seed's console/CLI steps), for the side-by-side benchmark:
# the IAM roles with their trust and inline policies, the queue and the repository, created
# with the aws CLI, tagged like kedactl tags them. Policy documents come from `kedactl render`
# so both sides create exactly the same thing. Prints the number of API calls it made.
#   scripts/by-hand.sh PREFIX RENDER_DIR     (AWS_ENDPOINT_URL etc. from the environment)
set -euo pipefail
p=$1 dir=$2
calls=0
aws_() { aws --region us-east-1 --output text ${AWS_ENDPOINT_URL:+--endpoint-url "$AWS_ENDPOINT_URL"} "$@" > /dev/null; calls=$((calls + 1)); }
tags="Key=app.kubernetes.io/managed-by,Value=kedactl Key=kedactl.io/stack,Value=$p"

aws_ iam create-role --role-name "$p-op" --assume-role-policy-document "file://$dir/iam/$p-op.trust.json" --tags $tags
aws_ iam put-role-policy --role-name "$p-op" --policy-name kedactl-assume-identity --policy-document "file://$dir/iam/$p-op.kedactl-assume-identity.json"
aws_ iam create-role --role-name "$p-id" --assume-role-policy-document "file://$dir/iam/$p-id.trust.json" --tags $tags
aws_ iam put-role-policy --role-name "$p-id" --policy-name kedactl-sqs-access --policy-document "file://$dir/iam/$p-id.kedactl-sqs-access.json"
aws_ sqs create-queue --queue-name "$p-q" --attributes VisibilityTimeout=30 --tags "app.kubernetes.io/managed-by=kedactl,kedactl.io/stack=$p"
aws_ ecr create-repository --repository-name "$p-repo" --image-scanning-configuration scanOnPush=true --tags $tags
echo "$calls"
