#!/usr/bin/env bash
# Package a built smokegate binary for a GitHub release:
#   scripts/release/package.sh TARGET BINARY OUTDIR
# writes OUTDIR/smokegate-TARGET.tar.gz (a folder smokegate-TARGET/ holding the binary, the
# README, the licences, the shell completions and the man page) and
# OUTDIR/smokegate-TARGET.tar.gz.sha256 (`HASH  NAME`, as sha256sum writes it). The archive
# name carries no version, so `releases/latest/download/…` always names the newest; the
# Action (scripts/action/install.sh) installs exactly these files.
set -euo pipefail
target="${1:?usage: package.sh TARGET BINARY OUTDIR}"
binary="${2:?usage: package.sh TARGET BINARY OUTDIR}"
outdir="${3:?usage: package.sh TARGET BINARY OUTDIR}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
name="smokegate-$target"
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/completions"
install -m 0755 "$binary" "$stage/$name/smokegate"
cp "$root/README.md" "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$stage/$name/"
# Completions and the man page come from the binary's own clap definitions; a binary built
# for another architecture than the packaging machine's cannot run here, and then they are
# left out rather than faked.
if "$binary" --version >/dev/null 2>&1; then
  for shell in bash zsh fish powershell elvish; do
    "$binary" completions "$shell" >"$stage/$name/completions/smokegate.$shell"
  done
  "$binary" man >"$stage/$name/smokegate.1"
fi
# Reproducible with GNU tar (sorted names, fixed owner and modification time); macOS's
# bsdtar writes a plain archive.
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  (cd "$stage" && LC_ALL=C tar --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@${SOURCE_DATE_EPOCH:-946684800}" -czf "$outdir/$name.tar.gz" "$name")
else
  (cd "$stage" && tar -czf "$outdir/$name.tar.gz" "$name")
fi
cd "$outdir"
if command -v sha256sum >/dev/null 2>&1; then
  sha256sum "$name.tar.gz" >"$name.tar.gz.sha256"
else
  shasum -a 256 "$name.tar.gz" >"$name.tar.gz.sha256"
fi
echo "$outdir/$name.tar.gz"
