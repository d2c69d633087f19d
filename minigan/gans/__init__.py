"""The GAN variants, one module each, and the registry that the trainer and the command line read.

A variant is a module of this package that provides, under these names:

    MODEL, PAPER, CONDITIONAL   its --model spelling, its paper, whether G and D see a label y
    PAPER_NATS, PAPER_SE        the paper's Parzen log-likelihood on MNIST (Table 1) and its ± (None if it has none)
    Config                      a dataclass of the paper's defaults, one help per field, validate(), as_dict()
    networks(cfg, images)       (G, D), built from the seed in cfg
    optimizers(cfg, G, D)       (opt_g, opt_d)
    schedules(cfg)              (η at step t, μ at epoch e, or None where there is no momentum)
    sample_noise(rng, B, cfg)   z, (B, Z)
    generator_input(z, y)       what G.forward takes: z, or [z, y] for a conditional G
    generate(G, inputs, gen)    G's samples for those inputs, any noise inside G drawn from gen
    sample_images(G, cfg, n, seed, labels=None)    n samples as a NumPy array (n, 784)
    batches_per_step(cfg, step) minibatches of real images step number ``step`` (0-based) draws
    STATISTICS                  the names of the step's statistics that are summed per epoch
    epoch_statistics(t, samples) (optional) extra columns of an epoch's metrics row, from the epoch's
                                evaluation samples (None without validation images), e.g. the WGAN's w_valid
    train_step(t)               one step, reading t.G, t.D, t.opt_g, t.opt_d, t.cfg, t.next_batch(), t.noise(), t.rng

Everything else (the loop, schedules applied, metrics, figures, the divergence guard,
checkpoints and resume, the command line, sampling and evaluation) is shared and written
once, in minigan/program/ and minigan/evaluation/. Adding a variant is one module here and
one line in VARIANTS below. See docs/variants.md.
"""
from . import cgan, gan, wgan, wgan_gp

# Every variant, by its --model spelling. Registering a new one is this line.
VARIANTS = {module.MODEL: module for module in (gan, cgan, wgan, wgan_gp)}
DEFAULT = gan.MODEL


def variant(model):
    """The module of the variant called ``model``; a one-line ValueError naming the choices."""
    if model not in VARIANTS:
        raise ValueError(f"--model must be one of {', '.join(VARIANTS)}; got {model!r}")
    return VARIANTS[model]


def of(cfg):
    """The variant whose Config ``cfg`` is."""
    return variant(type(cfg).MODEL)
