"""Sample-quality metrics beyond the paper's Parzen window: IS, FID, precision/recall.

The paper (2014) scores samples with a Parzen-window log-likelihood
(``minigan.evaluation.parzen``). Later work replaced it with scores computed on features or
class probabilities of a fixed classifier. This module holds the arithmetic of
those scores only; which network supplies the probabilities or features is up to
the caller (for MNIST, any fixed classifier you trust).

- ``inception_score(probs, splits)``  Salimans et al. (2016)
- ``frechet_distance(mu1, cov1, mu2, cov2)`` and ``fid(features_a, features_b)``
  Heusel et al. (2017)
- ``precision_recall(real, fake, k)``  Kynkäänniemi et al. (2019)
- ``rank_correlation(a, b)``  Spearman's ρ, for scores watched over training (docs/wgan.md)

Every score of samples works through ``backend.xp`` (NumPy or CuPy), computes in float64
and returns Python floats; ``rank_correlation`` takes short host sequences (one number per epoch). Each numerical-stability choice is commented beside
the naive formula it replaces.
"""
import math
import numbers

import numpy

from .. import backend


# ----------------------------------------------------------------------------- checks

def _real_float64(name, a):
    """``a`` as a float64 array of the active backend; ValueError for complex input, whose
    imaginary part the conversion would drop with only a warning."""
    xp = backend.xp
    a = xp.asarray(a)
    if xp.iscomplexobj(a):
        raise ValueError(f"{name}: expected real numbers, got a complex array ({a.dtype}); "
                         f"pass its real part (.real) if that is what you mean")
    return a.astype(xp.float64, copy=False)


def _matrix(name, a, min_rows=1, hint="", why=""):
    """``a`` as a 2-D float64 array of the active backend with ≥ min_rows rows, all finite."""
    a = _real_float64(name, a)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (rows = samples, columns = "
                         f"{hint or 'features'}), got shape {tuple(a.shape)}; reshape it to (N, D)")
    if a.shape[1] < 1:
        raise ValueError(f"{name}: expected at least one column ({hint or 'feature'}), got shape {tuple(a.shape)}")
    if a.shape[0] < min_rows:
        raise ValueError(f"{name}: expected at least {min_rows} rows (samples){why}, got "
                         f"{a.shape[0]} (shape {tuple(a.shape)}); pass more samples")
    _finite(name, a)
    return a


def _finite(name, a):
    """Raise if ``a`` holds NaN or ±inf (they would silently poison every sum below)."""
    xp = backend.xp
    bad = int((~xp.isfinite(a)).sum())
    if bad:
        raise ValueError(f"{name}: expected only finite values, got {bad} NaN/inf entries; "
                         "drop or fix those samples first")


