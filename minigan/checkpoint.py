"""Checkpoints: one .npz file of named arrays plus a JSON header, written atomically.

Safety: files are read with ``allow_pickle=False``, so loading a checkpoint can
never run code; everything that is not an array (counters, configuration,
random-generator states) travels as one JSON string under the key ``meta``.

Atomicity: the file is written under a temporary name in the same folder,
flushed to disk, then renamed over the target (``atomic.atomic_write``). A rename
within one file system is atomic, so a crash leaves either the old checkpoint or
the new one, never a half-written file.
"""
import json
import os
from pathlib import Path

import numpy

from . import backend
from .atomic import atomic_write

FORMAT = "minigan-checkpoint-1"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or not a minigan checkpoint."""


def save(path, arrays, meta):
    """Write {name: array} and the JSON-able dict ``meta`` to ``path`` atomically."""
    payload = {name: backend.to_numpy(a) for name, a in arrays.items()}
    payload["meta"] = numpy.array(json.dumps(dict(meta, format=FORMAT)))
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        numpy.savez(f, **payload)
        f.flush()
        os.fsync(f.fileno())            # on disk before the rename makes it the checkpoint
    return Path(path)


def load(path):
    """Return (arrays, meta) from a checkpoint written by ``save``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with numpy.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path} is not a readable minigan checkpoint ({err})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}, expected {FORMAT}")
    return arrays, meta


def split(arrays, prefix):
    """The arrays whose names start with ``prefix + '.'``, with the prefix removed."""
    cut = len(prefix) + 1
    return {name[cut:]: a for name, a in arrays.items() if name.startswith(prefix + ".")}
