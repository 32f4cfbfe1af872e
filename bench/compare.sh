#!/usr/bin/env bash
# smokegate vs Hurl, Newman and Step CI, side by side against one nginx on loopback.
# Installs what is missing (Debian packages, Hurl via cargo, Newman/Step CI via npm), builds
# smokegate, mints a test CA, starts nginx (HTTP and HTTPS), generates the workloads, runs them
# and writes RESULTS.md into a results directory under /tmp (printed at the end); with
# WRITE=1 (or --write-results) it updates bench/RESULTS.md and bench/results-raw.jsonl instead.
# Not a test: CI does not run it. Needs root for apt-get (or the tools already installed).
#
#   bench/compare.sh                      # everything, ~20-30 min on 2 cores (+ Hurl build once)
#   REPS=3 SLOW_REPS=1 bench/compare.sh   # quicker, noisier
#   WRITE=1 bench/compare.sh              # also update the tracked bench/RESULTS.md
#
# Environment knobs: PORT (18080), TLS_PORT (18443), REPS (5), SLOW_REPS (3, Newman and Step
# CI), JOBS (64), W2 (2000), BIG (20000), HUGE (100000), CHAINS (200), ONE_RUNS (hyperfine runs
# per round of the one-check gate, 20), WRK_SECS (5), SMOKEGATE_BIN (skip the build and use this binary),
# SKIP_INSTALL=1, KEEP=1 (keep the temporary work directory), TIME_LIMIT (run phase, 60m),
# BASELINE_REV (a git revision to build and run alongside, for a before/after table) or
# BASELINE_BIN (an already built earlier binary), BASELINE_LABEL (what to call it), WRITE=1,
# RESULTS_DIR (where an unwritten run's results go; a new /tmp directory by default).
set -euo pipefail

for arg in "$@"; do
  case "$arg" in
    --write-results) WRITE=1 ;;
    *) echo "unknown argument: $arg (knobs are environment variables; see the header)" >&2; exit 2 ;;
  esac
done

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$BENCH")"
PORT="${PORT:-18080}"
TLS_PORT="${TLS_PORT:-18443}"
HUGE="${HUGE:-100000}"
CHAINS="${CHAINS:-200}"
ONE_RUNS="${ONE_RUNS:-20}"
REPS="${REPS:-5}"
SLOW_REPS="${SLOW_REPS:-3}"
JOBS="${JOBS:-64}"
W2="${W2:-2000}"
BIG="${BIG:-20000}"
WRK_SECS="${WRK_SECS:-5}"
TIME_LIMIT="${TIME_LIMIT:-60m}"
HURL_VERSION=8.0.1
export STEPCI_DISABLE_ANALYTICS=1 NO_COLOR=1
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\n== %s\n' "$*"; }

