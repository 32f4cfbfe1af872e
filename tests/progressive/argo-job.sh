#!/usr/bin/env bash
# Stands in for Argo Rollouts running an AnalysisTemplate whose metric uses the Job provider
# (docs/progressive-delivery.md): each measurement is a Job whose one container runs
# `smokegate ARGS...` (backoffLimit 0). The Job succeeding (exit 0) is a Successful
# measurement; failing (any other exit code: 1 checks failed, 2 configuration error,
# 3 internal error, 130 interrupted) is a Failed one. `count` measurements, `interval`
# seconds apart; the AnalysisRun fails as soon as more than `failureLimit` measurements
# failed (Argo then aborts the rollout), and succeeds otherwise.
#
# Usage: argo-job.sh [--count N] [--interval SECONDS] [--failure-limit N] -- ARGS...
# SMOKEGATE names the binary (default: smokegate on PATH).
set -euo pipefail

usage() {
    echo "usage: $0 [--count N] [--interval SECONDS] [--failure-limit N] -- SMOKEGATE_ARGS..." >&2
    exit 2
}

count=1
interval=0
failure_limit=0
while [ $# -gt 0 ]; do
    case "$1" in
        --count) count=${2:?}; shift 2 ;;
        --interval) interval=${2:?}; shift 2 ;;
        --failure-limit) failure_limit=${2:?}; shift 2 ;;
        --) shift; break ;;
        *) usage ;;
    esac
done
[ $# -gt 0 ] || usage
for n in "$count" "$interval" "$failure_limit"; do
    case "$n" in '' | *[!0-9]*) usage ;; esac
done
smokegate=${SMOKEGATE:-smokegate}

pod_log=$(mktemp)
trap 'rm -f "$pod_log"' EXIT

failed=0
for ((i = 1; i <= count; i++)); do
    code=0
    "$smokegate" "$@" >"$pod_log" 2>&1 || code=$?
    if [ "$code" -eq 0 ]; then
        phase=Successful
    else
        phase=Failed
        failed=$((failed + 1))
    fi
    echo "measurement $i/$count: $phase (exit $code)"
    # The pod's log, as `kubectl logs job/...` shows it: the verdict line.
    tail -n 1 "$pod_log" | sed 's/^/  | /'
    if [ "$failed" -gt "$failure_limit" ]; then
        echo "AnalysisRun Failed: $failed failed, failureLimit $failure_limit"
        exit 1
    fi
    if [ "$i" -lt "$count" ]; then
        sleep "$interval"
    fi
done
echo "AnalysisRun Successful: $failed failed of $count, failureLimit $failure_limit"
