"""minigan: the original GAN (Goodfellow et al., 2014), with every gradient derived by hand.

Modules, one concept each:

- ``backend``    NumPy/CuPy switch (``xp``)
- ``layers``     Dense, ReLU, Sigmoid, Maxout, Dropout, each with forward and backward
- ``losses``     binary cross-entropy and the two generator objectives of the paper
- ``network``    ``Sequential``, the chain rule through a list of layers
- ``optim``      SGD with momentum, the paper's schedules, Adam
- ``gradcheck``  finite-difference checks of every hand-derived gradient
- ``testing``    property tests for your own layers and losses (needs hypothesis)
- ``metrics``    Inception Score, Fréchet distance / FID, precision and recall (beyond the paper)

Every backward pass is derived step by step in docs/derivations.md.
"""
__version__ = "0.1.0"
