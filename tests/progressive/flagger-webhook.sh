#!/usr/bin/env bash
# Stands in for Flagger's canary analysis calling a `smokegate serve` gate as a webhook
# (docs/progressive-delivery.md): each iteration POSTs the webhook payload
# {name, namespace, phase, checksum, metadata} as JSON, within the webhook's timeout. An
# answer 200-202 advances the canary; anything else (412 from a failed gate, 401, 429, a
# timeout, a refused connection) is a failed check, retried at the next iteration; after
# `threshold` failed checks the canary is rolled back. After `iterations` advances it is
# promoted.
#
# Usage: flagger-webhook.sh --url URL [--iterations N] [--threshold N] [--interval SECONDS]
#        [--timeout SECONDS] [--type pre-rollout|rollout]
# Flagger sends no custom headers: FLAGGER_WEBHOOK_TOKEN, when set, goes in the payload as
# metadata.token (`smokegate serve --accept-payload-token`). It is never printed.
set -euo pipefail

usage() {
    echo "usage: $0 --url URL [--iterations N] [--threshold N] [--interval SECONDS] [--timeout SECONDS] [--type TYPE]" >&2
    exit 2
}

url=
iterations=1
threshold=1
interval=0
timeout=60
hook_type=rollout
while [ $# -gt 0 ]; do
    case "$1" in
        --url) url=${2:?}; shift 2 ;;
        --iterations) iterations=${2:?}; shift 2 ;;
        --threshold) threshold=${2:?}; shift 2 ;;
        --interval) interval=${2:?}; shift 2 ;;
        --timeout) timeout=${2:?}; shift 2 ;;
        --type) hook_type=${2:?}; shift 2 ;;
        *) usage ;;
    esac
done
[ -n "$url" ] || usage
for n in "$iterations" "$threshold" "$interval" "$timeout"; do
    case "$n" in '' | *[!0-9]*) usage ;; esac
done

metadata="\"type\":\"$hook_type\""
token=${FLAGGER_WEBHOOK_TOKEN:-}
if [ -n "$token" ]; then
    # Written into JSON as is: refuse what would need escaping.
    case "$token" in *[!A-Za-z0-9._~+/=-]*) echo "FLAGGER_WEBHOOK_TOKEN: unsupported characters" >&2; exit 2 ;; esac
    metadata="$metadata,\"token\":\"$token\""
fi
payload="{\"name\":\"podinfo\",\"namespace\":\"test\",\"phase\":\"Progressing\",\"checksum\":\"6d5c7b9f\",\"metadata\":{$metadata}}"

body=$(mktemp)
trap 'rm -f "$body"' EXIT

failed=0
advanced=0
while [ "$advanced" -lt "$iterations" ]; do
    # The payload goes on standard input: the token is never on a command line.
    status=$(curl --silent --show-error --output "$body" --write-out '%{http_code}' \
        --max-time "$timeout" --header 'Content-Type: application/json' \
        --data-binary @- "$url" <<<"$payload" 2>/dev/null) || true
    status=${status:-000}
    verdict=$(grep -o '"verdict": *"[a-z]*"' "$body" | head -n 1 || true)
    if [ "$status" -ge 200 ] && [ "$status" -le 202 ]; then
        advanced=$((advanced + 1))
        echo "$hook_type webhook: HTTP $status, advance ($advanced/$iterations) ${verdict}"
    else
        failed=$((failed + 1))
        echo "$hook_type webhook: failed check (HTTP $status) ${verdict} ($failed/$threshold)"
        if [ "$failed" -ge "$threshold" ]; then
            echo "Canary failed: $failed failed checks, rolling back"
            exit 1
        fi
    fi
    sleep "$interval"
done
echo "Canary promoted after $iterations iterations ($failed failed checks)"
