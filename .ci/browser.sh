#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver (Debian's chromium and chromium-driver) when
# they are missing, for the report's browser test (crates/rgd-browser). Idempotent.
#   bash .ci/browser.sh
set -euo pipefail

say() { echo "browser.sh: $*" >&2; }
die() {
  say "error: $1"
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2" >&2
  exit 1
}

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  say "chromium and chromedriver are installed: $(chromedriver --version 2>/dev/null | head -n 1)"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "chromium or chromedriver is missing and there is no apt-get"
apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -q
  chromium chromium-driver)
log=/tmp/browser-sh-apt.log
say "installing chromium and chromium-driver"
if ! "${apt[@]}" >"$log" 2>&1; then
  # Stale package lists: refresh once and retry.
  { apt-get update -q >>"$log" 2>&1 && "${apt[@]}" >>"$log" 2>&1; } ||
    die "apt-get install chromium chromium-driver failed" "$log"
fi
for b in chromium chromedriver; do
  command -v "$b" >/dev/null 2>&1 || die "$b is still missing after the install" "$log"
done
say "installed: $(chromedriver --version 2>/dev/null | head -n 1)"
