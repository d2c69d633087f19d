"""A CuPy stand-in for machines without a GPU: NumPy does the arithmetic, CuPy's rules guard the host.

Most bugs of a CuPy path that has never run on a GPU are host/device mix-ups, and all of them
can be caught on the CPU (issue 22, item 5). This module is an array module shaped like
``cupy`` whose arrays live in a pretend device memory and refuse, as CuPy's do:

* implicit conversion to NumPy: ``numpy.asarray(a)``, matplotlib, ``numpy.savez``, ``json``
  (CuPy's ``ndarray.__array__`` raises TypeError; ``a.get()``/``backend.to_numpy`` is the way);
* host arrays mixed into device computations: ``a + host``, ``xp.dot(host, a)``, ``a[:] = host``
  (CuPy's kernels accept device arrays, Python scalars and NumPy scalars only);
* a device scalar where Python wants an index: ``range(a.sum())`` (CuPy's arrays have no
  ``__index__``), while ``float(a)``, ``int(a)``, ``bool(a)`` and ``f"{a:.3f}"`` work, as there;
* names CuPy lacks: an ``xp.<name>`` or array method CuPy does not have (checked against the
  installed ``cupy`` when there is one), a generator method CuPy's ``Generator`` does not offer.

Like CuPy, a reduction or an element gives a 0-d device array, never a NumPy scalar, and a
NumPy function applied to a device array dispatches to the device (``__array_function__``)
and returns a device array.

``tests/conftest.py`` offers it as the third backend of the ``xp`` fixture ("cupy-sim"):
``backend.xp`` is this module and ``backend.name`` is "cupy", so the code under test takes
its CuPy branches. It is test-only: it makes nothing faster and must never reach minigan/.
The rules above come from CuPy's own source (cupy/_core/core.pyx: ``__array__``,
``__array_ufunc__``, ``__array_function__``, the conversions; cupy/_core/_scalar.pyx: the
scalar types a kernel accepts; cupy/_core/_routines_indexing.pyx: host indices are copied to
the device, host values are refused by slice assignment).
"""
import types
from contextlib import contextmanager

import numpy

try:                                     # the names CuPy really has, when it is installed
    import cupy as _cupy
except Exception:                        # not installed, or broken: accept NumPy's names
    _cupy = None

REFUSED = ("Implicit conversion to a NumPy array is not allowed. "
           "Please use `.get()` to construct a NumPy array explicitly.")   # CuPy's own words
# What CuPy's Generator offers (cupy.random.Generator in CuPy 14); the installed CuPy wins.
GENERATOR_METHODS = ({m for m in dir(_cupy.random.Generator) if not m.startswith("_")} if _cupy else
                     {"beta", "binomial", "chisquare", "dirichlet", "exponential", "f", "gamma",
                      "geometric", "hypergeometric", "integers", "logseries", "poisson", "power",
                      "random", "standard_exponential", "standard_gamma", "standard_normal", "uniform"})
# Functions that copy host data to the device on purpose: the explicit transfers.
TRANSFERS = {"asarray", "array", "asanyarray"}


def _cupy_has(owner, name):
    return _cupy is None or hasattr(owner, name)


