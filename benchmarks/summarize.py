#!/usr/bin/env python3
"""Summarises benchmarks/run.sh's JSON files: a Markdown table per model, medians over rounds."""

import glob
import json
import os
import statistics
import sys


def load(out, who, model):
    runs = []
    for path in sorted(glob.glob(os.path.join(out, f"{who}-{model}-[0-9]*.json"))):
        with open(path) as f:
            try:
                report = json.load(f)
            except json.JSONDecodeError:  # a run that failed or is still being written
                print(f"skipping {path}: not a complete report", file=sys.stderr)
                continue
            runs.extend(m for m in report["models"] if m["model"] == model)
    return runs


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    out = sys.argv[1]
    models = sorted({os.path.basename(p)[4:].rsplit("-", 1)[0]
                     for p in glob.glob(os.path.join(out, "rgd-*.json"))})
    print("| model | rule | rgd steps/s | torch steps/s | rgd/torch | rgd GFLOP/s | torch GFLOP/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    extra = []
    for model in models:
        # rgd's cnn-burn, vit-burn and vit-packed (other paths of the same models) are compared
        # with PyTorch's cnn and vit.
        ours, torch = load(out, "rgd", model), load(out, "torch", model.split("-")[0])
        if not ours or not torch:
            continue
        for rule in ("erm", "rgd"):
            a, b = med(ours, f"{rule}_steps_per_sec"), med(torch, f"{rule}_steps_per_sec")
            print(f"| {model} | {rule.upper()} | {a:.1f} | {b:.1f} | {a / b:.2f} | "
                  f"{med(ours, f'{rule}_gflops'):.1f} | {med(torch, f'{rule}_gflops'):.1f} |")
        # The overhead: median over every interleaved pair of every round.
        def pairs(runs):
            return [r / e for run in runs for r, e in zip(run["rgd_rep_secs"], run["erm_rep_secs"])]
        po, pt = pairs(ours), pairs(torch)
        extra.append(
            f"| {model} | {100 * (statistics.median(po) - 1):+.2f}% "
            f"({100 * (min(po) - 1):+.1f}..{100 * (max(po) - 1):+.1f}) | "
            f"{100 * (statistics.median(pt) - 1):+.2f}% "
            f"({100 * (min(pt) - 1):+.1f}..{100 * (max(pt) - 1):+.1f}) | "
            f"{max(r['peak_rss_mib'] for r in ours):.0f} | "
            f"{max(r['peak_rss_mib'] for r in torch):.0f} | {len(ours)} |")
    print()
    print("| model | RGD/ERM overhead rgd (median, range of pairs) | RGD/ERM overhead torch "
          "| rgd peak RSS MiB | torch peak RSS MiB | rounds |")
    print("|---|---:|---:|---:|---:|---:|")
    for line in extra:
        print(line)


if __name__ == "__main__":
    main()
