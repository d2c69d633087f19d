# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A guided tour of minigan
#
# This notebook walks through the original GAN (Goodfellow et al., 2014) as minigan builds it,
# from one layer to a trained generator, in six stops:
#
# 1. a Dense layer: forward, its hand-derived backward, and a gradient check;
# 2. the paper's generator G and discriminator D;
# 3. one training step, array by array;
# 4. a short training run on real MNIST;
# 5. the Parzen-window score of the samples, then IS and FID through a classifier;
# 6. the game in two dimensions, where you can see where D pushes each sample.
#
# Run it top to bottom; it takes well under a minute on two CPU cores. Every gradient used here
# is derived by hand in [docs/derivations.md](../docs/derivations.md); each stop links the
# section it relies on.
#
# **Data.** Stops 3 to 5 need the four MNIST `.gz` files. Set the environment variable
# `MINIGAN_DATA` to the folder that holds them before starting Jupyter, or let
# `minigan.files.data` find them in its cache folder, `~/.cache/minigan/mnist` (`minigan train` run
# without `--data` and without `MINIGAN_DATA` downloads them there; with either, it does not).
#
# **Threads.** The cell below runs NumPy's matrix products on one thread. Products on two threads
# add their terms in another order, which changes the last bits of every result; after the
# training loop of stop 4 those bits have grown into slightly different digits and figures. With
# one thread the results no longer depend on how many cores run them (another CPU model may
# still round a product differently: the committed outputs come from a 2-core AMD EPYC).

# %%
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before NumPy loads: see "Threads" above
import io
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

from minigan import backend, testing
from minigan.gans import gan, toy
from minigan.files import data
from minigan.evaluation import parzen
from minigan.program import train
from minigan.layers import Dense
from minigan.optim import SGD

backend.use("numpy")              # the whole tour runs on the CPU
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. A Dense layer, by hand
#
# A Dense layer computes $y = x W + b$ for a batch $x$ of shape $(B, I)$. Its backward pass
# receives $dy = \partial L / \partial y$ from the layer above and returns three things
# (derived in [Dense](../docs/derivations.md#dense)):
#
# $$\frac{\partial L}{\partial W} = x^\top dy, \qquad
#   \frac{\partial L}{\partial b} = \textstyle\sum_{\text{rows}} dy, \qquad
#   \frac{\partial L}{\partial x} = dy\, W^\top .$$
#
# The gradient check below works in float64: in float32 the round-off of a finite
# difference is larger than the errors we want to catch.

# %%
rng = np.random.default_rng(0)
layer = Dense(3, 2, irange=0.5, rng=rng, dtype="float64")
x = rng.uniform(-1, 1, (4, 3))                    # a batch of B = 4 inputs, I = 3
y = layer.forward(x)                              # (4, 2)
dy = rng.standard_normal(y.shape)                 # stands for ∂L/∂y coming from above
dx = layer.backward(dy)                           # fills layer.grads, returns ∂L/∂x

print("x", x.shape, "  W", layer.params["W"].shape, "  y", y.shape)
print("∂L/∂W = xᵀ dy        :", np.allclose(layer.grads["W"], x.T @ dy))
print("∂L/∂b = Σ_rows dy    :", np.allclose(layer.grads["b"], dy.sum(axis=0)))
print("∂L/∂x = dy Wᵀ        :", np.allclose(dx, dy @ layer.params["W"].T))

# %% [markdown]
# Those lines only restate the formulas. The real test compares them with *central
# differences* of the forward pass, $(L(\theta + h) - L(\theta - h)) / 2h$, one entry at a time.
# `assert_layer_gradients` does that for $x$, $W$ and $b$ and raises if any entry disagrees:

# %%
report = testing.assert_layer_gradients(layer, x)
print(report)

# %% [markdown]
# What does a mistake look like? Here is a Dense layer whose bias gradient averages over the
# batch instead of summing (a common slip: the loss's $1/B$ is already inside $dy$).
# The check names the layer, the array and the entry where it went wrong, and the ratio of the
# two gradients there: 0.25 is 1/B for this batch of B = 4 rows, the factor the slip lost.

# %%
class SlippedDense(Dense):
    def backward(self, dy, param_grads=True, input_grad=True, rows=None):
        dx = super().backward(dy, param_grads, input_grad, rows)
        if param_grads:
            self.grads["b"] = dy.mean(axis=0)         # wrong: should be dy.sum(axis=0)
        return dx


