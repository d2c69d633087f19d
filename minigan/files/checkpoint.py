"""Checkpoints: one .npz file of named arrays plus a JSON header, written atomically.

Safety: files are read with ``allow_pickle=False``, so loading a checkpoint can
never run code; everything that is not an array (counters, configuration,
random-generator states) travels as one JSON string under the key ``meta``.

Atomicity: the file is written under a temporary name in the same folder,
flushed to disk, then renamed over the target (``atomic.atomic_write``). A rename
within one file system is atomic, so a crash leaves either the old checkpoint or
the new one, never a half-written file.

Damage: a file can still be damaged after it was written (a bad disk, a partial
copy, an edit). ``load`` reads every byte it returns inside one ``try`` and turns
whatever the zip and .npy readers raise into one ``CheckpointError`` line:
``PATH is damaged (<reason>); use another checkpoint, e.g. best.npz``.
"""
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy

from .. import backend
from .atomic import atomic_write

FORMAT = "minigan-checkpoint-1"

# The first four bytes of every zip archive (a "local file header"; PKWARE's APPNOTE.TXT,
# section 4.3.7). numpy.load looks at them too: without them it takes the file for a pickle.
ZIP_SIGNATURE = b"PK\x03\x04"

# What the zip and .npy readers raise on bad bytes. Found by flipping every byte of a small
# checkpoint and truncating it at every length (tests/test_checkpoint.py does it again):
# BadZipFile (bad CRC-32, bad header, no central directory), NotImplementedError (a flipped
# compression method or version), EOFError (truncated data), ValueError (a bad .npy header,
# an object array), and, for a damaged .npy header claiming a huge shape, MemoryError.
_DAMAGE = (zipfile.BadZipFile, zlib.error, struct.error, EOFError, OSError, ValueError, KeyError,
           NotImplementedError, MemoryError, OverflowError)


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, damaged, or not a minigan checkpoint. ``reason``: for
    a damaged one, the few words saying what is wrong with it (else None)."""
    reason = None


def damaged(path, reason):
    """The one-line error for a damaged checkpoint, pointing at the file to use instead."""
    path = Path(path)
    other = "checkpoint.npz" if path.name == "best.npz" else "best.npz"
    err = CheckpointError(f"{path} is damaged ({reason}); use another checkpoint, e.g. {other}")
    err.reason = reason
    return err


def save(path, arrays, meta):
    """Write {name: array} and the JSON-able dict ``meta`` to ``path`` atomically."""
    payload = {name: backend.to_numpy(a) for name, a in arrays.items()}
    payload["meta"] = numpy.array(json.dumps(dict(meta, format=FORMAT)))
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        numpy.savez(f, **payload)
        f.flush()
        os.fsync(f.fileno())            # on disk before the rename makes it the checkpoint
    return Path(path)


def _reason(err):
    """A few words saying what kind of damage the reader's exception reports."""
    text = str(err)
    if isinstance(err, zipfile.BadZipFile) and text.startswith("Bad CRC-32"):
        name = text.split("'")[1] if "'" in text else "?"
        return f"bad CRC-32 in the array {name.removesuffix('.npy')}"
    if isinstance(err, zipfile.BadZipFile) and text == "File is not a zip file":
        return "truncated: no zip directory at its end"
    if isinstance(err, EOFError):
        return "truncated"
    if isinstance(err, ValueError) and "allow_pickle" in text:
        return "an array of Python objects, refused: loading it could run code"
    if isinstance(err, KeyError):
        return f"missing key {err}"
    if isinstance(err, MemoryError):
        return "an array header claims an impossible size"
    first_line = text.splitlines()[0] if text else type(err).__name__
    return f"{type(err).__name__}: {first_line[:80]}"


def wanted(name, keep):
    """True if the member ``name`` is read: 'meta' always, other arrays when the part of their
    name before the first '.' is in ``keep`` ('G' for 'G.0.W'), every array when keep is None.
    A member no loader asked for (added by someone else, or a huge one) is never read."""
    return name == "meta" or keep is None or name.split(".")[0] in keep


