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
__version__ = "0.2.0"