try:
    testing.assert_layer_gradients(SlippedDense(3, 2, irange=0.5, rng=0, dtype="float64"), x)
except AssertionError as err:
    print(err)

# %% [markdown]
# ## 2. The paper's G and D
#
# `gan.Config()` holds the paper's released MNIST settings. From it:
#
# * **G** maps noise $z$ (100 numbers) through two ReLU layers of 1,200 units to 784 pixel
#   intensities in $(0, 1)$;
# * **D** reads an image through dropout and two maxout layers (240 units of 5 pieces,
#   see [Maxout](../docs/derivations.md#maxout) and [Dropout](../docs/derivations.md#dropout))
#   and returns one *logit* $a$; $D(x) = \sigma(a)$ is folded into the loss
#   ([BCE on logits](../docs/derivations.md#bce-on-logits)).

# %%
cfg = gan.Config()
G = gan.paper_generator(cfg)
D = gan.paper_discriminator(cfg)
print("G:", G)
print("D:", D)
print(f"G has {G.n_params():,} parameters, D has {D.n_params():,}")

# %% [markdown]
# Counting by hand, a Dense layer from $I$ to $O$ has $I \cdot O$ weights and $O$ biases, and a
# maxout layer of $u$ units with $k$ pieces is a Dense layer to $u \cdot k$ outputs:

# %%
dense = lambda i, o: i * o + o
g_count = dense(100, 1200) + dense(1200, 1200) + dense(1200, 784)
d_count = dense(784, 240 * 5) + dense(240, 240 * 5) + dense(240, 1)
print(f"{g_count:,} and {d_count:,}")
assert (g_count, d_count) == (G.n_params(), D.n_params()) == (2_503_984, 1_231_441)

# %% [markdown]
# ## 3. One training step, array by array
#
# The paper's released code updates both players from **one** forward pass per minibatch
# (`gan.released_step`, derived in [The GAN step](../docs/derivations.md#the-gan-step)):
#
# 1. sample $G(z)$; let D score the real images and the samples together;
# 2. compute D's objective $\tfrac12[\mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)]$ and G's
#    non-saturating objective $-\log D(G(z))$
#    ([Generator objectives](../docs/derivations.md#generator-objectives));
# 3. backpropagate G's objective through D (without touching D's gradients) and then through G;
# 4. backpropagate D's objective into D's parameters;
# 5. step both optimizers ([Momentum SGD](../docs/derivations.md#momentum-sgd)).
#
# First a real MNIST batch. `N_TRAIN` images are enough for this tour (the paper uses 50,000).

# %%
N_TRAIN = 10000
splits = data.mnist_splits(os.environ.get("MINIGAN_DATA"), download=False, n_train=N_TRAIN)
print({name: array.shape for name, array in splits.items()})

# %% [markdown]
# G's output bias starts at the logit of the mean training image, so G begins by drawing an
# average digit; D's dropout draws its masks from a generator we seed.

# %%
bias = gan.sigmoid_bias_from_marginals(splits["train"], cfg.g_bias_clip)
G = gan.paper_generator(cfg, rng=0, output_bias=bias)
D = gan.paper_discriminator(cfg, rng=1)
D.set_rng(backend.rng(2))
opt_g = SGD(G.params_and_grads, cfg.lr, cfg.momentum)
opt_d = SGD(D.params_and_grads, cfg.lr, cfg.momentum)
g_loss = gan.generator_loss(cfg.g_objective)

noise_rng = backend.rng(3)
x = splits["train"][:cfg.batch_size]                        # (B, 784) real images
z = gan.sample_noise(noise_rng, cfg.batch_size, cfg)        # (B, 100) noise, uniform on [−√3, √3]

# A look at the arrays the step will make (no dropout, no update here):
s = G.forward(z, train=False)                               # G(z)
a = D.forward(np.concatenate([x, s]), train=False)          # logits on [x; G(z)]
print("z     ", z.shape, z.dtype)
print("G(z)  ", s.shape, f"pixels in [{s.min():.3f}, {s.max():.3f}]")
print("logits", a.shape, "(real rows first, then generated rows)")

# %% [markdown]
# Now the step itself. It returns D's and G's objectives and how many of the 100 real and
# 100 generated images D classified correctly:

