"""The MNIST classifier: a real accuracy on a CI-sized subset, the cache and its retrain rule."""
import functools
import re
from dataclasses import asdict, replace

import numpy
import pytest

from minigan.files import checkpoint
from minigan.evaluation import classifier
from minigan.evaluation.classifier import ClassifierConfig

# CI-sized: training images 0–4,999, 8 epochs of a 128-wide MLP. Measured on test images 0–999
# (NumPy, seeds 0–4): 0.907–0.928, seed 0 (the one used) 0.923; about 0.6 s of training on an
# idle core, up to ~10× more when OpenBLAS's two threads share a busy 2-core machine. With
# 2,000 images a 256-wide net reached only 0.88–0.90, too close to any bar. 0.90 leaves room
# for other BLAS libraries and backends; a broken gradient or a label mix-up gives about 0.1.
SMALL = ClassifierConfig(hidden=128, epochs=8, batch_size=64, lr=2e-3, lr_decay=0.8, n_train=5000)
SMALL_THRESHOLD = 0.90
TINY = ClassifierConfig(hidden=16, epochs=1, batch_size=100, n_train=300)


@functools.lru_cache(maxsize=None)
def _mnist(folder):
    return classifier.mnist_with_labels(folder)


@functools.lru_cache(maxsize=None)
def _small_net(folder):
    return classifier.train_classifier(_mnist(folder), SMALL, progress=False)


def test_small_classifier_reaches_a_real_accuracy(mnist_dir):
    data = _mnist(mnist_dir)
    acc = classifier.accuracy(_small_net(mnist_dir), data["test"][:1000], data["test_labels"][:1000])
    assert acc >= SMALL_THRESHOLD, f"accuracy {acc:.3f} on test images 0–999, expected ≥ {SMALL_THRESHOLD}"


def test_probabilities_rows_sum_to_one_and_features_shape(mnist_dir):
    data, net = _mnist(mnist_dir), _small_net(mnist_dir)
    images = data["test"][:300]
    p = classifier.probabilities(net, images)
    assert p.shape == (300, 10) and (p >= 0).all()
    numpy.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-12)
    assert (p.argmax(axis=1) == classifier.logits(net, images).argmax(axis=1)).all()
    f = classifier.features(net, images)
    assert f.shape == (300, SMALL.hidden) and (f >= 0).all()          # the last hidden ReLU's output


def test_training_is_reproducible(mnist_dir):
    data = _mnist(mnist_dir)
    a = classifier.train_classifier(data, TINY, progress=False).state_dict()
    b = classifier.train_classifier(data, TINY, progress=False).state_dict()
    c = classifier.train_classifier(data, replace(TINY, seed=1), progress=False).state_dict()
    assert all(numpy.array_equal(a[k], b[k]) for k in a)
    assert not numpy.array_equal(a["0.W"], c["0.W"])


class _Counting:
    """Wraps train_classifier and counts the trainings."""

    def __init__(self, monkeypatch):
        self.calls, self.real = 0, classifier.train_classifier
        monkeypatch.setattr(classifier, "train_classifier", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.real(*args, **kwargs)


def test_cache_round_trip(mnist_dir, tmp_path, monkeypatch):
    data, trainings = _mnist(mnist_dir), _Counting(monkeypatch)
    first = classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=TINY, splits=data)
    assert trainings.calls == 1 and (tmp_path / classifier.FILE).is_file()
    _, meta = checkpoint.load(tmp_path / classifier.FILE)
    assert meta["config"] == asdict(TINY)
    images, labels = data["train"][:TINY.n_train], data["train_labels"][:TINY.n_train]
    assert meta["data_sha256"] == classifier.data_checksum(images, labels)
    second = classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=TINY, splits=data)
    assert trainings.calls == 1                                          # read back, not retrained
    x = data["test"][:50]
    numpy.testing.assert_array_equal(classifier.logits(first, x), classifier.logits(second, x))


