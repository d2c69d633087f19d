"""One switch between NumPy (CPU) and CuPy (GPU).

Every other module does its array work through ``backend.xp``: the active
array module, ``numpy`` or ``cupy``. Layers never ask which one it is; they
only call ``xp.dot``, ``xp.maximum`` and friends, which both modules provide.

Importing minigan always starts on NumPy, so ``backend.xp`` is usable at once and
an import never fails because of the environment. Choose the backend before
building networks::

    from minigan import backend
    backend.use("cupy")

The environment variable ``MINIGAN_BACKEND`` is read in one place only,
``requested()``, which the command line calls before it runs a command
(``--backend`` wins over the variable). A script of your own can honour it the
same way: ``backend.use(backend.requested() or "numpy")``.

Arrays cross back to NumPy only at the edges (plots, files) via ``to_numpy``.
"""
import contextlib
import os

import numpy

NAMES = ("numpy", "cupy")
ENV = "MINIGAN_BACKEND"   # the environment variable that ``requested()`` reads

xp = numpy       # the active array module
name = "numpy"   # its name, one of NAMES


class BackendError(RuntimeError):
    """The requested backend cannot run on this machine."""


def _import_cupy():
    try:
        import cupy
    except ImportError:
        raise BackendError(
            "backend 'cupy' needs CuPy, which is not installed. Install the wheel "
            "that matches your CUDA toolkit, e.g. pip install 'minigan[gpu]' "
            "(CUDA 12: cupy-cuda12x) or pip install cupy-cuda13x for CUDA 13; "
            "or run on the CPU with backend 'numpy'.") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDARuntimeError when no driver is present
        count, why = 0, f" ({err})"
    else:
        why = ""
    if count == 0:
        raise BackendError(
            f"CuPy is installed but no CUDA GPU is visible{why}. Check nvidia-smi "
            "and CUDA_VISIBLE_DEVICES, or use backend 'numpy'.")
    return cupy


def use(backend_name):
    """Make ``backend_name`` ('numpy' or 'cupy') the active backend; return its module."""
    global xp, name
    if backend_name not in NAMES:
        raise ValueError(f"unknown backend {backend_name!r}; choose one of: {', '.join(NAMES)}")
    xp = numpy if backend_name == "numpy" else _import_cupy()
    name = backend_name
    return xp


def requested(flag=None):
    """The backend a command was asked for: ``flag`` (``--backend``) if given, else
    ``$MINIGAN_BACKEND`` if set, else None (nothing asked: keep the active one).

    Reading the variable here, when a command starts, rather than at import, means a
    wrong value cannot break ``import minigan`` or ``minigan train --help``, and
    ``--backend`` can override it. Raises ValueError (one line) for an unknown name in
    the variable; ``flag`` is checked by ``use``.
    """
    if flag:
        return flag
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    if value not in NAMES:
        raise ValueError(f"{ENV}={value!r} is not a backend; choose {' or '.join(NAMES)} (or unset it)")
    return value


def gpu_available():
    """True when the 'cupy' backend can be used here."""
    try:
        _import_cupy()
    except BackendError:
        return False
    return True


def to_numpy(a):
    """Return ``a`` as a NumPy array (copies from the GPU when needed)."""
    if isinstance(a, numpy.ndarray):
        return a
    if hasattr(a, "get"):          # cupy.ndarray and cupy scalars
        return a.get()
    return numpy.asarray(a)


def asarray(a, dtype=None):
    """Put ``a`` on the active backend (copies host data to the GPU when needed)."""
    return xp.asarray(a, dtype=dtype)


def rng(seed=None):
    """A new seeded random generator of the active backend (numpy or cupy Generator)."""
    return xp.random.default_rng(seed)


def synchronize():
    """Wait for queued GPU work (a no-op on NumPy); call before reading a timer."""
    if name == "cupy":
        xp.cuda.Device().synchronize()


shapes_only = False   # True inside ``dry_run()``: layers then build placeholders, not arrays


@contextlib.contextmanager
def dry_run():
    """Build networks for their shapes alone: inside, a layer's parameters are zero-stride
    placeholders (``placeholder``) that take no memory whatever their size. A loader uses it to
    compare the shapes in a checkpoint with those its configuration would build, before it
    builds them (a damaged configuration can claim layers of hundreds of GiB)."""
    global shapes_only
    before, shapes_only = shapes_only, True
    try:
        yield
    finally:
        shapes_only = before


def placeholder(shape, dtype):
    """A read-only NumPy array of ``shape`` that takes one element of memory (all strides 0)."""
    return numpy.broadcast_to(numpy.zeros((), dtype=dtype), shape)
