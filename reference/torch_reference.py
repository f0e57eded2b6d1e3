"""Independent check values for rgd, computed with PyTorch (float64).

Run by hand, not in CI:

    python3 reference/torch_reference.py > reference/torch_fixture.json

It needs only `torch`. The batch, the tiny linear model and every formula are written here from
method.md, sharing no code with the Rust crates. Tests in crates/rgd/tests/torch_fixture.rs and
crates/rgd-burn/tests/torch_fixture.rs match the output to 1e-6.
"""

import json
import math

import torch

torch.set_default_dtype(torch.float64)

LOSSES = [0.05, 0.7, 1.9, 0.0, 3.4, 0.33, 1.0, 12.0]
TAUS = [1 / 9, 1 / 3, 1.0, 3.0, 10.0]
TILTS = [-1.0, 0.5, 2.0]
ALPHAS = [0.125, 0.3, 0.5, 1.0]
RHOS = [0.05, 0.5, 2.0]

# The tiny linear classifier of crates/rgd-burn/tests/common.rs (weight [in, out]).
X = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 0.1], [2.2, -1.4, 0.9]]
Y = [0, 1, 1, 0]
W = [[0.4, -0.3], [0.1, 0.6], [-0.5, 0.2]]
B = [0.05, -0.1]


def rgd(l, tau):
    return torch.exp(torch.clamp(l, 0.0, tau) / (tau + 1.0))


def term(l, t):
    return torch.softmax(t * l, dim=0) * l.numel()


def cvar(l, alpha):
    """Exact CVaR (Levy et al.): 1/alpha on the floor(alpha n) largest, the rest on the next."""
    n = l.numel()
    exact = alpha * n
    k = max(1, min(n, math.ceil(exact * (1 - 1e-9))))
    m = min(k, math.floor(exact * (1 + 1e-9)))
    w = torch.zeros_like(l)
    idx = torch.sort(l, descending=True, stable=True).indices
    if m == k:
        w[idx[:k]] = n / k
    else:
        w[idx[:m]] = 1 / alpha
        w[idx[m]] = n - m / alpha
    return w


def chi_square(l, rho):
    """Levy et al.'s constrained chi-square DRO: q ∝ (l - eta)_+, bisection on eta."""
    n = l.numel()

    def weights(eta):
        p = torch.relu(l - eta)
        return n * p / p.sum()

    def divergence(w):
        return ((w - 1.0) ** 2).sum() / (2 * n)

    lo, hi = float(l.min()) - 1e6, float(l.max())
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if divergence(weights(mid)) > rho:
            hi = mid
        else:
            lo = mid
    return weights(lo)


def linear_rgd_gradient(tau):
    w = torch.tensor(W, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)
    x = torch.tensor(X)
    y = torch.tensor(Y)
    per_example = torch.nn.functional.cross_entropy(x @ w + b, y, reduction="none")
    weights = rgd(per_example.detach(), tau)
    (weights * per_example).mean().backward()
    return {
        "tau": tau,
        "losses": per_example.tolist(),
        "weights": weights.tolist(),
        "grad_weight": w.grad.tolist(),
        "grad_bias": b.grad.tolist(),
    }


def main():
    l = torch.tensor(LOSSES)
    out = {
        "generator": f"reference/torch_reference.py with torch {torch.__version__}",
        "losses": LOSSES,
        "rgd": [{"tau": t, "weights": rgd(l, t).tolist()} for t in TAUS],
        "term": [{"tilt": t, "weights": term(l, t).tolist()} for t in TILTS],
        "cvar": [{"alpha": a, "weights": cvar(l, a).tolist()} for a in ALPHAS],
        "chi2": [{"rho": r, "weights": chi_square(l, r).tolist()} for r in RHOS],
        "linear": [linear_rgd_gradient(t) for t in [0.5, 1.0, 3.0]],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