# --- install -----------------------------------------------------------------------------------
install_tools() {
  local pkgs=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || pkgs+=(nginx)
  command -v wrk >/dev/null || pkgs+=(wrk)
  command -v hyperfine >/dev/null || pkgs+=(hyperfine)
  [ -x /usr/bin/time ] || pkgs+=(time)
  command -v curl >/dev/null || pkgs+=(curl)
  command -v python3 >/dev/null || pkgs+=(python3)
  command -v npm >/dev/null || pkgs+=(nodejs npm)
  local have_hurl=""
  if command -v hurl >/dev/null && hurl --version | head -1 | grep -q "hurl $HURL_VERSION"; then
    have_hurl=1
  else
    for p in libcurl4-openssl-dev libxml2-dev libclang-dev pkg-config; do
      dpkg -s "$p" >/dev/null 2>&1 || pkgs+=("$p")
    done
  fi
  if [ ${#pkgs[@]} -gt 0 ]; then
    log "apt-get install ${pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
  if [ -z "$have_hurl" ]; then
    log "cargo install hurl@$HURL_VERSION --locked (several minutes on 2 cores)"
    cargo install "hurl@$HURL_VERSION" --locked
  fi
  local npm_pkgs=()
  command -v newman >/dev/null || npm_pkgs+=(newman)
  command -v stepci >/dev/null || npm_pkgs+=(stepci)
  if [ ${#npm_pkgs[@]} -gt 0 ]; then
    log "npm install -g ${npm_pkgs[*]}"
    npm install -g --no-fund --no-audit "${npm_pkgs[@]}"
  fi
}

[ "${SKIP_INSTALL:-}" = 1 ] || install_tools
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

# --- work directory, nginx ------------------------------------------------------------------------
WORK="$(mktemp -d /tmp/smokegate-bench.XXXXXX)"
NGX="$WORK/nginx"
cleanup() {
  if [ -f "$NGX/nginx.pid" ]; then
    kill -QUIT "$(cat "$NGX/nginx.pid")" 2>/dev/null || true
    sleep 0.5
  fi
  if [ -d "$WORK/baseline-src" ]; then
    git -C "$REPO" worktree remove --force "$WORK/baseline-src" 2>/dev/null || true
  fi
  if [ "${KEEP:-}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- baseline (optional) --------------------------------------------------------------------------
BASELINE_ARGS=()
if [ -n "${BASELINE_REV:-}" ]; then
  log "building the baseline $BASELINE_REV (its own worktree and target directory)"
  git -C "$REPO" worktree add --detach "$WORK/baseline-src" "$BASELINE_REV" >/dev/null
  # Its own checkout's build settings (.cargo/config.toml of that revision, if any) apply.
  (cd "$WORK/baseline-src" &&
    CARGO_TARGET_DIR="$REPO/target/bench-baseline" cargo build --release --bin smokegate)
  cp "$REPO/target/bench-baseline/release/smokegate" "$WORK/smokegate-baseline"
  git -C "$REPO" worktree remove --force "$WORK/baseline-src"
  BASELINE_ARGS=(--baseline "$WORK/smokegate-baseline" --baseline-label "${BASELINE_LABEL:-$BASELINE_REV}")
elif [ -n "${BASELINE_BIN:-}" ]; then
  cp "$BASELINE_BIN" "$WORK/smokegate-baseline"
  BASELINE_ARGS=(--baseline "$WORK/smokegate-baseline" --baseline-label "${BASELINE_LABEL:-baseline}")
fi

# --- smokegate ----------------------------------------------------------------------------------
if [ -n "${SMOKEGATE_BIN:-}" ]; then
  cp "$SMOKEGATE_BIN" "$WORK/smokegate"
else
  log "cargo build --profile dist"
  # Run inside the repository, so its .cargo/config.toml (aws-lc without CPU-jitter entropy)
  # applies, as in the release workflow and the Dockerfile.
  (cd "$REPO" && cargo build --profile dist --bin smokegate)
  # A private copy: the binary under target/ may be rebuilt by someone else mid-run.
  cp "${CARGO_TARGET_DIR:-$REPO/target}/dist/smokegate" "$WORK/smokegate"
fi

for p in "$PORT" "$TLS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is already in use on 127.0.0.1; set PORT=... / TLS_PORT=..." >&2
    exit 1
  fi
done
mkdir -p "$NGX"

# --- test CA and server certificate (in the temporary work directory only) ----------------------
# ECDSA P-256 like most public sites; the server certificate names 127.0.0.1 and localhost.
log "minting a test CA"
TLS="$WORK/tls"
mkdir -p "$TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=smokegate bench CA" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=127.0.0.1" -keyout "$NGX/server.key" -out "$TLS/server.csr" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$TLS/server.ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
  -CAcreateserial -days 2 -extfile "$TLS/server.ext" -out "$NGX/server.pem" 2>/dev/null

cp "$BENCH/locations.conf" "$NGX/locations.conf"
sed -e "s#@PREFIX@#$NGX#g" -e "s#@PORT@#$PORT#g" -e "s#@TLS_PORT@#$TLS_PORT#g" \
  "$BENCH/nginx.conf.in" >"$NGX/nginx.conf"
log "nginx on 127.0.0.1:$PORT (http) and 127.0.0.1:$TLS_PORT (https)"
"$NGINX" -c "$NGX/nginx.conf" -p "$NGX" -e "$NGX/error.log"
BASE="http://127.0.0.1:$PORT"
TLS_BASE="https://127.0.0.1:$TLS_PORT"
for _ in $(seq 50); do curl -fsS "$BASE/health" >/dev/null 2>&1 && break; sleep 0.1; done
for b in "$BASE" "$TLS_BASE"; do
  curl -fsS --cacert "$TLS/ca.pem" "$b/health"; echo
  [ "$(curl -s --cacert "$TLS/ca.pem" -o /dev/null -w '%{http_code}' -X POST "$b/v1/events")" = 401 ]
  curl -fsS --cacert "$TLS/ca.pem" "$b/api/status" >/dev/null
  [ "$(curl -s --cacert "$TLS/ca.pem" -o /dev/null -w '%{http_code}' "$b/me")" = 401 ]
  curl -fsS --cacert "$TLS/ca.pem" -X POST "$b/auth/register" >/dev/null
done

# --- workloads and the run ------------------------------------------------------------------------
log "generating workloads in $WORK/wl"
python3 "$BENCH/gen.py" "$WORK/wl" --w2 "$W2" --big "$BIG" --huge "$HUGE" --chains "$CHAINS" \
  --jobs "$JOBS"

# Results: a directory of their own unless WRITE=1 (the tracked files are only written when
# asked).
if [ "${WRITE:-}" = 1 ]; then
  OUT="$BENCH/RESULTS.md"; RAW="$BENCH/results-raw.jsonl"
else
  RESULTS_DIR="${RESULTS_DIR:-$(mktemp -d /tmp/smokegate-bench-results.XXXXXX)}"
  mkdir -p "$RESULTS_DIR"
  OUT="$RESULTS_DIR/RESULTS.md"; RAW="$RESULTS_DIR/results-raw.jsonl"
fi

log "running (bounded by $TIME_LIMIT)"
timeout "$TIME_LIMIT" python3 "$BENCH/run.py" \
  --work "$WORK/wl" --base "$BASE" --tls-base "$TLS_BASE" --cacert "$TLS/ca.pem" \
  --smokegate "$WORK/smokegate" --suites "$REPO/suites" \
  --reps "$REPS" --slow-reps "$SLOW_REPS" --jobs "$JOBS" --wrk-secs "$WRK_SECS" \
  --one-runs "$ONE_RUNS" \
  --out "$OUT" --raw "$RAW" --append "$BENCH/PROFILE.md" \
  "${BASELINE_ARGS[@]}"
log "results: $OUT"
