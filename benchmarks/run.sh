#!/usr/bin/env bash
# rgd vs PyTorch training-step speed on the CPU, interleaved in one go.
#
#   benchmarks/run.sh                  # 2 threads, 3 rounds, mlp and cnn
#   THREADS=1 ROUNDS=5 MODELS=mlp benchmarks/run.sh
#
# Per round and model it runs, each in its own process (so peak RSS is per model):
# rgd's `bench_speed` example, then benchmarks/pytorch/speed.py; rounds repeat that order, so
# a change of load on the machine hits both. Prints per model the median over rounds of
# steps/s, the ratio rgd/PyTorch, each one's RGD/ERM overhead and peak RSS. Raw JSON goes to
# $OUT (default benchmarks/out/<date>).
#
# PyTorch comes from PyPI into a virtual environment ($RGD_TORCH_VENV, default
# ~/.cache/rgd-torch), made on the first run. Not part of CI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
MODELS="${MODELS:-mlp cnn cnn-burn vit vit-packed vit-burn}"
# GNU OpenMP's default spin-waiting collapses PyTorch's 2-thread speed by 10-20x as soon as
# anything else runs on a 2-core machine (measured: 7 instead of 160 MLP steps/s); PASSIVE
# makes its threads sleep, as rayon's do after a short spin. Set it to ACTIVE, or to the empty
# string for OpenMP's default, on an idle machine.
TORCH_OMP_WAIT_POLICY="${TORCH_OMP_WAIT_POLICY-PASSIVE}"
STEPS="${STEPS:-40}"
REPS="${REPS:-5}"
WARMUP="${WARMUP:-10}"
VENV="${RGD_TORCH_VENV:-$HOME/.cache/rgd-torch}"
OUT="${OUT:-$here/out/$(date +%Y%m%d-%H%M%S)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rgd-target}"

py="$VENV/bin/python"
if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "PyTorch is not installed in $VENV: installing it from PyPI now."
    echo "PyPI's Linux wheel is the CUDA build: about 4.7 GB installed with its nvidia wheels,"
    echo "2 to 3 minutes on a fast connection. Set RGD_TORCH_VENV to use another venv."
    if ! python3 -m venv "$VENV"; then
        echo "error: cannot create the virtual environment $VENV (is python3-venv installed?)" >&2
        exit 2
    fi
    if ! "$VENV/bin/pip" install --quiet torch; then
        echo "error: pip could not install torch into $VENV (offline? out of disk?);" \
             "the PyTorch comparison needs it. rgd alone: cargo run -p rgd-lab --example" \
             "bench_speed -- --threads $THREADS" >&2
        exit 2
    fi
fi

echo "building rgd's bench_speed example (dev profile, dependencies at opt-level 3)"
(cd "$root" && cargo build -q -p rgd-lab --example bench_speed)
rgd="$CARGO_TARGET_DIR/debug/examples/bench_speed"
mkdir -p "$OUT"
common=(--threads "$THREADS" --steps "$STEPS" --repetitions "$REPS" --warmup "$WARMUP")
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs;" \
     "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The flags that decide which kernels run (gemm and MKL pick AVX-512 where avx512f is present).
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' \
    | grep -E -x 'avx2|fma|avx512(f|bw|vl|_bf16|_vnni)|amx_(tile|bf16|int8)' | tr '\n' ' ')"
echo "PyTorch OMP_WAIT_POLICY=${TORCH_OMP_WAIT_POLICY:-<OpenMP default>}"
echo "threads $THREADS, $ROUNDS rounds x ($REPS reps x $STEPS steps after $WARMUP warm-up); raw JSON in $OUT"
for round in $(seq 1 "$ROUNDS"); do
    for model in $MODELS; do
        echo "round $round: $model"
        "$rgd" --models "$model" "${common[@]}" --json > "$OUT/rgd-$model-$round.json"
        # cnn-burn, vit-burn and vit-packed are the same models on other paths (burn's own
        # convolution and encoder, the packed products): compared with PyTorch's cnn and vit runs
        # of the round.
        [[ "$model" == *-* ]] && continue
        if [[ -n "$TORCH_OMP_WAIT_POLICY" ]]; then
            OMP_WAIT_POLICY="$TORCH_OMP_WAIT_POLICY" "$py" "$here/pytorch/speed.py" \
                --models "$model" "${common[@]}" > "$OUT/torch-$model-$round.json"
        else
            "$py" "$here/pytorch/speed.py" --models "$model" "${common[@]}" > "$OUT/torch-$model-$round.json"
        fi
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" "$here/summarize.py" "$OUT" | tee "$OUT/summary.md"
