#!/usr/bin/env bash
# Install smokegate for the GitHub Action (action.yml).
#
# SMOKEGATE_VERSION: `latest`, a release tag (`v0.1.0`), or `build` (cargo builds this
#   action's own source). Released archives are `smokegate-TARGET.tar.gz` with a
#   `smokegate-TARGET.tar.gz.sha256` beside them (scripts/release/package.sh makes both); the
#   archive is installed only when its SHA-256 matches.
# SMOKEGATE_REPOSITORY: owner/name whose releases are installed.
# SMOKEGATE_DOWNLOAD_BASE: where releases are [default https://github.com/REPOSITORY/releases].
# Reads RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT, GITHUB_ACTION_PATH.
set -euo pipefail

version="${SMOKEGATE_VERSION:-latest}"
repository="${SMOKEGATE_REPOSITORY:-smokegate/smokegate}"
base="${SMOKEGATE_DOWNLOAD_BASE:-https://github.com/$repository/releases}"
tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
dest="$tmp/smokegate-bin"

fail() {
  echo "::error title=smokegate install::$1"
  exit 1
}

mkdir -p "$dest"
if [ "$version" = build ]; then
  command -v cargo >/dev/null 2>&1 ||
    fail "version: build needs cargo on the runner (e.g. dtolnay/rust-toolchain before this action)"
  src="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
  cargo install --locked --path "$src" --bin smokegate --root "$tmp/smokegate-cargo"
  cp "$tmp/smokegate-cargo/bin/smokegate" "$dest/smokegate"
else
  os="${RUNNER_OS:-$(uname -s)}"
  arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os/$arch" in
    Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
    macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
    macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
    *) fail "no released smokegate binary for $os/$arch: use version: build" ;;
  esac
  archive="smokegate-$target.tar.gz"
  if [ "$version" = latest ]; then
    url="$base/latest/download/$archive"
  else
    url="$base/download/$version/$archive"
  fi
  work="$(mktemp -d "$tmp/smokegate-download.XXXXXX")"
  fetch() {
    curl --proto '=https,http,file' --fail --silent --show-error --location \
      --retry 3 --connect-timeout 20 --max-time 300 --output "$2" "$1"
  }
  fetch "$url" "$work/$archive" || fail "cannot download $url"
  fetch "$url.sha256" "$work/$archive.sha256" || fail "cannot download $url.sha256"
  # The checksum file is `HASH  NAME` (sha256sum's format); only the hash is read.
  want="$(grep -Eo '^[0-9a-fA-F]{64}' "$work/$archive.sha256" | head -1 | tr 'A-F' 'a-f')"
  [ -n "$want" ] || fail "$url.sha256 holds no SHA-256"
  if command -v sha256sum >/dev/null 2>&1; then
    got="$(sha256sum "$work/$archive" | cut -d' ' -f1)"
  else
    got="$(shasum -a 256 "$work/$archive" | cut -d' ' -f1)"
  fi
  [ "$got" = "$want" ] ||
    fail "checksum mismatch for $archive: expected $want, got $got (not installed)"
  tar -xzf "$work/$archive" -C "$work"
  install -m 0755 "$work/smokegate-$target/smokegate" "$dest/smokegate"
  rm -rf "$work"
fi

installed="$("$dest/smokegate" --version)" || fail "the installed smokegate does not run"
echo "installed $installed at $dest/smokegate"
if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >>"$GITHUB_PATH"; fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "path=$dest/smokegate"
    echo "version=${installed#smokegate }"
  } >>"$GITHUB_OUTPUT"
fi
