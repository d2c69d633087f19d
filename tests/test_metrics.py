"""minigan.evaluation.metrics: Inception Score, Fréchet distance / FID, precision and recall.

Most expected values are worked by hand in the docstrings; the rest are checked
against an independent computation. Every test takes the ``xp`` fixture, so it
runs on NumPy and again on CuPy when a GPU is present.
"""
import math

import numpy
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minigan import backend
from minigan.evaluation.metrics import fid, frechet_distance, inception_score, precision_recall, rank_correlation, ranks

FEW = settings(max_examples=8, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def _random_spd(rng, d, rank=None):
    """A random symmetric PSD (D, D) matrix A Aᵀ of the given rank (full by default)."""
    a = rng.normal(size=(d, rank or d))
    return a @ a.T


def _rotation(rng, d):
    """A random orthogonal matrix (Q of a QR decomposition)."""
    q, _ = numpy.linalg.qr(rng.normal(size=(d, d)))
    return q


# ------------------------------------------------------------------------ Inception Score

def test_is_confident_balanced_is_number_of_classes(xp):
    """Each part is the 10×10 identity: p(y) = 1/10 for every y, each row's KL =
    1 · log(1 / (1/10)) = log 10, so IS = exp(log 10) = 10 in every part, std 0."""
    probs = xp.asarray(numpy.tile(numpy.eye(10), (10, 1)))
    mean, std = inception_score(probs, splits=10)
    assert isinstance(mean, float) and isinstance(std, float)
    assert mean == pytest.approx(10.0, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_is_constant_prediction_is_one(xp):
    """Every row the same: p(y) equals each p(y|x), KL = 0, IS = exp(0) = 1."""
    probs = xp.asarray(numpy.tile([0.2, 0.3, 0.5], (40, 1)))
    mean, std = inception_score(probs, splits=4)
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_is_hand_worked_two_classes(xp):
    """Rows (1, 0) and (½, ½): p(y) = (¾, ¼).
    KL₁ = 1·log(1/¾) = log(4/3) (the 0 · log 0 term is 0);
    KL₂ = ½ log(½/¾) + ½ log(½/¼) = ½ log(2/3) + ½ log 2 = ½ log(4/3).
    Mean KL = ¾ log(4/3), so IS = (4/3)^¾ ≈ 1.2408."""
    mean, std = inception_score(xp.asarray([[1.0, 0.0], [0.5, 0.5]]), splits=1)
    assert mean == pytest.approx((4 / 3) ** 0.75, rel=1e-12)
    assert std == 0.0


def test_is_mean_and_std_over_splits(xp):
    """Part 1 = identity of 2 classes (IS 2), part 2 = constant (IS 1):
    mean (2 + 1)/2 = 1.5, population std √(((2−1.5)² + (1−1.5)²)/2) = 0.5."""
    probs = xp.asarray([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    mean, std = inception_score(probs, splits=2)
    assert mean == pytest.approx(1.5, rel=1e-12)
    assert std == pytest.approx(0.5, rel=1e-12)


def test_is_splits_as_the_original_code_at_i_n_over_splits_and_leaves_no_row_out(xp):
    """5 rows, 2 splits: the original code cuts at 0·5//2 = 0, 1·5//2 = 2, 2·5//2 = 5, so the parts
    are rows 0–1 and 2–4; the fifth row counts (cutting N // 2 = 2 rows a part would drop it).
    Part 1 = identity of 2 classes (IS 2); part 2 = rows [½ ½], [½ ½], [1 0]: p(y) = (2/3, 1/3),
    KL of [½ ½] to it = ½ ln(3/4) + ½ ln(3/2) = ½ ln(9/8), KL of [1 0] = ln(3/2), mean KL
    = (ln(9/8) + ln(3/2)) / 3 = ln(27/16) / 3, IS = (27/16)^(1/3) = 1.19055."""
    probs = xp.asarray([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    mean, _ = inception_score(probs, splits=2)
    assert mean == pytest.approx((2 + (27 / 16) ** (1 / 3)) / 2, rel=1e-12)


@pytest.mark.parametrize("probs, splits, words", [
    (numpy.ones(10) / 10, 1, "2-D"),
    (numpy.array([[1.2, -0.2], [0.5, 0.5]]), 1, "≥ 0"),
    (numpy.array([[0.5, 0.4], [0.5, 0.5]]), 1, "sum to 1"),
    (numpy.array([[numpy.nan, 1.0], [0.5, 0.5]]), 1, "finite"),
    (numpy.eye(3), 5, "at least splits=5"),
    (numpy.eye(3), 0, "positive integer"),
])
def test_is_bad_inputs(xp, probs, splits, words):
    with pytest.raises(ValueError, match=words):
        inception_score(xp.asarray(probs), splits=splits)


# ----------------------------------------------------------------------- Fréchet distance

def test_frechet_identical_gaussians_is_zero(xp):
    rng = numpy.random.default_rng(0)
    mu, cov = xp.asarray(rng.normal(size=5)), xp.asarray(_random_spd(rng, 5))
    value = frechet_distance(mu, cov, mu, cov)
    assert isinstance(value, float)
    assert value == pytest.approx(0.0, abs=1e-10)


def test_frechet_diagonal_closed_form(xp):
    """Diagonal covariances commute, so (Σ1Σ2)^½ = diag(σ1σ2) and
    d² = ‖μ1 − μ2‖² + Σ(σ1² + σ2² − 2σ1σ2) = ‖μ1 − μ2‖² + Σ(σ1 − σ2)².
    μ1 = (0, 0), μ2 = (3, 4): 9 + 16 = 25; σ1 = (1, 2), σ2 = (2, 4): 1 + 4 = 5; total 30."""
    value = frechet_distance(xp.asarray([0.0, 0.0]), xp.asarray(numpy.diag([1.0, 4.0])),
                             xp.asarray([3.0, 4.0]), xp.asarray(numpy.diag([4.0, 16.0])))
    assert value == pytest.approx(30.0, rel=1e-12)


def test_frechet_commuting_rotated_closed_form(xp):
    """Σ1 = Q diag(a) Qᵀ, Σ2 = Q diag(b) Qᵀ commute: Tr((Σ1Σ2)^½) = Σ√(a·b), so
    d² = ‖Δμ‖² + Σ(√a − √b)², here with non-diagonal matrices."""
    rng = numpy.random.default_rng(1)
    q = _rotation(rng, 4)
    a, b = numpy.array([4.0, 1.0, 0.25, 9.0]), numpy.array([1.0, 9.0, 1.0, 9.0])
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    expected = ((mu1 - mu2) ** 2).sum() + ((numpy.sqrt(a) - numpy.sqrt(b)) ** 2).sum()
    value = frechet_distance(xp.asarray(mu1), xp.asarray(q @ numpy.diag(a) @ q.T),
                             xp.asarray(mu2), xp.asarray(q @ numpy.diag(b) @ q.T))
    assert value == pytest.approx(expected, rel=1e-10)


def test_frechet_keeps_small_but_real_eigenvalues(xp):
    """Real features spread their covariance eigenvalues over many decades: minigan's
    classifier gives about 2e-6 … 85 for one set and 3e-5 … 95 for another, so Σ1Σ2 has
    eigenvalues from ~1e-10 to ~8,000. Each small one still adds √(a·b) ≈ 1e-5 to the
    trace. Commuting covariances with that spread (D = 200, log-spaced, rotated) have the
    closed form Σ(√a − √b)². An earlier version took √ of M's eigenvalues and cut those
    below D·ε·λ_max as noise; it dropped these and was off by 7e-5 here."""
    rng = numpy.random.default_rng(2)
    q = _rotation(rng, 200)
    a = numpy.logspace(numpy.log10(2e-6), numpy.log10(85), 200)
    b = rng.permutation(numpy.logspace(numpy.log10(3e-5), numpy.log10(95), 200))
    expected = ((numpy.sqrt(a) - numpy.sqrt(b)) ** 2).sum()
    value = frechet_distance(xp.zeros(200), xp.asarray(q @ numpy.diag(a) @ q.T),
                             xp.zeros(200), xp.asarray(q @ numpy.diag(b) @ q.T))
    assert value == pytest.approx(expected, abs=1e-12 * (a.sum() + b.sum()))


def test_frechet_general_against_eig_of_product(xp):
    """Non-commuting full-rank Σ1, Σ2 against an independent route: the eigenvalues of
    the (non-symmetric) product Σ1Σ2 by numpy.linalg.eig, Tr((Σ1Σ2)^½) = Σ√Re λ."""
    rng = numpy.random.default_rng(2)
    c1, c2 = _random_spd(rng, 6), _random_spd(rng, 6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    lam = numpy.linalg.eig(c1 @ c2)[0]
    expected = (((mu1 - mu2) ** 2).sum() + numpy.trace(c1) + numpy.trace(c2)
                - 2 * numpy.sqrt(numpy.maximum(lam.real, 0)).sum())
    value = frechet_distance(xp.asarray(mu1), xp.asarray(c1), xp.asarray(mu2), xp.asarray(c2))
    assert value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("a, b, expected, tol", [
    # Σ(√a − √b)² = (2−1)² + (1−3)² + (0−0)² + (0−2)² = 1 + 4 + 0 + 4 = 9
    ([4.0, 1.0, 0.0, 0.0], [1.0, 9.0, 0.0, 4.0], 9.0, 1e-12),
    # near-singular instead of singular: the third term becomes (1e-6 − 0)² = 1e-12;
    # an eigenvalue of 1e-12 is known to ~1e-15 absolute, so its root 1e-6 to ~1e-9
    ([4.0, 1.0, 1e-12, 0.0], [1.0, 9.0, 0.0, 4.0], 9.0 + 1e-12, 1e-8),
])
def test_frechet_rank_deficient_commuting(xp, a, b, expected, tol):
    """Rotated (non-diagonal) covariances with zero or tiny eigenvalues, equal means:
    they commute, so d² = Σ(√a − √b)² as in the test above. Clipping the eigenvalues
    only at 0 would leave ~1e-7 of √(round-off) here; cutting below D·ε·λ_max gives ~1e-15."""
    q = _rotation(numpy.random.default_rng(3), 4)
    c1, c2 = q @ numpy.diag(a) @ q.T, q @ numpy.diag(b) @ q.T
    mu = xp.zeros(4)
    assert frechet_distance(mu, xp.asarray(c1), mu, xp.asarray(c2)) == pytest.approx(expected, abs=tol)


def test_frechet_rank_one_against_closed_form(xp):
    """Σ1 = u uᵀ (rank 1) and a full Σ2 that does not commute with it.
    Σ1^½ = u uᵀ / ‖u‖, so Σ1^½ Σ2 Σ1^½ = u (uᵀΣ2u) uᵀ / ‖u‖², whose only non-zero
    eigenvalue is uᵀΣ2u: Tr((Σ1Σ2)^½) = √(uᵀΣ2u) and
    d² = ‖Δμ‖² + ‖u‖² + Tr Σ2 − 2√(uᵀΣ2u).
    u = (1, 2, 2): ‖u‖² = 9; Σ2 = [[2,1,0],[1,2,0],[0,0,1]]: Tr Σ2 = 5,
    uᵀΣ2u = 2·1² + 2·2² + 1·2² + 2·(1·1·2) = 2 + 8 + 4 + 4 = 18;
    μ1 = (1, 0, 0), μ2 = 0: ‖Δμ‖² = 1. So d² = 1 + 9 + 5 − 2√18 = 15 − 6√2 ≈ 6.5147."""
    u = numpy.array([1.0, 2.0, 2.0])
    c2 = numpy.array([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    assert u @ c2 @ u == 18.0
    mu1, mu2 = numpy.array([1.0, 0.0, 0.0]), numpy.zeros(3)
    expected = 15 - 6 * math.sqrt(2)
    value = frechet_distance(xp.asarray(mu1), xp.asarray(numpy.outer(u, u)),
                             xp.asarray(mu2), xp.asarray(c2))
    assert value == pytest.approx(expected, abs=1e-12)


def test_frechet_bad_shapes(xp):
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(xp.zeros(3), xp.eye(3), xp.zeros(2), xp.eye(2))
    with pytest.raises(ValueError, match="finite"):
        frechet_distance(xp.zeros(2), xp.eye(2), xp.asarray([0.0, numpy.inf]), xp.eye(2))


# -------------------------------------------------------------------------------- FID

def test_fid_of_a_set_with_itself_is_zero(xp):
    """Same mean and covariance: only round-off remains, in Tr Σ + Tr Σ − 2 Σ√λ(Σ^½ΣΣ^½).
    The eigenvalues of Σ^½ΣΣ^½ = Σ² are λ² ± D·ε·λ_max², so each root √(λ²) is off by
    ~D·ε·λ_max²/λ: for this well-conditioned Σ (λ_max/λ_min ≈ 1.5) that is a few
    D·ε·λ_max, i.e. |FID| ≲ 100·D²·ε·λ_max ≈ 1e-12 · Tr Σ (observed: 1e-13 against
    Tr Σ ≈ 144, i.e. 1e-15 · Tr Σ). We check FID ≤ 1e-12 · Tr Σ ≈ 1.4e-10.
    (The result is clamped at 0, so it cannot go below.)"""
    x = numpy.random.default_rng(4).normal(size=(500, 16)) * 3 + 1
    bound = 1e-12 * numpy.trace(numpy.cov(x, rowvar=False))
    assert 0.0 <= fid(xp.asarray(x), xp.asarray(x)) <= bound


def test_fid_matches_frechet_of_numpy_cov(xp):
    """fid = frechet_distance of the means and numpy.cov(rowvar=False, ddof=1)."""
    rng = numpy.random.default_rng(5)
    a, b = rng.normal(size=(200, 5)), rng.normal(size=(300, 5)) * 2 + 0.5
    expected = frechet_distance(xp.asarray(a.mean(0)), xp.asarray(numpy.cov(a, rowvar=False, ddof=1)),
                                xp.asarray(b.mean(0)), xp.asarray(numpy.cov(b, rowvar=False, ddof=1)))
    assert fid(xp.asarray(a), xp.asarray(b)) == pytest.approx(expected, rel=1e-12)


@FEW
@given(seed=st.integers(0, 2 ** 32 - 1), d=st.integers(1, 6))
def test_fid_symmetric_and_non_negative(xp, seed, d):
    rng = numpy.random.default_rng(seed)
    a = xp.asarray(rng.normal(size=(20, d)))
    b = xp.asarray(rng.normal(size=(30, d)) * rng.uniform(0.1, 3) + rng.normal())
    ab, ba = fid(a, b), fid(b, a)
    assert ab >= 0
    assert ab == pytest.approx(ba, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("a, b, words", [
    (numpy.zeros(5), numpy.zeros((5, 2)), "2-D"),
    (numpy.zeros((5, 2)), numpy.zeros((5, 3)), "same width"),
    (numpy.zeros((1, 2)), numpy.zeros((5, 2)), "at least 2 rows"),
    (numpy.full((5, 2), numpy.nan), numpy.zeros((5, 2)), "finite"),
])
def test_fid_bad_inputs(xp, a, b, words):
    with pytest.raises(ValueError, match=words):
        fid(xp.asarray(a), xp.asarray(b))


# ------------------------------------------------------------------ precision and recall

def test_pr_identical_sets_are_one(xp):
    """Each fake point is a real point, at distance 0 from its own ball's centre."""
    x = xp.asarray(numpy.random.default_rng(6).normal(size=(60, 4)))
    assert precision_recall(x, x, k=3) == (1.0, 1.0)


def test_pr_far_apart_sets_are_zero(xp):
    """Two unit clouds 1000 apart: every k-NN radius is a few units, no ball reaches across."""
    rng = numpy.random.default_rng(7)
    real, fake = rng.normal(size=(50, 3)), rng.normal(size=(40, 3)) + 1000
    assert precision_recall(xp.asarray(real), xp.asarray(fake), k=3) == (0.0, 0.0)


def test_pr_hand_worked_1d(xp):
    """k = 1 on a line. real = 0, 1, 3, 30, 31; fake = 0.5, 2.5, 10, 11.
    Real radii (nearest other real): 1, 1, 2, 1, 1 → balls [−1,1], [0,2], [1,5], [29,31], [30,32].
    Fakes inside one: 0.5 yes, 2.5 yes, 10 no, 11 no → precision 2/4 = 0.5.
    Fake radii (nearest other fake): 2, 2, 1, 1 → balls [−1.5,2.5], [0.5,4.5], [9,11], [10,12].
    Reals inside one: 0, 1, 3 yes; 30, 31 no → recall 3/5 = 0.6.
    chunk=2 makes the chunked loops take several rounds, with a partial last one."""
    real = xp.asarray([[0.0], [1.0], [3.0], [30.0], [31.0]])
    fake = xp.asarray([[0.5], [2.5], [10.0], [11.0]])
    precision, recall = precision_recall(real, fake, k=1, chunk=2)
    assert isinstance(precision, float) and isinstance(recall, float)
    assert (precision, recall) == (0.5, 0.6)


def _pr_brute_force(real, fake, k):
    """Kynkäänniemi et al.'s definition read literally: every distance, sorted, in NumPy."""
    d = lambda a, b: numpy.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    radius = lambda x: numpy.sort(d(x, x), axis=1)[:, k]          # column 0 is the point itself
    r_real, r_fake, rf = radius(real), radius(fake), d(real, fake)  # rf: (N_real, N_fake)
    return (rf <= r_real[:, None]).any(axis=0).mean(), (rf <= r_fake[None, :]).any(axis=1).mean()


@FEW
@given(seed=st.integers(0, 2**32 - 1), n_real=st.integers(4, 40), n_fake=st.integers(4, 40),
       k=st.integers(1, 3), chunk=st.integers(1, 50))
def test_pr_agrees_with_the_definition_computed_by_brute_force(xp, seed, n_real, n_fake, k, chunk):
    rng = numpy.random.default_rng(seed)
    real, fake = rng.normal(size=(n_real, 5)), rng.normal(0.5, 1.3, size=(n_fake, 5))
    got = precision_recall(xp.asarray(real), xp.asarray(fake), k=k, chunk=chunk)
    assert got == pytest.approx(_pr_brute_force(real, fake, k), abs=1e-12)


def test_pr_duplicate_counts_as_neighbour(xp):
    """real = 0, 0, 5 with k = 1: the first two are each other's nearest neighbour at
    distance 0 (only the point itself is excluded, by index), radii 0, 0, 5.
    fake = 0, 0.1: 0 lies in the radius-0 ball at 0 (boundary included) and 0.1 in
    the ball of radius 5 around 5 ([0, 10]) → precision 1."""
    real = xp.asarray([[0.0], [0.0], [5.0]])
    fake = xp.asarray([[0.0], [0.1]])
    assert precision_recall(real, fake, k=1)[0] == 1.0


@pytest.mark.parametrize("real, fake, k, words", [
    (numpy.zeros((3, 2)), numpy.zeros((10, 2)), 3, "at least 4 rows"),
    (numpy.zeros((10, 2)), numpy.zeros((4, 2)), 4, "at least 5 rows"),
    (numpy.zeros(10), numpy.zeros((10, 2)), 3, "2-D"),
    (numpy.zeros((10, 2)), numpy.zeros((10, 3)), 3, "same width"),
    (numpy.zeros((10, 2)), numpy.full((10, 2), numpy.inf), 3, "finite"),
    (numpy.zeros((10, 2)), numpy.zeros((10, 2)), 0, "positive integer"),
])
def test_pr_bad_inputs(xp, real, fake, k, words):
    with pytest.raises(ValueError, match=words):
        precision_recall(xp.asarray(real), xp.asarray(fake), k=k)


def test_results_are_python_floats_on_any_backend(xp):
    """Results cross back to the host as plain floats (usable in f-strings, JSON, CSV)."""
    x = backend.xp.asarray(numpy.random.default_rng(8).normal(size=(20, 3)))
    assert type(fid(x, x)) is float
    assert all(type(v) is float for v in precision_recall(x, x, k=2))


# ----- rank correlation (Spearman's ρ), for the WGAN's first claim ------------------------------

def test_hand_worked_rank_correlation():
    """a = [1, 2, 3], b = [1, 3, 2]: rank differences d = [0, −1, 1], so without ties
    ρ = 1 − 6 Σd² / (n (n² − 1)) = 1 − 6·2 / (3·8) = 0.5."""
    assert rank_correlation([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert rank_correlation([1, 2, 3], [10, 200, 3000]) == pytest.approx(1.0)     # any rising b
    assert rank_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_ranks_of_ties_are_their_mean():
    """[5, 7, 7, 1]: 1 is rank 1, 5 rank 2, the two 7s share ranks 3 and 4: 3.5 each."""
    assert ranks([5, 7, 7, 1]).tolist() == [2.0, 3.5, 3.5, 1.0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30), st.randoms(use_true_random=False))
def test_rank_correlation_is_the_pearson_correlation_of_ranks(a, rnd):
    b = [rnd.uniform(-1, 1) for _ in a]
    if len(set(a)) < 2 or len(set(b)) < 2:
        return
    want = numpy.corrcoef(ranks(a), ranks(b))[0, 1]
    assert rank_correlation(a, b) == pytest.approx(want, abs=1e-12)
    assert rank_correlation(a, a) == pytest.approx(1.0)


@pytest.mark.parametrize("a, b, message", [([1.0], [2.0], "length ≥ 2"), ([1, 2], [3, 3], "constant"),
                                           ([1, float("nan")], [1, 2], "finite")])
def test_rank_correlation_refuses_what_has_no_order(a, b, message):
    with pytest.raises(ValueError, match=message):
        rank_correlation(a, b)


def test_frechet_refuses_what_is_not_a_covariance_complex_input_and_zero_width(xp):
    """issue 23, item 9: a covariance with a negative eigenvalue was clipped into a PSD one and
    could give 0; complex input lost its imaginary part with only a warning; D = 0 gave raw
    NumPy errors. Each is now one ValueError naming the argument."""
    mu = xp.asarray([0.0, 0.0])
    good = xp.asarray([[1.0, 0.0], [0.0, 1.0]])
    not_psd = xp.asarray([[1.0, 0.0], [0.0, -1.0]])               # eigenvalue −1: no covariance
    with pytest.raises(ValueError, match=r"cov2: expected a positive semi-definite covariance, but its "
                                         r"smallest eigenvalue is -1"):
        frechet_distance(mu, good, mu, not_psd)
    with pytest.raises(ValueError, match=r"mu1: expected real numbers, got a complex array"):
        frechet_distance(xp.asarray([1 + 1j, 0]), good, mu, good)
    with pytest.raises(ValueError, match=r"at least one feature \(D ≥ 1\)"):
        frechet_distance(xp.zeros(0), xp.zeros((0, 0)), xp.zeros(0), xp.zeros((0, 0)))
    with pytest.raises(ValueError, match=r"expected at least one column"):
        fid(xp.zeros((5, 0)), xp.zeros((5, 0)))
    singular = xp.asarray([[1.0, 1.0], [1.0, 1.0]])              # PSD of rank 1: accepted, as real ones are
    assert frechet_distance(mu, singular, mu, singular) == pytest.approx(0.0, abs=1e-12)


def test_float16_softmax_rows_are_accepted_and_a_wrong_row_still_refused(xp):
    """issue 23, item 9: float16 probabilities (rows off by ~1e-3 after rounding) were refused by
    the 1e-6·C row-sum check meant for float32/64; the tolerance follows the input's ε."""
    rng = numpy.random.default_rng(0)
    logits = rng.normal(size=(40, 10))
    probs = numpy.exp(logits) / numpy.exp(logits).sum(axis=1, keepdims=True)
    half = probs.astype(numpy.float16)
    assert abs(half.astype(numpy.float64).sum(axis=1) - 1).max() > 1e-5          # really off by more than 1e-6·C
    mean, _ = inception_score(xp.asarray(half), splits=2)
    assert mean == pytest.approx(inception_score(xp.asarray(probs), splits=2)[0], rel=1e-2)
    with pytest.raises(ValueError, match=r"sum to 1 within 0.0039·C"):
        inception_score(xp.asarray((half * numpy.float16(0.9))), splits=2)


# ----- issue 23, item 18: mutation survivors pinned (python .ci/mutants.py minigan/evaluation/metrics.py)
import inspect  # noqa: E402

from minigan.evaluation import metrics  # noqa: E402


def test_the_papers_defaults():
    """splits = 10 (Salimans et al.'s code), k = 3 (Kynkäänniemi et al.'s)."""
    assert inspect.signature(inception_score).parameters["splits"].default == 10
    assert inspect.signature(precision_recall).parameters["k"].default == 3


def test_inception_score_with_one_row_per_part(xp):
    """N = splits: every part holds one row, whose marginal is itself, so each part scores 1
    (a single row with splits = 1 too)."""
    assert inception_score(xp.eye(10)) == pytest.approx((1.0, 0.0))
    assert inception_score(xp.asarray([[0.5, 0.5]]), splits=1) == pytest.approx((1.0, 0.0))


@pytest.mark.parametrize("off, refused", [(0.9e-6, False), (1.1e-6, True), (1.5e-6, True)])
def test_the_row_sum_allowance_is_1e_minus_6_per_class(xp, off, refused):
    """Four classes, float64: a row may be off by 1e-6 · C = 4e-6, no more."""
    p = numpy.full((10, 4), 0.25)
    p[3, 0] += off * 4
    if refused:
        with pytest.raises(ValueError, match=r"within 1e-06·C = 4e-06"):
            inception_score(xp.asarray(p))
    else:
        inception_score(xp.asarray(p))


def test_squared_distances_are_clamped_at_zero_only(xp):
    """‖a − b‖² of a point with itself is 0 (round-off can make it −1e-16), and 0.1 apart gives 0.01."""
    a = xp.asarray([[0.1, 0.2], [0.2, 0.2]])
    d2 = backend.to_numpy(metrics._squared_distances(a, a, (a * a).sum(axis=1)))
    assert d2[0, 0] == 0 and d2[0, 1] == pytest.approx(0.01)


def test_recall_counts_a_real_point_on_a_fake_ball_s_boundary(xp):
    """Fakes 0 and 2 (k = 1: each ball has radius 2); reals 4 and 5. Real 4 lies on the boundary of
    fake 2's ball (distance 2 = its radius) and counts, real 5 is outside: recall ½. The reals'
    balls (radius 1) hold no fake: precision 0."""
    fake, real = xp.asarray([[0.0], [2.0]]), xp.asarray([[4.0], [5.0]])
    assert precision_recall(real, fake, k=1) == (0.0, 0.5)


def test_two_rows_are_enough_for_a_covariance(xp):
    a, b = xp.asarray([[0.0, 1.0], [1.0, 0.0]]), xp.asarray([[0.0, 1.0], [1.0, 0.0]])
    assert fid(a, b) == pytest.approx(0.0, abs=1e-9)
    assert backend.to_numpy(metrics.mean_cov(a)[1]).tolist() == [[0.5, -0.5], [-0.5, 0.5]]


@pytest.mark.parametrize("units, refused", [(60, False), (200, True)])
def test_the_psd_slack_is_100_units_of_eighs_accuracy(xp, units, refused):
    """An eigenvalue of −units · D · ε · max|λ| (D = 2, max|λ| = 1e4): 60 is round-off and clipped
    to 0, 200 is refused."""
    eps = numpy.finfo(numpy.float64).eps
    cov = xp.asarray(numpy.diag([1e4, -units * 2 * eps * 1e4]))
    mu = xp.zeros(2)
    if refused:
        with pytest.raises(ValueError, match="positive semi-definite"):
            frechet_distance(mu, cov, mu, xp.eye(2))
    else:
        assert numpy.isfinite(frechet_distance(mu, cov, mu, xp.eye(2)))