def test_mismatched_cache_is_retrained(mnist_dir, tmp_path, monkeypatch):
    data, trainings = _mnist(mnist_dir), _Counting(monkeypatch)
    path = tmp_path / classifier.FILE
    classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=TINY, splits=data)
    assert trainings.calls == 1
    # configuration changed
    other = replace(TINY, seed=7)
    classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=other, splits=data)
    assert trainings.calls == 2 and checkpoint.load(path)[1]["config"] == asdict(other)
    # training data changed: one label differs, so its checksum does
    changed = dict(data, train_labels=data["train_labels"].copy())
    changed["train_labels"][0] = (changed["train_labels"][0] + 1) % 10
    classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=other, splits=changed)
    assert trainings.calls == 3
    # the stored checksum altered in the file itself: not trusted either
    arrays, meta = checkpoint.load(path)
    checkpoint.save(path, arrays, dict(meta, data_sha256="0" * 64))
    classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=other, splits=changed)
    assert trainings.calls == 4
    # a damaged file is retrained too
    path.write_bytes(b"not a checkpoint")
    classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=other, splits=changed)
    assert trainings.calls == 5
    classifier.load_or_train(cache_dir=tmp_path, progress=False, cfg=other, splits=changed)
    assert trainings.calls == 5                                          # and then trusted again


def test_default_cache_dir_respects_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert classifier.default_cache_dir() == tmp_path / "minigan" / "classifier"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert classifier.default_cache_dir().parts[-3:] == (".cache", "minigan", "classifier")


def test_config_fields_have_help():
    from dataclasses import fields
    assert all(f.metadata.get("help") for f in fields(ClassifierConfig))


def test_bad_training_data_is_reported():
    with pytest.raises(ValueError, match="expected images"):
        classifier.train_classifier((numpy.zeros((5, 10)), numpy.zeros(5, int)), TINY, progress=False)
    with pytest.raises(ValueError, match="n_train must be between 1 and 5"):
        classifier.train_classifier((numpy.zeros((5, 784)), numpy.zeros(5, int)), TINY, progress=False)


def test_obtain_announces_training_and_retrains_when_asked(mnist_dir, tmp_path, monkeypatch):
    data, trainings, said = _mnist(mnist_dir), _Counting(monkeypatch), []
    path = tmp_path / "deep" / "c.npz"                                   # missing folders are made
    _, seconds = classifier.obtain(path, TINY, data, progress=False, announce=lambda: said.append(1))
    assert seconds >= 0 and said == [1] and trainings.calls == 1
    _, seconds = classifier.obtain(path, TINY, data, progress=False, announce=lambda: said.append(2))
    assert seconds is None and said == [1] and trainings.calls == 1     # from the file: nothing said
    classifier.obtain(path, TINY, data, progress=False, retrain=True)
    assert trainings.calls == 2


def test_load_checks_the_data_it_was_trained_on(mnist_dir, tmp_path):
    data, path = _mnist(mnist_dir), tmp_path / "c.npz"
    net, _ = classifier.obtain(path, TINY, data, progress=False)
    loaded, cfg = classifier.load(path, data)
    assert cfg == TINY
    numpy.testing.assert_array_equal(classifier.logits(loaded, data["test"][:20]),
                                     classifier.logits(net, data["test"][:20]))
    changed = dict(data, train_labels=data["train_labels"].copy())
    changed["train_labels"][5] = (changed["train_labels"][5] + 1) % 10
    with pytest.raises(ValueError, match=r"was trained on other data .* minigan classifier --out"):
        classifier.load(path, changed)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match="damaged"):
        classifier.load(path, data)


def test_mnist_with_labels_has_every_split(mnist_dir):
    data = _mnist(mnist_dir)
    assert {k: len(v) for k, v in data.items()} == {"train": 50000, "valid": 10000, "test": 10000,
                                                    "train_labels": 50000, "valid_labels": 10000,
                                                    "test_labels": 10000}
    assert sorted(numpy.unique(data["valid_labels"])) == list(range(10))


