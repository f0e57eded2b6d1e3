#!/usr/bin/env bash
# The GPU check of the wgpu backend, in two halves: `prepare` here (the build machine, which has
# the network and the target folder), `run` on a GPU machine without network (the device tool's
# machine, an NVIDIA H200 with PyTorch installed), in one call, with `.gpu` and `.gl` carried.
#
#   bash scripts/gpu-check.sh prepare    # here: stripped `rgd --features wgpu,gpu-tuned`, the
#                                        # Vulkan loader packages, the 10,000 test images
#   bash scripts/gpu-check.sh run        # there: writes its results under $OUT (or ./gpu-out)
#
# `run` measures, each in its own process:
#   1. `rgd bench speed --device wgpu` for the MLP, the CNN and the ViT (ERM and RGD steps/s);
#   2. the same models in PyTorch on CUDA (benchmarks/pytorch/speed.py --device cuda);
#   3. a short CNN training run on the 10,000 test images (80/10/10 split, 3 epochs), on wgpu
#      and on flex from the same seed; the two test accuracies should agree within seed noise.
# Every result is a JSON file (bench) or a run folder's summary.json (training) under $OUT,
# with the GPU's and the CPU's names in `machine.txt`. Inputs of the bench are synthetic, so only
# the accuracy check needs data (4.4 MB; the 26 MB training file would not fit the 64 MiB carry).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "gpu-check: $*" >&2; }
die() { say "error: $*"; exit 1; }

prepare() {
  local data="${RGD_DATA_DIR:-data-cache}/fashion-mnist"
  [ -f "$data/t10k-images-idx3-ubyte.gz" ] ||
    die "no Fashion-MNIST test images in $data: run scripts/fetch-data.sh fashion-mnist first"
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo '/.gl/' >>.git/info/exclude
  # With burn's fusion and cubecl's autotuning, as a GPU user would build it (CI's wgpu build has
  # neither: on lavapipe autotuning compiles and times every kernel variant).
  say "building rgd with --features wgpu,gpu-tuned (another burn build the first time)"
  cargo build -p rgd-lab --features wgpu,gpu-tuned --bin rgd
  local target="${CARGO_TARGET_DIR:-target}"
  mkdir -p .gpu/data/fashion-mnist .gl
  # Stripped it is about 75 MB, over the carry's 64 MiB; gzip makes it about 25.
  strip -o .gpu/rgd "$target/debug/rgd"
  gzip -9f .gpu/rgd
  cp "$data"/t10k-*-idx?-ubyte.gz .gpu/data/fashion-mnist/
  # The Vulkan loader and GL dispatch packages the device machine lacks (device README).
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  # shellcheck disable=SC2086
  apt-get $o update -q >/dev/null
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  say "ready: $(du -sh .gpu .gl | tr '\n' ' '); carry [\".gpu\", \".gl\"] and run:"
  say "  bash scripts/gpu-check.sh run"
}

run() {
  local out="${OUT:-gpu-out}"
  mkdir -p "$out"
  [ -f .gpu/rgd.gz ] || die ".gpu/rgd.gz is missing: run 'bash scripts/gpu-check.sh prepare' here first"
  local rgd=/tmp/rgd-wgpu
  gunzip -c .gpu/rgd.gz >"$rgd"
  chmod +x "$rgd"
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    lscpu | sed -n 's/^Model name: *//p'
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  } >"$out/machine.txt" 2>&1
  cat "$out/machine.txt"
  local bench=(--models mlp,cnn,vit --steps 30 --repetitions 3 --warmup 5)
  say "1/3 rgd bench speed --device wgpu"
  "$rgd" --device wgpu bench speed "${bench[@]}" --json >"$out/rgd-wgpu.json"
  say "2/3 PyTorch on CUDA"
  PYTHONUNBUFFERED=1 python3 benchmarks/pytorch/speed.py "${bench[@]}" --device cuda \
    >"$out/torch-cuda.json"
  say "3/3 a CNN on the 10,000 test images, wgpu and flex"
  local cnn=(--set data.source=fashion-mnist-test --set data.valid_fraction=0.1
    --set data.test_fraction=0.1 --set model.kind=cnn --set train.epochs=3
    --set method.rule.name=rgd --runs-dir "$out/runs")
  for device in wgpu flex; do
    RGD_DATA_DIR=.gpu/data "$rgd" --quiet --device "$device" train "${cnn[@]}" --name "$device"
    cp "$out/runs/$device/summary.json" "$out/train-$device.json"
  done
  rm -rf "$out/runs"
  python3 - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
for name in ("rgd-wgpu", "torch-cuda"):
    for m in json.load(open(f"{out}/{name}.json"))["models"]:
        print(f"{name:11} {m['model']:4} ERM {m['erm_steps_per_sec']:8.1f} steps/s, "
              f"RGD {m['rgd_steps_per_sec']:8.1f}")
for device in ("wgpu", "flex"):
    s = json.load(open(f"{out}/train-{device}.json"))
    print(f"CNN on {device}: test accuracy {s['selected']['test']['accuracy']:.4f}")
EOF
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) die "usage: bash scripts/gpu-check.sh prepare|run" ;;
esac
