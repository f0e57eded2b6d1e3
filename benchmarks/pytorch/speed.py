#!/usr/bin/env python3
"""PyTorch reference for `rgd bench speed`: the same models, batch sizes, optimizer and steps.

One training step: gather a batch of rows from a fixed-seed synthetic pool, forward,
per-example cross-entropy (reduction='none'), weights (RGD: exp(clamp(l, 0, tau)/(tau+1)),
detached; ERM: none), (w * l).mean(), backward, Adam(lr=1e-3, eps=1e-8). Warm-up steps are not
timed; ERM and RGD repetitions are interleaved in ABBA order (ERM, RGD, RGD, ERM, ...). Prints JSON with the
same fields as `rgd bench speed --json`.

    python speed.py --models mlp,cnn --threads 2 --steps 50 --repetitions 5 --warmup 10
    python speed.py --models mlp,cnn,vit --device cuda     # on a GPU, as `rgd bench speed --device wgpu`
"""

import argparse
import json
import os
import statistics
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="mlp,cnn")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--tau", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, or cuda for GPU 0")
    return p.parse_args()


ARGS = parse()
if ARGS.threads:
    # Before importing torch, so that its OpenMP/MKL pools start with this size.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

if ARGS.threads:
    torch.set_num_threads(ARGS.threads)
    torch.set_num_interop_threads(1)


def mlp():
    """784-256-256-10 with ReLU, as ModelConfig { kind: mlp, hidden: [256, 256] }."""
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )


class Cnn(nn.Module):
    """[conv3x3 same -> ReLU -> maxpool 2] x (32, 64), flatten, 3136-128-10, as the lab's CNN."""

    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, rows):
        x = self.convs(rows.reshape(rows.shape[0], 1, 28, 28))
        return self.head(x.flatten(1))


