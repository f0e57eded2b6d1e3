#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe, in mesa-vulkan-drivers), the Vulkan loader
# and vulkaninfo when they are missing, for the wgpu tests (crates/rgd-lab/tests/wgpu.rs), and
# checks that a Vulkan device is listed. Idempotent.
#   bash .ci/vulkan.sh
set -euo pipefail

say() { echo "vulkan.sh: $*" >&2; }
die() {
  say "error: $1"
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2" >&2
  exit 1
}

device() { vulkaninfo --summary 2>/dev/null | grep -m 1 deviceName | sed 's/.*= //'; }

if command -v vulkaninfo >/dev/null 2>&1 && [ -n "$(device)" ]; then
  say "a Vulkan device is there: $(device)"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "no Vulkan device and there is no apt-get"
apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -q
  mesa-vulkan-drivers libvulkan1 vulkan-tools)
log=/tmp/vulkan-sh-apt.log
say "installing mesa-vulkan-drivers, libvulkan1 and vulkan-tools"
if ! "${apt[@]}" >"$log" 2>&1; then
  # Stale package lists: refresh once and retry.
  { apt-get update -q >>"$log" 2>&1 && "${apt[@]}" >>"$log" 2>&1; } ||
    die "apt-get install mesa-vulkan-drivers libvulkan1 vulkan-tools failed" "$log"
fi
[ -n "$(device)" ] || die "vulkaninfo still lists no Vulkan device after the install" "$log"
say "installed: $(device)"
