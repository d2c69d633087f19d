"""Figures: sample grids, the paper's Figure 2 layout, loss and Parzen curves.

Everything arrives as NumPy (``backend.to_numpy`` at the call site's edge) and
is written as PNG with matplotlib's non-interactive Agg backend.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from ..files.atomic import atomic_write  # noqa: E402
from ..evaluation.parzen import PAPER_NATS, scored  # noqa: E402


SIDE, PAD = 28, 1        # an MNIST image's side, and the white padding around each in a grid


def tile(images, ncol, pad=PAD, side=SIDE):
    """Arrange (N, side²) images in [0, 1] into one (rows·(side+pad), ncol·(side+pad)) picture."""
    images = numpy.asarray(images).reshape(-1, side, side)
    nrow = -(-len(images) // ncol)
    grid = numpy.ones((nrow * (side + pad) + pad, ncol * (side + pad) + pad))
    for i, img in enumerate(images):
        r, c = divmod(i, ncol)
        grid[pad + r * (side + pad): pad + r * (side + pad) + side,
             pad + c * (side + pad): pad + c * (side + pad) + side] = img
    return grid


def image_formats():
    """The file extensions matplotlib can write an image as (png, jpg, pdf, svg, ...)."""
    from matplotlib.backend_bases import FigureCanvasBase
    return sorted(FigureCanvasBase.get_supported_filetypes())


def _atomic_savefig(save, path):
    """Render via ``save(tmp)`` then rename, so a figure is never half-written."""
    with atomic_write(path) as tmp:
        save(tmp)
    return path


def save_grid(images, path, ncol=10, mark_last_col=False):
    """Save images (N, 784) in [0, 1] as a grid PNG.

    mark_last_col frames the last column in yellow, as the paper's Figure 2 marks
    the nearest training images.
    """
    grid = tile(images, ncol)
    fmt = Path(path).suffix.lstrip(".").lower() or "png"   # from the target's name: the temporary's is random
    if not mark_last_col:
        return _atomic_savefig(lambda tmp: plt.imsave(tmp, grid, cmap="gray", vmin=0, vmax=1, format=fmt), path)
    cell = SIDE + PAD                                               # one image and the padding before it
    rgb = numpy.repeat(grid[:, :, None], 3, axis=2)                 # (H, W, 3)
    left = (ncol - 1) * cell                                        # the column's padding starts here
    frame = numpy.zeros(grid.shape, dtype=bool)
    frame[:, left:left + cell + PAD] = True
    frame[1:-1, left + PAD:left + cell] = False                     # keep the images, frame the strip
    rows = numpy.arange(grid.shape[0]) % cell == 0                  # and the padding between its images
    frame[rows, left:left + cell + PAD] = True
    rgb[frame] = (1.0, 0.85, 0.0)
    return _atomic_savefig(lambda tmp: plt.imsave(tmp, rgb, format=fmt), path)


def _number(value):
    """True for a number (a row read back from metrics.csv has '' where nothing was recorded)."""
    return isinstance(value, (int, float)) and value == value


def save_curves(rows, path, paper=(PAPER_NATS, 2)):
    """Loss curves (d_obj, g_obj), D's accuracy, Parzen log-likelihood (and IS, FID) against epoch.

    ``paper``: the paper's Parzen figure (mean, ±), drawn as a line at its mean, or None."""
    ep = [r["epoch"] for r in rows]
    quality = [(r["epoch"], r["is_mean"], r["fid"]) for r in rows if _number(r.get("fid"))]
    fig, axes = plt.subplots(1, 4 if quality else 3, figsize=(17 if quality else 13, 3.6))
    critic = not any(_number(r.get("d_acc_real")) for r in rows)     # a WGAN's critic: no accuracy
    axes[0].plot(ep, [r["d_obj"] for r in rows], label="d_obj = E f(G(z)) − E f(x) = −Ŵ" if critic
                 else "d_obj = ½[BCE(D(x),1)+BCE(D(G(z)),0)]")
    axes[0].plot(ep, [r["g_obj"] for r in rows], label="g_obj")
    if not critic:
        axes[0].axhline(numpy.log(2), color="gray", ls=":", lw=1, label="log 2 (D = ½)")
    axes[0].set_title("objectives (training minibatches)")
    if critic:
        w = [(r["epoch"], r["w_valid"]) for r in rows if _number(r.get("w_valid"))]
        if w:
            axes[1].plot(*zip(*w), label="Ŵ = E f(x) − E f(G(z)), validation images")
        axes[1].set_title("the critic's estimate of the Wasserstein distance")
    else:
        axes[1].plot(ep, [r["d_acc_real"] for r in rows], label="D right on x")
        axes[1].plot(ep, [r["d_acc_fake"] for r in rows], label="D right on G(z)")
        axes[1].set_ylim(0, 1)
        axes[1].set_title("discriminator accuracy (training, with dropout)")
    pz = [(r["epoch"], r["parzen_test"], r["parzen_se"]) for r in rows if scored(r)]
    if pz:
        e, m, s = map(numpy.asarray, zip(*pz))
        axes[2].errorbar(e, m, yerr=s, marker="o", ms=3, label="test (paper protocol)")
        if paper:
            axes[2].axhline(paper[0], color="gray", ls="--", lw=1, label=f"paper: {paper[0]:g} ± {paper[1]:g}")
    axes[2].set_title("Parzen log-likelihood (nats)")
    if quality:
        e, inception, fid = map(numpy.asarray, zip(*quality))
        axes[3].plot(e, inception, marker="o", ms=3, color="C0", label="IS (higher is better; 10 at most)")
        axes[3].set_ylabel("IS", color="C0")
        right = axes[3].twinx()
        right.plot(e, fid, marker="s", ms=3, color="C3", label="FID to training images (lower is better)")
        right.set_ylabel("FID", color="C3")
        right.legend(fontsize=7, loc="center right")
        axes[3].set_title("minigan classifier's IS and FID")
    for ax in axes:
        ax.set_xlabel("epoch")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    try:
        return _atomic_savefig(lambda tmp: fig.savefig(tmp, dpi=80), path)
    finally:
        plt.close(fig)
