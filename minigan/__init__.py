"""minigan: the original GAN (Goodfellow et al., 2014) and its family, with every gradient derived by hand.

The engine, at the top of the package, one concept a module:

- ``backend``    NumPy/CuPy switch (``xp``)
- ``layers``     Dense, ReLU, Sigmoid, Maxout, Dropout, each with forward and backward
- ``losses``     binary cross-entropy, the paper's two generator objectives, softmax cross-entropy
- ``network``    ``Sequential``, the chain rule through a list of layers; ``Branches``, layers side by side
- ``optim``      SGD with momentum, the paper's schedules, Adam
- ``gradcheck``  finite-difference checks of every hand-derived gradient
- ``testing``    property tests for your own layers and losses (needs hypothesis)
- ``config``     the dataclass fields every configuration is made of

Above it: ``gans/`` (the variants, one module each: ``gan``, ``cgan``), ``files/`` (MNIST,
checkpoints), ``evaluation/`` (Parzen, the classifier, IS, FID, precision/recall) and
``program/`` (the training loop, figures, the command line). docs/variants.md draws the
layers; every backward pass is derived step by step in docs/derivations.md.
"""
import os as _os
import sys as _sys

__version__ = "0.2.0"

# OpenBLAS, which does NumPy's matrix products, keeps its idle threads spinning for 2^28 cycles
# (about 0.1 s) after each product, so during training they hold every core, all the time, even
# while minigan's elementwise work runs on one of them (measured: 2.0 CPU-seconds a second on two
# cores). Spinning 2^16 cycles (~25 µs) frees the second core for optim.in_two_threads, and the
# paper's step gets 6% shorter (BENCHMARKS.md); it changes no result. Only a default: a value
# already in the environment wins, and it acts only when NumPy has not been loaded yet (OpenBLAS
# reads it when it starts). Processes that minigan starts inherit it.
if "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")
