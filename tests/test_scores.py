"""scores: which metric is computed from what and against what, and the table it prints."""
import numpy
import pytest

from minigan.evaluation import classifier, metrics, parzen, scores
from minigan.evaluation.classifier import ClassifierConfig
from minigan.evaluation.scores import Scorer, Scores


def _splits(seed=0, n=300):
    """Synthetic 'MNIST': images in [0, 1], enough rows for every metric (k + 1, 10 splits)."""
    rng = numpy.random.default_rng(seed)
    images = lambda m: rng.random((m, 784), dtype=numpy.float32)
    return {"train": images(n), "valid": images(60), "test": images(80)}


def _net(seed=0):
    """An untrained 16-wide classifier: a fixed function of the image is all the scores need."""
    return classifier.build_classifier(ClassifierConfig(hidden=16, seed=seed))


@pytest.mark.parametrize("text, names", [
    ("parzen", ("parzen",)), ("all", scores.NAMES), ("fid, parzen", ("parzen", "fid")),
    ("IS,pr", ("is", "pr")), ("pr,pr", ("pr",)),
])
def test_parse_accepts_lists_in_any_order_and_case(text, names):
    assert scores.parse(text) == names


@pytest.mark.parametrize("text", ["", "fid,bogus", "all,fid", ",", "parzen;fid"])
def test_parse_refuses_anything_else_naming_the_choices(text):
    with pytest.raises(ValueError, match=r"--metrics: expected a comma-separated list of parzen, is, fid, pr"):
        scores.parse(text)


def test_table_by_hand():
    s = Scores(parzen=parzen.ParzenResult(225.07, 2.25, 0.17, 226.5, 10000, 10000),
               inception=(9.312, 0.041), fid=3.2049, precision=0.8123, recall=0.7701)
    assert scores.table([("best.npz", s)], scores.NAMES).splitlines() == [
        "| images   | Parzen (nats) ↑ | IS ↑        | FID ↓ | precision ↑ · recall ↑ |",
        "|----------|-----------------|-------------|-------|------------------------|",
        "| best.npz | 225.1 ± 2.2     | 9.31 ± 0.04 | 3.20  | 0.812 · 0.770          |",
    ]
    assert scores.table([("a", s), ("bb", s)], ("fid",)).splitlines()[2:] == ["| a      | 3.20  |",
                                                                              "| bb     | 3.20  |"]


def test_the_training_images_score_as_the_reference_itself(xp):
    # FID's reference Gaussian and precision/recall's real set are both the training
    # images, so the training images themselves are at FID 0 with precision = recall = 1.
    splits = _splits()
    got = Scorer(splits, _net()).score(splits["train"], ("fid", "pr"))
    assert got.fid == pytest.approx(0, abs=1e-9)
    assert (got.precision, got.recall) == (1.0, 1.0)
    assert got.parzen is None and got.inception is None                 # not asked for


def test_each_score_is_its_metric_on_the_classifier_outputs(xp):
    splits, net = _splits(), _net()
    fake = _splits(seed=1)["train"][:200]
    got = Scorer(splits, net).score(fake)
    f_fake, f_train = classifier.features(net, fake), classifier.features(net, splits["train"])
    assert got.inception == metrics.inception_score(classifier.probabilities(net, fake))
    assert got.fid == pytest.approx(metrics.fid(f_fake, f_train), rel=1e-9)
    assert (got.precision, got.recall) == metrics.precision_recall(f_train[:scores.PR_REAL], f_fake, k=scores.PR_K)
    assert got.parzen == parzen.evaluate(fake, splits["valid"], splits["test"])


def test_real_features_are_computed_once(xp, monkeypatch):
    splits, calls = _splits(), []
    real = classifier.features
    monkeypatch.setattr(classifier, "features", lambda net, x: calls.append(len(x)) or real(net, x))
    scorer = Scorer(splits, _net())
    for _ in range(3):
        scorer.score(splits["test"], ("fid", "pr"))
    # one pass over the training images (FID), one over the first PR_REAL of them (here all
    # 300), then one per scored set
    assert calls == [80, 300, 300, 80, 80]


def test_classifier_scores_without_a_classifier_say_how_to_get_one(xp):
    splits = _splits()
    for name in ("is", "fid", "pr"):
        with pytest.raises(ValueError, match=r"need the MNIST classifier; pass net=classifier.load_or_train\(\)"):
            Scorer(splits).score(splits["test"], (name,))
    assert Scorer(splits).score(splits["test"][:20], ("parzen",)).parzen.n_samples == 20