@pytest.mark.parametrize("field, value, message", [
    ("hidden", 0, "hidden must be at least 1"), ("epochs", 0, "epochs must be at least 1"),
    ("n_train", 50001, "n_train must be in 1…50000"), ("hidden_keep", 0.0, "hidden_keep must be in (0, 1]"),
    ("lr", float("nan"), "lr must be a finite number > 0"), ("lr_decay", 1.5, "lr_decay must be in (0, 1]"),
    ("beta1", 1.0, "beta1 must be in [0, 1)"), ("irange", -1.0, "irange must be a finite number ≥ 0"),
])
def test_config_refuses_values_outside_their_meaning(field, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        replace(ClassifierConfig(), **{field: value}).validate()
    assert ClassifierConfig().validate() == ClassifierConfig()


def test_probabilities_through_the_features_equal_the_softmax_of_the_logits(mnist_dir):
    data, net = _mnist(mnist_dir), _small_net(mnist_dir)
    images = data["test"][:2500]                                  # several batches, a partial last one
    a = classifier.logits(net, images).astype(numpy.float64)
    softmax = numpy.exp(a - a.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    numpy.testing.assert_array_equal(classifier.probabilities(net, images), softmax)
    numpy.testing.assert_array_equal(
        classifier.probabilities_of_features(net, classifier.features(net, images)), softmax)


def test_an_unwritable_cache_is_found_before_training(mnist_dir, tmp_path, monkeypatch, capsys):
    """issue 23, item 5: XDG_CACHE_HOME naming a file was discovered only after training the
    classifier (minutes). Now evaluate says so at once, in one line, and trains nothing."""
    from minigan.program import cli
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    trained = []
    monkeypatch.setattr(classifier, "train_classifier", lambda *a, **k: trained.append(1))
    v0 = __import__("pathlib").Path(__file__).parent / "data" / "v0_checkpoint.npz"
    assert cli.main(["evaluate", str(v0), "--data", mnist_dir, "--metrics", "is", "--samples", "20"]) == 1
    err = capsys.readouterr().err
    assert "cannot write the classifier into" in err and "XDG_CACHE_HOME" in err and err.count("\n") == 1
    assert trained == []


def test_a_diverging_classifier_is_refused_and_not_written(mnist_dir, tmp_path, capsys):
    """issue 23, item 5: --lr 1e20 wrote a NaN classifier that later scores trusted."""
    from minigan.program import cli
    out = tmp_path / "c.npz"
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(out), "--hidden", "16", "--epochs", "1",
                     "--n-train", "300", "--lr", "1e20", "--no-progress", "--no-reference"]) == 1
    err = capsys.readouterr().err
    assert "the classifier diverged in epoch 1" in err and "lower --lr (it was 1e+20; default 0.001)" in err
    assert err.count("\n") == 1 and not out.exists()


def test_a_gan_checkpoint_given_as_classifier_is_named_as_such(mnist_dir):
    """issue 23, item 7: it was reported as "damaged ... use best.npz", which is wrong advice."""
    v0 = __import__("pathlib").Path(__file__).parent / "data" / "v0_checkpoint.npz"
    with pytest.raises(ValueError, match=r"is a GAN checkpoint \(a run of --model gan\), not a classifier; "
                                         r"pass a file written by minigan classifier --out FILE"):
        classifier.load(v0, _mnist(mnist_dir))


def test_a_classifier_file_with_a_bad_configuration_is_damage_naming_the_file(tmp_path, mnist_dir):
    path = tmp_path / "c.npz"
    checkpoint.save(path, {}, {"config": {**asdict(TINY), "hidden": -3}, "data_sha256": "x"})
    with pytest.raises(checkpoint.CheckpointError, match=rf"{re.escape(str(path))} is damaged \(its configuration "
                                                         r"is not a classifier's: hidden must be at least 1"):
        classifier.load(path, _mnist(mnist_dir))


def test_deeply_nested_json_metadata_is_damage_not_a_recursion_error(tmp_path):
    path = tmp_path / "c.npz"
    numpy.savez(path, meta=numpy.array("[" * 100000 + "]" * 100000))
    with pytest.raises(checkpoint.CheckpointError, match="nested too deep"):
        checkpoint.load(path)


def test_out_of_memory_is_one_line(monkeypatch, capsys):
    """issue 23, item 6: a MemoryError (--g-hidden 200000) was a traceback."""
    from minigan.program import cli

    def too_big(args):
        raise MemoryError("Unable to allocate 149. GiB for an array with shape (200000, 200000) and data type float32")
    monkeypatch.setattr(cli, "cmd_train", too_big)
    assert cli.main(["train", "--out", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minigan train: error: out of memory: Unable to allocate 149. GiB") and err.count("\n") == 1
