#!/usr/bin/env bash
# Run smokegate for the GitHub Action (action.yml): the inputs arrive as INPUT_* variables;
# the reports go to INPUT_REPORTS_DIR; the step's outputs (verdict, exit-code, report paths,
# artifact-name, reports-dir) go to $GITHUB_OUTPUT. smokegate itself writes the annotations
# (GITHUB_ACTIONS=true) and the job summary ($GITHUB_STEP_SUMMARY); this script adds where
# the reports went. The step exits with smokegate's exit code.
set -euo pipefail

# One item per line; blank lines and lines starting with # are left out, spaces around an
# item are trimmed.
lines() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [ -z "$line" ] || [ "${line:0:1}" = "#" ] || printf '%s\n' "$line"
  done <<<"$1"
}

out() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}

dir="${INPUT_REPORTS_DIR:-smokegate-reports}"
shard="${INPUT_SHARD:-}"
suffix=""
if [ -n "$shard" ]; then
  case "$shard" in
    */*) suffix="-shard-${shard%%/*}-of-${shard##*/}" ;;
    *) echo "::error title=smokegate::shard must be K/N (e.g. 2/4), got \`$shard\`"; exit 2 ;;
  esac
fi
json="$dir/report$suffix.json"
junit="$dir/junit$suffix.xml"
html="$dir/report$suffix.html"
artifact="${INPUT_ARTIFACT_NAME:-smokegate-reports$suffix}"
case "$dir" in
  /*) abs_dir="$dir" ;;
  *) abs_dir="$PWD/$dir" ;;
esac
mkdir -p "$dir"

args=(run)
# Suites: one per line, or several on a line separated by spaces.
while IFS= read -r line; do
  read -ra words <<<"$line"
  args+=("${words[@]}")
done < <(lines "${INPUT_SUITES:-suites/}")
[ -z "${INPUT_ENV:-}" ] || args+=(--env "$INPUT_ENV")
[ -z "${INPUT_SHARD:-}" ] || args+=(--shard "$INPUT_SHARD")
[ -z "${INPUT_TARGET:-}" ] || args+=(--target "$INPUT_TARGET")
while IFS= read -r kv; do args+=(--var "$kv"); done < <(lines "${INPUT_VARS:-}")
while IFS= read -r kv; do
  # GitHub masks the value in the log too (smokegate redacts it in every report).
  value="${kv#*=}"
  [ -z "$value" ] || echo "::add-mask::$value"
  args+=(--secret "$kv")
done < <(lines "${INPUT_SECRETS:-}")
while IFS= read -r r; do args+=(--resolve "$r"); done < <(lines "${INPUT_RESOLVE:-}")
while IFS= read -r a; do args+=("$a"); done < <(lines "${INPUT_ARGS:-}")
args+=(--report-json "$json" --report-junit "$junit" --report-html "$html")

code=0
smokegate "${args[@]}" || code=$?
case "$code" in
  0) verdict=passed ;;
  1) verdict=failed ;;
  *) verdict=error ;;
esac
out verdict "$verdict"
out exit-code "$code"
out report-json "$json"
out report-junit "$junit"
out report-html "$html"
out reports-dir "$abs_dir"
out artifact-name "$artifact"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo
    echo "smokegate exit code $code ($verdict). Reports: \`$json\`, \`$junit\`, \`$html\`"
    if [ "${INPUT_UPLOAD_REPORTS:-true}" = true ]; then
      echo "(artifact \`$artifact\`)."
    fi
  } >>"$GITHUB_STEP_SUMMARY"
fi
exit "$code"