def _read(path, keep=None):
    """The arrays of the .npz at ``path`` that ``wanted(name, keep)`` asks for, read now:
    numpy.load is lazy, and a bad CRC-32 only shows when an array is read, so every array is
    read inside the caller's ``try``."""
    with open(path, "rb") as f:
        if f.read(len(ZIP_SIGNATURE)) != ZIP_SIGNATURE:
            raise damaged(path, "not a zip archive: wrong first bytes")
        f.seek(0)
        with numpy.load(f, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files if wanted(name, keep)}


def load(path, keep=None):
    """Return (arrays, meta) from a checkpoint written by ``save``; CheckpointError if it cannot.
    ``keep``: the name prefixes of the arrays to read ('G', 'opt_g', …; see ``wanted``)."""
    arrays, meta = _load(path, keep)
    for name, a in arrays.items():
        # minigan never writes a non-finite array (a diverging run stops before its write), so
        # NaN weights mean damage, and a score of them would print "nan ± nan" as if it were one
        if a.dtype.kind == "f" and not numpy.isfinite(a).all():
            raise damaged(path, f"its array {name!r} holds NaN or inf, which minigan never saves")
    return arrays, meta


def load_meta(path):
    """The 'meta' entry of a checkpoint alone, with load's checks of it: one zip member read, not
    the arrays (for a second look at a file that ``load`` has read already)."""
    return _load(path, keep=())[1]


def _load(path, keep=None):
    path = Path(path)
    if not path.is_file():
        if path.name == "best.npz" and (path.parent / "checkpoint.npz").is_file():
            raise CheckpointError(f"no {path} yet: a run writes it at its first Parzen evaluation (the end of "
                                  f"epoch --parzen-every, 10 by default); use {path.parent / 'checkpoint.npz'} meanwhile")
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        arrays = _read(path, keep)
    except PermissionError as err:
        raise CheckpointError(f"cannot read {path}: {err.strerror}; check its permissions") from None
    except _DAMAGE as err:
        raise damaged(path, _reason(err)) from None
    if "meta" not in arrays:
        raise damaged(path, "missing key 'meta'")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except ValueError:
        raise damaged(path, "its 'meta' entry is not JSON") from None
    except RecursionError:               # JSON nested thousands deep: never written by minigan
        raise damaged(path, "its 'meta' entry is JSON nested too deep to read") from None
    if not isinstance(meta, dict):
        raise damaged(path, f"its 'meta' entry is a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}, expected {FORMAT}")
    return arrays, meta


def require_shapes(path, arrays, expected, prefix="", from_config=True):
    """Raise the damaged-file error unless ``arrays`` (read from the file at ``path``) have
    exactly the names and shapes of ``expected`` ({name: shape}); ``prefix`` names them in the
    file ('G' for G's own names '0.W', …). A loader calls it before it builds what the file's
    configuration describes (``from_config``), so that a configuration claiming huge layers is
    refused as damage instead of being allocated; the trainer, to check a file against networks
    it has built."""
    full = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
    for name in sorted(set(expected) - set(arrays)):
        raise damaged(path, f"missing key '{full(name)}'")
    for name in sorted(set(arrays) - set(expected)):
        raise damaged(path, f"an unexpected array '{full(name)}'")
    for name in sorted(expected):
        got, want = tuple(arrays[name].shape), tuple(expected[name])
        if got != want:
            raise damaged(path, f"its array {full(name)} has shape {got}, but its configuration builds {want}"
                          if from_config else f"the array {full(name)} has shape {got}, expected {want}")


def split(arrays, prefix):
    """The arrays whose names start with ``prefix + '.'``, with the prefix removed."""
    cut = len(prefix) + 1
    return {name[cut:]: a for name, a in arrays.items() if name.startswith(prefix + ".")}


def require(path, meta, *keys):
    """Raise the damaged-file error unless ``meta`` has every key (used by the loaders)."""
    for key in keys:
        if key not in meta:
            raise damaged(path, f"missing key {key!r} in its 'meta' entry")