# %%
W_before = G.state_dict()["0.W"].copy()                    # G's first weight matrix (100, 1200)
stats = gan.released_step(G, D, x, z, opt_g, opt_d, g_loss)
for name, value in stats.items():
    print(f"{name:13s} {float(value):.4f}" if "obj" in name else f"{name:13s} {int(value)} of {cfg.batch_size}")
print("G's first W moved by", f"{np.abs(G.state_dict()['0.W'] - W_before).max():.2e}")

# %% [markdown]
# At the start D knows nothing, so $D \approx \tfrac12$ everywhere and both objectives are close
# to $\log 2 \approx 0.693$.
#
# ## 4. A short run on real MNIST
#
# `train.Trainer` repeats that step with the paper's schedules for the learning rate and the
# momentum, and writes a sample grid per epoch and the training curves into an output folder
# (a temporary one here, `out`, left in place for you to look at: about 60 MB, mostly the
# trainer's checkpoints; delete it when you are done). Six epochs on 10,000 images (600 steps)
# take 10 to 20 seconds on two CPU cores; the samples will be blurry strokes, not digits: the
# paper trained for hundreds of epochs on all 50,000 images.

# %%
EPOCHS = 6
# Every 2 epochs the trainer scores 1,000 samples by Parzen (stop 5), on 1,000 validation
# images to choose σ and all 10,000 test images; the paper scored 10,000 samples.
run_cfg = gan.Config(n_train=N_TRAIN, epochs=EPOCHS, parzen_every=2, parzen_samples=1000)
out = Path(tempfile.mkdtemp(prefix="minigan-tour-"))
trainer = train.Trainer(run_cfg, splits, out)
rows = trainer.train(epochs=EPOCHS, progress=False)
for row in rows:
    print(f"epoch {row['epoch']}: d_obj {row['d_obj']:.3f}  g_obj {row['g_obj']:.3f}  "
          f"D right on real {row['d_acc_real']:.0%}, on generated {row['d_acc_fake']:.0%}"
          + (f"  Parzen {row['parzen_test']:.0f} nats" if "parzen_test" in row else ""))

# %% [markdown]
# The same 100 noise vectors after the first and the last epoch. After 600 steps G has found
# a few blurry strokes and repeats them; D wins most of the time (its objective falls well
# below $\log 2$ while G's rises). Longer runs on all 50,000 images get past this stage:
# see [docs/reproduction.md](../docs/reproduction.md).

# %%
display(Image(filename=str(out / "samples" / "epoch_0001.png"), width=280))
display(Image(filename=str(out / "samples" / f"epoch_{EPOCHS:04d}.png"), width=280))

# %%
display(Image(filename=str(out / "curves.png")))

# %% [markdown]
# ## 5. The Parzen-window estimate
#
# The paper scores G by placing a Gaussian of width $\sigma$ on each of $M$ samples and asking
# how likely held-out test images are under that mixture
# ([Parzen](../docs/derivations.md#parzen)); $\sigma$ is chosen on validation images.
#
# **This is not the paper's protocol size.** The paper used 10,000 samples, 1,000 validation
# images to choose $\sigma$ and all 10,000 test images (and reported 225 ± 2 nats). Here we use
# 1,000 samples and 300 images of each, so that it runs in a second; the numbers are only
# comparable with each other.

# %%
samples = gan.sample_images(trainer.G, run_cfg, 1000, seed=0)        # (1000, 784)
valid, test = splits["valid"][:300], splits["test"][:300]
result = parzen.evaluate(samples, valid, test, n_valid=300)
print("trained G:      ", result.row())

# For scale: the same estimate with 1,000 real training images in place of G's samples.
reference = parzen.evaluate(splits["train"][:1000], valid, test, n_valid=300)
print("real images:    ", reference.row())

# One σ, one log p(x) per test image:
ll = parzen.log_likelihood(samples, test[:5], result.sigma)
print("log p(x) of five test images:", ll.round(1))

# %% [markdown]
# ### 5b. Beyond Parzen: IS and FID through a classifier
#
# Later work scores samples through a fixed classifier instead: the Inception Score reads its
# class probabilities $p(y \mid x)$, FID compares the mean and covariance of its features for
# samples and for real images ([docs/metrics.md](../docs/metrics.md)). minigan trains that
# classifier from the same layers as G and D. `minigan evaluate --metrics all` uses a full one
# (98.6% on the test images, about 2.5 minutes to train once); here a small one, trained on
# 5,000 images in a few seconds, so again the numbers only compare with each other.

