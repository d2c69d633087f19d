"""Configuration dataclasses: a field is its paper's default plus one line of help.

Every GAN variant (``minigan.gans``) and the classifier describe their settings as a
dataclass of such fields. The command line reads the help from each field's metadata
(``fields(cls)[i].metadata["help"]``), so a new field is a new, documented flag at once.

``validate_sgd_game`` holds the checks that the original GAN and the conditional GAN share
(both are trained with pylearn2's SGD, momentum ramp and dropout); a variant calls it from
its own ``validate`` with the names of its dropout and initialisation fields.
"""
import math
from dataclasses import field, fields


def param(default, help):
    """A Config field: the paper's default and its one-line help, kept together.

    The help travels in the field's metadata (``fields(Config)[i].metadata["help"]``),
    which is where ``minigan train --help`` reads it, so the command line never needs
    this file's source text.
    """
    return field(default=default, metadata={"help": help})


def as_dict(cfg):
    """{field name: value} of a config dataclass, in field order (what checkpoints store)."""
    return {f.name: getattr(cfg, f.name) for f in fields(cfg)}


def require_field(cfg, name, ok, allowed, why=""):
    """One check of a ``validate``: raise ValueError unless ``ok``, naming the field,
    the allowed values, why (when it is not obvious) and the value given."""
    if not ok:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be {allowed}{reason}, got {getattr(cfg, name)}")


def validate_basics(cfg):
    """The checks every variant's config shares, after its own: CHOICES, every number
    non-negative (NaN refused: ``not value >= 0`` is true for NaN), COUNTS at least 1, n_train,
    batch_size, and scores against parzen_every."""
    for name, allowed in cfg.CHOICES.items():
        if getattr(cfg, name) not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {getattr(cfg, name)!r}")
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.type in ("int", "float", int, float) and not value >= 0:
            raise ValueError(f"{f.name} must be non-negative, got {value}")
    for name in cfg.COUNTS:
        require_field(cfg, name, getattr(cfg, name) >= 1, "at least 1")
    # 50,000: the paper's training split of MNIST (images 50,000–59,999 validate).
    if not 1 <= cfg.n_train <= 50000:
        raise ValueError(f"n_train must be in 1…50000, got {cfg.n_train}")
    if not 1 <= cfg.batch_size <= cfg.n_train:
        raise ValueError(f"batch_size must be in 1…n_train ({cfg.n_train}), got {cfg.batch_size}")
    require_field(cfg, "scores", cfg.scores == "parzen" or cfg.parzen_every >= 1, "'parzen' when "
                  "parzen_every is 0", "IS and FID are recorded at the Parzen evaluations, and there are none")
    return cfg


def validate_sgd_game(cfg, keeps, scales, iranges):
    """Raise ValueError naming the field, the allowed values and the given one.

    For a config with the original GAN's training fields (CHOICES, COUNTS, momentum and its
    ramp, lr, lr_decay, min_lr, g_bias_clip, n_train, batch_size, scores, parzen_every);
    ``keeps``, ``scales`` and ``iranges`` name its dropout include probabilities, dropout
    scales and weight ranges. Fields with a range of their own are checked first, so that
    their message gives that range; then ``validate_basics``: every other number must be non-negative. Each
    comparison is written so that NaN fails it (NaN compares false with everything, so
    ``not value >= 0`` is true for NaN): NaN is refused everywhere.
    """
    for name in ("momentum", "final_momentum"):
        require_field(cfg, name, 0 <= getattr(cfg, name) < 1, "in [0, 1)",
                      "in v ← μ v − η g, μ ≥ 1 never lets old gradients fade: v stays large or grows")
    for name in keeps:
        require_field(cfg, name, 0 < getattr(cfg, name) <= 1, "in (0, 1]",
                      "the probability that dropout keeps a unit; 0 would keep none")
    for name in scales:
        require_field(cfg, name, 0 < getattr(cfg, name) < math.inf, "a finite number > 0",
                      "kept units are multiplied by it, usually 1 / keep")
    for name in iranges:
        require_field(cfg, name, 0 <= getattr(cfg, name) < math.inf, "a finite number ≥ 0",
                      "weights start uniform in ±irange")
    require_field(cfg, "lr_decay", 1 <= cfg.lr_decay < math.inf, "a finite number ≥ 1",
                  "η is divided by it after every step, so below 1 η would grow without bound")
    # 0.5 is where c = 1 − c: beyond it [c, 1 − c] is empty. c > 0 keeps logit(c) finite.
    require_field(cfg, "g_bias_clip", 0 < cfg.g_bias_clip < 0.5, "in (0, 0.5)",
                  "pixel means are clipped to [c, 1 − c], which needs 0 < c < 1 − c")
    for name in ("lr", "min_lr"):
        if not 0 < getattr(cfg, name) < math.inf:
            raise ValueError(f"{name} must be a finite number > 0 (a learning rate of 0 never "
                             f"moves θ), got {getattr(cfg, name)}")
    validate_basics(cfg)
    require_field(cfg, "momentum_saturate", cfg.momentum_saturate >= cfg.momentum_start,
                  f"at least momentum_start = {cfg.momentum_start}", "the ramp of μ cannot end before it starts")
    return cfg
