"""The same training step in PyTorch, for timing comparisons only (never a test oracle).

Same networks, same released-code update: one forward pass, d_obj and g_obj from it,
∇θ_d d_obj and ∇θ_g g_obj by autograd (which prunes what is not asked for), SGD with momentum.
"""
import torch
import torch.nn.functional as F
from torch import nn


class Maxout(nn.Module):
    def __init__(self, n_in, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(n_in, units * pieces)

    def forward(self, x):
        return self.linear(x).view(x.shape[0], self.units, self.pieces).max(dim=2).values


def networks(device):
    G = nn.Sequential(nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(),
                      nn.Linear(1200, 784), nn.Sigmoid()).to(device)
    D = nn.Sequential(nn.Dropout(0.2), Maxout(784, 240, 5), nn.Dropout(0.5), Maxout(240, 240, 5),
                      nn.Dropout(0.5), nn.Linear(240, 1)).to(device)      # dropout scales by 1/(1 − p)
    return G, D


class TorchStep:
    def __init__(self, batch=100, device="cpu"):
        self.device, self.batch = torch.device(device), batch
        self.G, self.D = networks(self.device)
        self.opt_g = torch.optim.SGD(self.G.parameters(), lr=0.1, momentum=0.5)
        self.opt_d = torch.optim.SGD(self.D.parameters(), lr=0.1, momentum=0.5)
        self.x = torch.rand(batch, 784, device=self.device)
        self.ones = torch.ones(batch, 1, device=self.device)
        self.zeros = torch.zeros(batch, 1, device=self.device)

    def __call__(self):
        B = self.batch
        z = (torch.rand(B, 100, device=self.device) * 2 - 1) * 3 ** 0.5
        a = self.D(torch.cat([self.x, self.G(z)]))
        d_obj = 0.5 * (F.binary_cross_entropy_with_logits(a[:B], self.ones)
                       + F.binary_cross_entropy_with_logits(a[B:], self.zeros))
        g_obj = F.binary_cross_entropy_with_logits(a[B:], self.ones)
        d_grads = torch.autograd.grad(d_obj, list(self.D.parameters()), retain_graph=True)
        g_grads = torch.autograd.grad(g_obj, list(self.G.parameters()))
        for p, g in zip(self.D.parameters(), d_grads):
            p.grad = g
        for p, g in zip(self.G.parameters(), g_grads):
            p.grad = g
        self.opt_d.step()
        self.opt_g.step()

    def synchronize(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()


def main(argv=None):
    """Time N PyTorch steps on their own, for an independent check of bench.py's ratio
    against ``minigan train --max-steps`` (see BENCHMARKS.md)."""
    import argparse
    import os
    import time
    p = argparse.ArgumentParser(description="time the PyTorch version of the paper's training step")
    p.add_argument("--steps", type=int, default=500, help="timed steps (default 500, one epoch)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="PyTorch CPU threads (default: the cores this process may use)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    step = TorchStep(100, args.device)
    for _ in range(5):
        step()
    step.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    step.synchronize()
    seconds = time.perf_counter() - start
    print(f"torch {torch.__version__}, {args.threads} threads, {args.device}: {args.steps} steps in "
          f"{seconds:.2f} s, {seconds / args.steps * 1e3:.1f} ms a step")


if __name__ == "__main__":
    main()