# %%
from minigan.evaluation import classifier, scores

small = classifier.ClassifierConfig(hidden=128, epochs=8, batch_size=64, lr=2e-3, n_train=5000)
labelled = classifier.mnist_with_labels()
net = classifier.train_classifier(labelled, small, progress=False)
print(f"small classifier: {100 * classifier.accuracy(net, labelled['test'], labelled['test_labels']):.1f}% "
      "on the 10,000 test images")

scorer = scores.Scorer(labelled, net)
rows = [("trained G", scorer.score(samples, ("is", "fid"))),
        ("1,000 real test images", scorer.score(labelled["test"][:1000], ("is", "fid")))]
print(scores.table(rows, ("is", "fid")))

# %% [markdown]
# G's IS is close to 1: after these few epochs it draws much the same strokes for every $z$
# (stop 4), and the classifier gives them all one distribution over digits. Real images score
# well above it (with 10 splits of 100 images, and a 93% classifier, below the full
# classifier's 9.8), and FID puts G two orders of magnitude further from the training images
# than real test images. [docs/metrics.md](../docs/metrics.md) shows where these scores
# disagree with Parzen, and with each other.

# %% [markdown]
# ## 6. The game in two dimensions
#
# On MNIST we cannot see the game. In 2-D we can: `toy.ToyGAN` trains a small G and D by
# Algorithm 1 on a ring of eight Gaussians. For each generated point, `toy.generator_push`
# returns $-\partial g_\mathrm{obj} / \partial G(z)$: the direction in which G's next update
# moves that sample, computed by the same hand-derived backward pass through D that G's
# update uses.

# %%
game = toy.ToyGAN(toy.ring_2d(), data_dim=2, noise_dim=2, g_sizes=(64, 64), d_sizes=(64, 64),
                  batch=256, seed=0)
real = toy.ring_2d()(np.random.default_rng(0), 500)
z_shown = np.random.default_rng(1).uniform(-1, 1, (1000, 2))
grid = np.linspace(-3, 3, 81)
gx, gy = np.meshgrid(grid, grid)


def draw(ax, title):
    d = game.d_of(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    ax.imshow(d, extent=(-3, 3, -3, 3), origin="lower", cmap="coolwarm", vmin=0, vmax=1, alpha=0.7)
    fake = game.generate(z_shown)
    ax.scatter(real[:, 0], real[:, 1], s=3, c="k", label="data")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="limegreen", alpha=0.5, label="G(z)")
    points, push = toy.generator_push(game, z_shown[:64])
    push = push / np.abs(push).max()                 # longest arrow component = 1 within a panel
    ax.quiver(points[:, 0], points[:, 1], push[:, 0], push[:, 1], color="darkviolet",
              angles="xy", scale_units="xy", scale=2.5, width=0.006)
    ax.set_title(f"{title}: {game.steps} steps", fontsize=9)
    ax.set_xlim(-3, 3), ax.set_ylim(-3, 3), ax.set_xticks([]), ax.set_yticks([])


fig, axes = plt.subplots(1, 3, figsize=(11, 4), layout="constrained")   # room for the titles
draw(axes[0], "start")
for ax, target in zip(axes[1:], (500, 2000)):
    while game.steps < target:
        game.step()
    draw(ax, "after")
axes[0].legend(loc="lower left", fontsize=7)
png = io.BytesIO()
fig.savefig(png, format="png", dpi=80)   # shown as a PNG: works whatever matplotlib backend is active
plt.close(fig)
display(Image(png.getvalue()))
modes, near = toy.modes_covered(game.generate(z_shown))
print(f"modes covered: {modes}/8; share of samples on a mode: {near:.0%}")

# %% [markdown]
# Background: $D(x)$ (red: "real", blue: "fake"). The violet arrows point where D's gradient
# pushes G's samples: up the slope of $D$, towards regions D believes are real. As the
# samples move there, D revises its opinion, and the push changes: that back and forth is
# the game. The examples [`ring_2d.py`](../examples/ring_2d.py) and
# [`game_2d.py`](../examples/game_2d.py) run it longer and show mode collapse.