def device(x):
    """Unwrap what goes into a device computation; refuse host arrays as CuPy's kernels do."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, numpy.ndarray):
        raise TypeError(f"Unsupported type {type(x)} (a NumPy array mixed into a device "
                        "computation; put it on the device with backend.asarray first)")
    if isinstance(x, (list, tuple)):
        return type(x)(device(v) for v in x)
    return x


def wrap(r):
    """Results stay on the device: NumPy arrays and NumPy scalars become device arrays (0-d for
    a scalar, as CuPy returns); tuples and lists are wrapped element by element."""
    if isinstance(r, (numpy.ndarray, numpy.generic)):
        return ndarray(numpy.asarray(r))
    if isinstance(r, list):
        return [wrap(v) for v in r]
    if isinstance(r, tuple):             # NumPy's named results (EighResult) are plain tuples in CuPy
        return tuple(wrap(v) for v in r)
    return r


def _kwargs(kwargs):
    return {k: device(v) for k, v in kwargs.items()}


def _call(fn, args, kwargs):
    return wrap(fn(*device(args), **_kwargs(kwargs)))


def _binary(op):
    def forward(self, other):
        return wrap(op(self._a, device(other)))

    def reflected(self, other):
        return wrap(op(device(other), self._a))
    return forward, reflected


def _inplace(op):
    def method(self, other):
        op(self._a, device(other), out=self._a)
        return self
    return method


class ndarray:
    """A device array: a NumPy array that only this module's functions may touch directly."""

    __slots__ = ("_a",)
    __hash__ = None

    def __init__(self, a):
        self._a = a

    # --- the explicit ways back to the host, and the implicit one CuPy refuses -----------------
    def get(self, stream=None, order="C", out=None):
        return numpy.array(self._a, order=order, copy=True)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(REFUSED)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            kwargs["out"] = tuple(device(o) for o in kwargs["out"])
        return wrap(getattr(ufunc, method)(*device(inputs), **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        if not _cupy_has(_cupy, func.__name__):
            return NotImplemented
        return _call(func, args, kwargs)

    # --- attributes and methods: NumPy's, where CuPy's ndarray has them ------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: ndarray(self._a.T))

    def __getattr__(self, name):
        if name.startswith("__") or not _cupy_has(_cupy and _cupy.ndarray, name):
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        value = getattr(self._a, name)
        if callable(value):
            return lambda *args, **kwargs: _call(value, args, kwargs)
        return wrap(value)

    def tolist(self):
        return self._a.tolist()

    def item(self, *args):
        return self._a.item(*args)

    # --- indexing: host indices are copied over; slice assignment refuses host values ---------
    def __getitem__(self, key):
        return wrap(self._a[device_index(key)])

    def __setitem__(self, key, value):
        key = device_index(key)
        if isinstance(value, numpy.ndarray) and value.ndim > 0 and _basic(key):
            raise TypeError("non-scalar numpy.ndarray cannot be used for fill (CuPy refuses "
                            "assigning a host array into a device slice; use backend.asarray)")
        self._a[key] = value._a if isinstance(value, ndarray) else value

    # --- conversions CuPy performs (each one a device-to-host copy) ---------------------------
    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __bool__(self):
        return bool(self._a)

    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    def __neg__(self):
        return wrap(-self._a)

    def __pos__(self):
        return wrap(+self._a)

    def __abs__(self):
        return wrap(abs(self._a))

    def __invert__(self):
        return wrap(~self._a)


for _name, _op in [("add", numpy.add), ("sub", numpy.subtract), ("mul", numpy.multiply),
                   ("truediv", numpy.true_divide), ("floordiv", numpy.floor_divide),
                   ("mod", numpy.remainder), ("pow", numpy.power), ("matmul", numpy.matmul),
                   ("and", numpy.bitwise_and), ("or", numpy.bitwise_or), ("xor", numpy.bitwise_xor)]:
    _f, _r = _binary(_op)
    setattr(ndarray, f"__{_name}__", _f)
    setattr(ndarray, f"__r{_name}__", _r)
    if _name != "matmul":
        setattr(ndarray, f"__i{_name}__", _inplace(_op))
for _name, _op in [("lt", numpy.less), ("le", numpy.less_equal), ("gt", numpy.greater),
                   ("ge", numpy.greater_equal), ("eq", numpy.equal), ("ne", numpy.not_equal)]:
    setattr(ndarray, f"__{_name}__", _binary(_op)[0])


def device_index(key):
    """An index on the device: device arrays unwrapped, host index arrays accepted (CuPy copies
    them over, cupy/_core/_routines_indexing.pyx)."""
    if isinstance(key, ndarray):
        return key._a
    if isinstance(key, tuple):
        return tuple(device_index(k) for k in key)
    return key


def _basic(key):
    """True for an index made of ints, slices, None and Ellipsis only (a view, no gather)."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in parts)


class Ufunc:
    """A NumPy ufunc that refuses host arrays, as CuPy's ufuncs do."""

    def __init__(self, ufunc):
        self._u = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _call(self._u, args, kwargs)

    def __getattr__(self, name):                  # reduce, outer, at, ...
        method = getattr(self._u, name)
        return (lambda *args, **kwargs: _call(method, args, kwargs)) if callable(method) else method


class Generator:
    """A device random generator: NumPy's stream, CuPy's Generator's methods only."""

    def __init__(self, seed=None):
        self._gen = numpy.random.default_rng(seed)

    def __getattr__(self, name):
        if name not in GENERATOR_METHODS:
            raise AttributeError(f"'cupy.random.Generator' has no method {name!r} "
                                 f"(CuPy's Generator offers {', '.join(sorted(GENERATOR_METHODS))})")
        method = getattr(self._gen, name)
        return lambda *args, **kwargs: _call(method, args, kwargs)


class _Namespace(types.ModuleType):
    """``cupy`` (or one of its submodules): NumPy's names, wrapped to keep results on the device."""

    def __init__(self, name, host, real):
        super().__init__(name)
        self._host, self._real = host, real

    def __getattr__(self, name):
        if name.startswith("__") or not (_cupy is None or hasattr(self._real, name)):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(self._host, name)
        if isinstance(value, numpy.ufunc):
            return Ufunc(value)
        if isinstance(value, types.ModuleType):
            return _Namespace(f"{self.__name__}.{name}", value, getattr(self._real, name, None))
        if callable(value) and not isinstance(value, type):
            if name in TRANSFERS:
                return lambda a, *args, **kwargs: wrap(value(_transfer(a), *args, **_kwargs(kwargs)))
            return lambda *args, **kwargs: _call(value, args, kwargs)
        return value                              # dtypes (xp.float32 is numpy.float32), constants


def _transfer(a):
    """A host→device copy's input: device arrays unwrapped, host data taken as it is."""
    if isinstance(a, ndarray):
        return a._a
    if isinstance(a, (list, tuple)):
        return type(a)(_transfer(v) for v in a)
    return a


class _Random(_Namespace):
    def default_rng(self, seed=None):
        return Generator(seed)


class _Device:
    def __init__(self, index=0):
        self.id = index

    def synchronize(self):
        pass


def asnumpy(a, stream=None, order="C", out=None):
    return a.get() if isinstance(a, ndarray) else numpy.asarray(a)


cupy = _Namespace("cupy", numpy, _cupy)
cupy.ndarray = ndarray
cupy.asnumpy = asnumpy
cupy.random = _Random("cupy.random", numpy.random, _cupy and _cupy.random)
cupy.cuda = types.SimpleNamespace(Device=_Device)


@contextmanager
def active():
    """The stand-in as minigan's backend inside the block (``backend.xp`` is it, ``backend.name``
    is "cupy", so the code under test takes its CuPy branches); the previous backend after."""
    from minigan import backend
    previous = backend.xp, backend.name
    backend.xp, backend.name = cupy, "cupy"
    try:
        yield cupy
    finally:
        backend.xp, backend.name = previous
