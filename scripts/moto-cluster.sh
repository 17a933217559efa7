#!/usr/bin/env bash
# Make sure moto at ENDPOINT has the EKS cluster NAME in us-east-1: `up`/`plan` read the cluster
# the roles' trust names, even with --only iam (the tests' common::moto_cluster, for scripts).
#   scripts/moto-cluster.sh ENDPOINT NAME
set -euo pipefail
endpoint=$1 name=$2
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
eks() { aws eks "$@" --region us-east-1 --endpoint-url "$endpoint" > /dev/null 2>&1; }
eks describe-cluster --name "$name" && exit 0
# A concurrent create (ResourceInUse) is as good as ours: the describe after it decides.
eks create-cluster --name "$name" --role-arn arn:aws:iam::123456789012:role/eks --resources-vpc-config subnetIds=subnet-1 || true
eks describe-cluster --name "$name" || { echo "moto-cluster: could not create EKS cluster $name at $endpoint" >&2; exit 1; }