class Vit(nn.Module):
    """Patch 7, width 128, class token, 4 pre-norm layers (4 heads, feed-forward 256, GELU, no
    dropout), final layer norm, linear head: the lab's ViT."""

    def __init__(self, patch=7, width=128, depth=4, heads=4):
        super().__init__()
        self.patch = patch
        self.embed = nn.Linear(patch * patch, width)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.zeros(1, (28 // patch) ** 2 + 1, width))
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, rows):
        b, p, g = rows.shape[0], self.patch, 28 // self.patch
        x = rows.reshape(b, 1, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, p * p)
        x = self.embed(x)
        x = torch.cat([self.cls.expand(b, -1, -1), x], 1) + self.pos
        return self.head(self.norm(self.encoder(x)[:, 0]))


class MiniLM(nn.Module):
    """all-MiniLM-L6-v2's architecture with fresh weights, as the lab's `bert` model fine-tunes
    it: word, position and segment embeddings with layer norm (eps 1e-12) and dropout 0.1, 6
    post-norm layers (hidden 384, 12 heads, feed-forward 1536, exact GELU, dropout 0.1 on the
    attention probabilities and both residual branches and after the GELU), the padding mask,
    the masked mean of the last layer's outputs, a linear head. Rows are token ids (0 = padding),
    each batch cut to its longest row."""

    def __init__(self, vocab=30522, width=384, depth=6, heads=12, ff=1536):
        super().__init__()
        self.words = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(512, width)
        self.segments = nn.Embedding(2, width)
        self.norm = nn.LayerNorm(width, eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(width, heads, ff, dropout=0.1, activation="gelu",
                                           batch_first=True, norm_first=False,
                                           layer_norm_eps=1e-12)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Linear(width, 10)

    def forward(self, rows):
        ids = rows.long()
        ids = ids[:, : int((ids != 0).sum(1).max())]
        t = ids.shape[1]
        x = self.words(ids) + self.positions.weight[:t] + self.segments.weight[0]
        x = self.dropout(self.norm(x))
        keep = (ids != 0).unsqueeze(-1).float()
        h = self.encoder(x, src_key_padding_mask=ids == 0)
        return self.head((h * keep).sum(1) / keep.sum(1).clamp(min=1.0))


MINILM_TOKENS = 48

MODELS = {
    "mlp": (mlp, 784, 128),
    "cnn": (Cnn, 784, 64),
    "vit": (Vit, 784, 64),
    "minilm": (MiniLM, MINILM_TOKENS, 32),
}


def token_pool(n, length, g):
    """Rows of uniform ids in 1..30522, padded with 0 after a length uniform in 8..=length, every
    fourth row full (the lab's `bench_speed` draws the same kind of rows)."""
    lengths = torch.randint(min(8, length), length + 1, (n,), generator=g)
    lengths[::4] = length
    ids = torch.randint(1, 30522, (n, length), generator=g)
    return torch.where(torch.arange(length) < lengths.unsqueeze(1), ids, 0).float()


def layer_macs(name):
    if name == "mlp":
        return [784 * 256, 256 * 256, 256 * 10]
    if name == "minilm":
        t, w, ff = MINILM_TOKENS, 384, 1536
        per_layer = [3 * t * w * w, t * t * w, t * t * w, t * w * w, t * w * ff, t * ff * w]
        return [0] + per_layer * 6 + [w * 10]
    if name == "vit":
        t, w = 17, 128
        per_layer = [3 * t * w * w, t * t * w, t * t * w, t * w * w, t * w * 2 * w, t * 2 * w * w]
        return [16 * 49 * w] + per_layer * 4 + [w * 10]
    return [28 * 28 * 32 * 9, 14 * 14 * 64 * 32 * 9, 3136 * 128, 128 * 10]


def step_flops(name, batch):
    """Same convention as rgd's: 2 MACs forward, 2 weight gradient, 2 input gradient (not the
    first layer's)."""
    return batch * sum((4 if i == 0 else 6) * m for i, m in enumerate(layer_macs(name)))


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Runner:
    def __init__(self, make, rgd, tau, seed):
        torch.manual_seed(seed)
        self.model = make().to(ARGS.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-8)
        self.rgd, self.tau, self.step_no = rgd, tau, 0

    def step(self, x_pool, y_pool, batch):
        n = x_pool.shape[0]
        start = (self.step_no % (n // batch)) * batch
        # A strided gather, as the shuffled order of an epoch (same rows as rgd's bench).
        rows = (start + torch.arange(batch, device=x_pool.device) * 7919) % n
        self.step_no += 1
        x, y = x_pool[rows], y_pool[rows]
        losses = F.cross_entropy(self.model(x), y, reduction="none")
        if self.rgd:
            w = torch.exp(torch.clamp(losses.detach(), 0, self.tau) / (self.tau + 1))
            loss = (w * losses).mean()
        else:
            loss = losses.mean()
        # The rgd step reads the per-example losses back to the host; so does this one.
        _ = losses.detach().tolist()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def time(self, x_pool, y_pool, batch, steps):
        t = time.perf_counter()
        for _ in range(steps):
            self.step(x_pool, y_pool, batch)
        return time.perf_counter() - t


def bench(name):
    make, width, default_batch = MODELS[name]
    batch = ARGS.batch_size or default_batch
    g = torch.Generator().manual_seed(ARGS.seed)
    n = max(batch * 16, 2048)
    x_pool = token_pool(n, width, g) if name == "minilm" else torch.rand(n, width, generator=g)
    y_pool = torch.randint(0, 10, (n,), generator=g)
    # The pools live on the device; each step's `tolist()` of the losses waits for the GPU.
    x_pool, y_pool = x_pool.to(ARGS.device), y_pool.to(ARGS.device)
    erm = Runner(make, False, ARGS.tau, ARGS.seed)
    rgd = Runner(make, True, ARGS.tau, ARGS.seed)
    params = sum(p.numel() for p in erm.model.parameters())
    erm.time(x_pool, y_pool, batch, ARGS.warmup)
    rgd.time(x_pool, y_pool, batch, ARGS.warmup)
    erm_secs, rgd_secs = [], []
    # ABBA order, as in rgd's bench: ERM first in even pairs, RGD first in odd ones.
    for k in range(ARGS.repetitions):
        if k % 2 == 0:
            erm_secs.append(erm.time(x_pool, y_pool, batch, ARGS.steps))
            rgd_secs.append(rgd.time(x_pool, y_pool, batch, ARGS.steps))
        else:
            rgd_secs.append(rgd.time(x_pool, y_pool, batch, ARGS.steps))
            erm_secs.append(erm.time(x_pool, y_pool, batch, ARGS.steps))
    ratios = [r / e for r, e in zip(rgd_secs, erm_secs)]
    flops = step_flops(name, batch)
    erm_rate = ARGS.steps / statistics.median(erm_secs)
    rgd_rate = ARGS.steps / statistics.median(rgd_secs)
    return {
        "model": name,
        "batch_size": batch,
        "parameters": params,
        "flops_per_step": flops,
        "erm_steps_per_sec": erm_rate,
        "rgd_steps_per_sec": rgd_rate,
        "erm_samples_per_sec": erm_rate * batch,
        "rgd_samples_per_sec": rgd_rate * batch,
        "erm_gflops": erm_rate * flops / 1e9,
        "rgd_gflops": rgd_rate * flops / 1e9,
        "rgd_erm_ratio": statistics.median(ratios),
        "rgd_erm_ratio_min": min(ratios),
        "rgd_erm_ratio_max": max(ratios),
        "erm_rep_secs": erm_secs,
        "rgd_rep_secs": rgd_secs,
        "peak_rss_mib": peak_rss_mib(),
    }


def main():
    models = [bench(m) for m in ARGS.models.split(",") if m]
    print(json.dumps({
        "threads": torch.get_num_threads(),
        "steps": ARGS.steps,
        "repetitions": ARGS.repetitions,
        "warmup": ARGS.warmup,
        "device": ARGS.device,
        "torch": torch.__version__,
        "models": models,
    }, indent=2))


if __name__ == "__main__":
    main()
