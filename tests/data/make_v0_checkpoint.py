"""The original GAN's run as the code before GAN variants (commit f76f1fe) makes it.

``python tests/data/make_v0_checkpoint.py OUT [MNIST_DIR]``, with that code on the path, trains
a tiny run on synthetic images in OUT, copies its mid-epoch checkpoint to OUT/v0_checkpoint.npz
and prints JSON: SHA-256 digests of G's and D's parameters after 7 and 15 tiny steps, after the
committed v0_checkpoint.npz resumed for 8 steps and, given
MNIST, after 3 steps of the paper's setup. tests/test_train.py runs it on f76f1fe's code
(``git archive``) and compares with today's code on the same machine; tests/data/v0_checkpoint.npz
was made by it. It imports minigan as that commit laid it out (``from minigan import gan, train``).
"""
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy

from minigan import gan, train


def tiny_data():
    """Synthetic images in [0, 1] (the test rebuilds them from the same seed)."""
    rng = numpy.random.default_rng(2014)
    return {"train": rng.random((60, 784), dtype=numpy.float32),
            "valid": rng.random((30, 784), dtype=numpy.float32),
            "test": rng.random((30, 784), dtype=numpy.float32)}


TINY = dict(noise_dim=4, g_hidden=8, d_units=3, d_pieces=2, batch_size=10, n_train=50,
            parzen_every=1, parzen_samples=20, epochs=3)


def digest(net):
    h = hashlib.sha256()
    for name, p in sorted(net.state_dict().items()):
        h.update(name.encode())
        h.update(numpy.ascontiguousarray(p).tobytes())
    return h.hexdigest()


if __name__ == "__main__":
    out = Path(sys.argv[1])
    found = {}
    t = train.Trainer(gan.Config(**TINY), tiny_data(), out / "run")
    t.train(max_steps=7, progress=False)              # 1 epoch and 2 steps: a mid-epoch checkpoint
    shutil.copy(out / "run" / "checkpoint.npz", out / "v0_checkpoint.npz")
    found["tiny, 7 steps"] = [digest(t.G), digest(t.D)]
    t.train(max_steps=8, progress=False)              # to the end of epoch 3
    found["tiny, 15 steps"] = [digest(t.G), digest(t.D)]
    # The committed v0_checkpoint.npz, resumed by this code for the same 8 steps. Its first 7 steps
    # were taken on the machine that made it, and another CPU's matrix products may round
    # differently, so a resume of it is compared with this, not with the 15 steps above.
    committed = Path(__file__).resolve().parent / "v0_checkpoint.npz"
    shutil.copy(committed, out / "committed.npz")
    t = train.Trainer(gan.Config(**TINY), tiny_data(), out / "committed")
    t.load(out / "committed.npz")
    t.train(max_steps=8, progress=False)
    found["committed, resumed 8 steps"] = [digest(t.G), digest(t.D)]
    if len(sys.argv) > 2:
        from minigan import data
        t = train.Trainer(gan.Config(), data.mnist_splits(sys.argv[2]))
        t.train(max_steps=3, progress=False)
        found["paper, 3 steps"] = [digest(t.G), digest(t.D)]
    print(json.dumps(found))