def _positive_int(name, value):
    """Raise unless ``value`` is a positive integer (Python or NumPy int, not bool)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")


def _symmetrise(a):
    """(A + Aᵀ)/2. A covariance is symmetric in exact arithmetic, but one computed as
    XᵀX/(N − 1) can come out asymmetric by round-off, and ``eigh`` reads only one
    triangle; averaging with the transpose makes the matrix it sees the one we mean."""
    return (a + a.T) / 2


def _clip_eigenvalues(lam):
    """Eigenvalues of a PSD matrix, with round-off noise set to exactly 0.

    A PSD matrix has λ ≥ 0, so clipping at 0 is the least we must do (√ of the
    λ ≈ −1e-17 that ``eigh`` returns for a singular matrix is NaN). But a zero
    eigenvalue also comes out as λ ≈ +1e-16 · λ_max, and the square root turns
    that noise into √1e-16 ≈ 1e-8 · √λ_max: a rank-deficient covariance would
    then be off by ~1e-7 instead of ~1e-15. ``eigh`` is only accurate to about
    D · ε · λ_max (ε = 2.2e-16, float64) in each eigenvalue, so anything below
    that tolerance is indistinguishable from 0, and we make it 0.
    """
    xp = backend.xp
    tol = lam.shape[0] * xp.finfo(xp.float64).eps * xp.abs(lam).max()
    return xp.where(lam > tol, lam, 0.0)


# How far below 0 an eigenvalue of a PSD matrix may come out by round-off, in units of
# D · ε · max|λ| (eigh's accuracy, see _clip_eigenvalues): 100 of them, far above round-off,
# far below the −0.1·λ_max or so of a matrix that is not a covariance at all.
PSD_SLACK = 100


def _sqrt_psd(a, name="covariance"):
    """Σ^½ of a symmetric positive semi-definite matrix: V diag(√λ) Vᵀ from a = V diag(λ) Vᵀ,
    with λ clipped at 0 (and round-off noise cut, see ``_clip_eigenvalues``). ValueError if a
    is not PSD beyond round-off (clipping would then hide that it is no covariance)."""
    xp = backend.xp
    lam, vecs = xp.linalg.eigh(_symmetrise(a))
    scale = float(xp.abs(lam).max()) if lam.size else 0.0
    if lam.size and float(lam.min()) < -PSD_SLACK * lam.shape[0] * float(xp.finfo(xp.float64).eps) * scale:
        raise ValueError(f"{name}: expected a positive semi-definite covariance, but its smallest eigenvalue is "
                         f"{float(lam.min()):.3g} (largest magnitude {scale:.3g}); pass a covariance, e.g. from mean_cov")
    root = xp.sqrt(_clip_eigenvalues(lam))
    return (vecs * root[None, :]) @ vecs.T        # V diag(√λ) Vᵀ without building diag


# ------------------------------------------------------------------------ Inception Score

def inception_score(probs, splits=10):
    """Inception Score of N samples from their class probabilities: returns (mean, std).

    For one part of the samples, with p(y) = mean over x of p(y|x) (the marginal):

        IS = exp( E_x KL( p(y|x) ‖ p(y) ) )
           = exp( (1/n) Σ_x Σ_y p(y|x) · (log p(y|x) − log p(y)) )

    It is high when each prediction is confident (p(y|x) peaked) and the
    predictions together cover the classes (p(y) flat): from 1 (every sample
    gets the same distribution) up to C (confident and perfectly balanced).

    ``probs`` is (N, C), rows are p(y|x): non-negative and summing to 1 within
    1e-6·C (4 ε·C for float16 input, whose softmax rows
    are only that exact). Rows are *not* renormalised (a row that sums to 0.9 is a bug upstream,
    e.g. logits passed instead of softmax outputs, and we would rather say so).
    The N rows are cut into ``splits`` consecutive parts at rows i·N // splits, as the
    original code (Salimans et al., 2016) does: no row is left out, and when splits does
    not divide N some parts are one row longer. The result is the mean and the population
    std (ddof=0) of the per-part scores.
    """
    xp = backend.xp
    _positive_int("splits", splits)
    given = getattr(probs, "dtype", numpy.dtype(numpy.float64))
    # a row of float16 softmax outputs sums to 1 only within a few of its ε (9.8e-4), not 1e-6
    per_class = max(1e-6, 4 * float(numpy.finfo(given).eps)) if numpy.issubdtype(given, numpy.floating) else 1e-6
    p = _matrix("probs", probs, hint="classes")
    n, c = p.shape
    if n < splits:
        raise ValueError(f"probs: expected at least splits={splits} rows so that every part has "
                         f"a sample, got {n}; pass more samples or a smaller splits")
    low = float(p.min())
    if low < 0:
        raise ValueError(f"probs: expected probabilities ≥ 0, got a minimum of {low:.3g}; "
                         "pass softmax outputs, not logits")
    worst = float(xp.abs(p.sum(axis=1) - 1).max())
    if worst > per_class * c:
        raise ValueError(f"probs: expected each row to sum to 1 within {per_class:.2g}·C = {per_class * c:.2g}, "
                         f"got a row off by {worst:.3g}; apply softmax, or divide each row by its sum")
    scores = [_part_score(p[i * n // splits:(i + 1) * n // splits]) for i in range(splits)]
    mean = sum(scores) / splits
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / splits)
    return mean, std


def _part_score(p):
    """exp(mean KL(p(y|x) ‖ p(y))) for one part (n, C) of the probabilities."""
    xp = backend.xp
    marginal = p.mean(axis=0, keepdims=True)                   # p(y), (1, C)
    # Naive: p * (log p − log p(y)). A confident prediction has p(y|x) = 0 for most
    # y, and log 0 = −inf, so 0 · (−inf) = NaN. The limit of t·log t as t → 0 is 0,
    # so a zero probability contributes nothing: take the log of 1 instead (any
    # finite number would do, it is multiplied by 0) and keep the term at 0.
    # p(y) > 0 wherever p(y|x) > 0 (the mean includes that row), so log p(y) is
    # finite wherever it counts.
    positive = p > 0
    safe_p = xp.where(positive, p, 1.0)
    safe_m = xp.where(marginal > 0, marginal, 1.0)
    terms = xp.where(positive, p * (xp.log(safe_p) - xp.log(safe_m)), 0.0)
    kl = terms.sum(axis=1)                                     # KL per sample, (n,)
    return math.exp(float(kl.mean()))


# ------------------------------------------------------------------ Fréchet distance, FID

def frechet_distance(mu1, cov1, mu2, cov2):
    """Fréchet (2-Wasserstein) distance² between N(μ1, Σ1) and N(μ2, Σ2):

        d² = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½)

    The only hard part is Tr((Σ1 Σ2)^½). Σ1 Σ2 is not symmetric, so the naive route
    (scipy.linalg.sqrtm of Σ1Σ2, a Schur decomposition) can return complex values
    and loses accuracy when Σ1 or Σ2 is near singular. Instead, with A = Σ2^½ Σ1^½:

    Σ1Σ2 has the eigenvalues of the symmetric PSD matrix M = Σ1^½ Σ2 Σ1^½ = AᵀA
    (for any square X, Y, XY and YX share eigenvalues; take X = Σ1^½, Y = Σ2 Σ1^½).
    The eigenvalues of AᵀA are the squared singular values s_i² of A, so (Σ1Σ2)^½
    has eigenvalues s_i, and the trace is their sum:

        Tr((Σ1 Σ2)^½) = Σ_i s_i(Σ2^½ Σ1^½)        (the nuclear norm of A)

    Two symmetric eigendecompositions (``eigh``, stable and real) give Σ1^½ and Σ2^½,
    and one SVD gives the s_i. Why the SVD, not the eigenvalues λ_i of M and √λ_i:
    an eigenvalue comes out with an absolute error of about ε·λ_max, and √ turns that
    into √(ε·λ_max) ≈ 1e-8·s_max, which drowns the genuinely small λ_i real features
    have (minigan's classifier gives λ_i down to 1e-11 against λ_max ≈ 8,000; cutting
    or blurring them moved an FID of 9.4 by 2e-4). A singular value comes out with an
    absolute error of about ε·s_max, with nothing to take the root of.

    ``mu1``, ``mu2`` are (D,), ``cov1``, ``cov2`` are (D, D) symmetric PSD; the
    covariances are symmetrised ((A + Aᵀ)/2) before use. Computed in float64. The
    result is clamped at 0 (a true distance² cannot be negative; round-off can
    put identical Gaussians at −1e-15).
    """
    xp = backend.xp
    mu1, mu2, cov1, cov2 = (_real_float64(n, a) for n, a in (("mu1", mu1), ("mu2", mu2), ("cov1", cov1),
                                                            ("cov2", cov2)))
    d = mu1.shape[0] if mu1.ndim == 1 else None
    if d == 0:
        raise ValueError("expected at least one feature (D ≥ 1), got mu1 of shape (0,)")
    if d is None or mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError("expected mu1, mu2 of shape (D,) and cov1, cov2 of shape (D, D) with the "
                         f"same D, got {tuple(mu1.shape)}, {tuple(mu2.shape)}, {tuple(cov1.shape)}, "
                         f"{tuple(cov2.shape)}")
    for name, a in (("mu1", mu1), ("cov1", cov1), ("mu2", mu2), ("cov2", cov2)):
        _finite(name, a)
    cov1, cov2 = _symmetrise(cov1), _symmetrise(cov2)
    diff = mu1 - mu2
    singular = xp.linalg.svd(_sqrt_psd(cov2, "cov2") @ _sqrt_psd(cov1, "cov1"), compute_uv=False)   # s_i of Σ2^½ Σ1^½
    trace_sqrt = singular.sum()                                                     # Tr((Σ1Σ2)^½)
    value = float(diff @ diff + xp.trace(cov1) + xp.trace(cov2) - 2 * trace_sqrt)
    return max(value, 0.0)


def mean_cov(x):
    """Mean (D,) and sample covariance (D, D) of the rows of x (N, D), in float64.

    Σ = (X − μ)ᵀ (X − μ) / (N − 1): rows are samples (numpy.cov's rowvar=False) and
    ddof = 1, the unbiased estimate, as numpy.cov's default and the reference FID
    code (TTUR, pytorch-fid) use, so scores are comparable with published ones.
    Centring first (rather than E[xxᵀ] − μμᵀ) avoids subtracting two large,
    nearly equal numbers when the features have a large mean.
    """
    x = _matrix("x", x, min_rows=2, why=" (a covariance needs two)")
    mu = x.mean(axis=0)
    centred = x - mu[None, :]
    return mu, (centred.T @ centred) / (x.shape[0] - 1)


def fid(features_a, features_b):
    """Fréchet Inception Distance between two sets of feature vectors (N_a, D), (N_b, D).

    Fit a Gaussian to each set (mean, ddof=1 covariance; see ``mean_cov``) and
    return ``frechet_distance`` of the two. 0 for identical sets; symmetric.
    Each set needs at least 2 rows (a covariance from one row is 0/0).
    """
    why = " (a covariance needs two)"
    a = _matrix("features_a", features_a, min_rows=2, why=why)
    b = _matrix("features_b", features_b, min_rows=2, why=why)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"expected features of the same width D, got features_a (…, {a.shape[1]}) "
                         f"and features_b (…, {b.shape[1]}); use the same feature extractor for both")
    return frechet_distance(*mean_cov(a), *mean_cov(b))


# ------------------------------------------------------------------- precision and recall

def _squared_distances(a, b, b_sq):
    """‖a_i − b_j‖² for all pairs: (C, D), (M, D), (M,) -> (C, M), float64.

    Naive: ((a[:, None] − b[None]) ** 2).sum(-1) builds a (C, M, D) array. The
    expansion ‖a‖² − 2 a·b + ‖b‖² is one matrix product and (C, M) memory; it
    cancels when a ≈ b, which float64 keeps to ~1e-16 · ‖a‖², and round-off can
    make a zero distance slightly negative, so clamp at 0.
    """
    xp = backend.xp
    d2 = (a * a).sum(axis=1)[:, None] - 2 * (a @ b.T) + b_sq[None, :]
    return xp.maximum(d2, 0, out=d2)


def _knn_radii_sq(x, k, chunk):
    """Squared distance from each row of x to its k-th nearest *other* row of x, (N,)."""
    xp = backend.xp
    n = x.shape[0]
    x_sq = (x * x).sum(axis=1)
    out = xp.empty(n)
    for start in range(0, n, chunk):
        d2 = _squared_distances(x[start:start + chunk], x, x_sq)   # (C, N)
        rows = xp.arange(d2.shape[0])
        d2[rows, rows + start] = xp.inf          # exclude the point itself (by index, so a
        #                                          duplicate elsewhere still counts as a neighbour)
        out[start:start + chunk] = xp.partition(d2, k - 1, axis=1)[:, k - 1]
    return out


def _coverages(real, fake, real_radii_sq, fake_radii_sq, chunk):
    """(precision, recall): fakes inside a real ball, reals inside a fake ball (boundary included).

    Both need the same real–fake distances, ‖f − r‖² = ‖r − f‖², so each (C, N_real)
    block of them is computed once and read both ways: along the real axis for the fakes
    of the block (precision), and along the fake axis for every real (recall, or-ed over
    the blocks). Naive: two passes, one per direction, each computing the whole matrix.
    """
    xp = backend.xp
    r_sq = (real * real).sum(axis=1)
    fakes_inside, reals_covered = 0, xp.zeros(real.shape[0], dtype=bool)
    for start in range(0, fake.shape[0], chunk):
        d2 = _squared_distances(fake[start:start + chunk], real, r_sq)             # (C, N_real)
        fakes_inside += int((d2 <= real_radii_sq[None, :]).any(axis=1).sum())
        reals_covered |= (d2 <= fake_radii_sq[start:start + chunk, None]).any(axis=0)
    return fakes_inside / fake.shape[0], int(reals_covered.sum()) / real.shape[0]


def precision_recall(real_features, fake_features, k=3, chunk=1000):
    """Improved precision and recall (Kynkäänniemi et al., 2019): returns (precision, recall).

    Around each real point r put a ball of radius R_k(r), the distance to its k-th
    nearest *other* real point; their union estimates the support of the real
    distribution. Likewise for the fake points.

        precision = (1/N_fake) Σ_f  1[ ∃ r: ‖f − r‖ ≤ R_k(r) ]   (fakes that look real)
        recall    = (1/N_real) Σ_r  1[ ∃ f: ‖r − f‖ ≤ R_k(f) ]   (reals the fakes cover)

    Distances are compared squared (no square roots needed). They are computed by
    ‖a‖² − 2a·b + ‖b‖² in float64, ``chunk`` rows at a time: memory is about
    chunk × N × 8 bytes per (C, N) block (80 MB for chunk=1000, N=10,000; the k-NN
    step holds a second such block for ``partition``). Each set needs at least
    k + 1 rows (a point plus k others).
    """
    _positive_int("k", k)
    _positive_int("chunk", chunk)
    why = f" (k + 1 for k={k}: a point and its k neighbours; or lower k)"
    real = _matrix("real_features", real_features, min_rows=k + 1, why=why)
    fake = _matrix("fake_features", fake_features, min_rows=k + 1, why=why)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"expected features of the same width D, got real_features (…, "
                         f"{real.shape[1]}) and fake_features (…, {fake.shape[1]}); use the same "
                         "feature extractor for both")
    return _coverages(real, fake, _knn_radii_sq(real, k, chunk), _knn_radii_sq(fake, k, chunk), chunk)


def ranks(a):
    """The rank of each entry of the 1-D sequence a, 1 for the smallest; tied entries share
    the mean of the ranks they span (so [5, 7, 7] has ranks [1, 2.5, 2.5])."""
    a = numpy.asarray(a, dtype=numpy.float64)
    order = numpy.argsort(a, kind="stable")
    r = numpy.empty(len(a))
    r[order] = numpy.arange(1, len(a) + 1)             # ranks 1…n, ties broken by position
    values, counts = numpy.unique(a, return_counts=True)
    for value in values[counts > 1]:
        r[a == value] = r[a == value].mean()           # each tie group gets its mean rank
    return r


def rank_correlation(a, b):
    """Spearman's ρ: the Pearson correlation of the ranks of a and of b, in [−1, 1].

    ρ = 1 when b rises whenever a rises (in any way, not only linearly), −1 when it falls, and
    near 0 when the order of one says nothing of the other. Ties get mean ranks. This is the
    number the WGAN paper's first claim is about: does the critic's estimate fall as sample
    quality improves (docs/wgan.md)? Needs at least 2 pairs, with neither sequence constant.
    """
    a, b = numpy.asarray(a, dtype=numpy.float64), numpy.asarray(b, dtype=numpy.float64)
    if a.ndim != 1 or a.shape != b.shape or len(a) < 2:
        raise ValueError(f"rank_correlation: expected two 1-D sequences of the same length ≥ 2, "
                         f"got shapes {a.shape} and {b.shape}")
    if not (numpy.isfinite(a).all() and numpy.isfinite(b).all()):
        raise ValueError("rank_correlation: the sequences must be finite (a NaN or inf has no rank)")
    ra, rb = ranks(a) - (len(a) + 1) / 2, ranks(b) - (len(b) + 1) / 2     # centred ranks
    scale = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    if scale == 0:
        raise ValueError("rank_correlation: a constant sequence has no order to correlate")
    return float((ra * rb).sum() / scale)
