"""MNIST: an IDX reader and a loader that finds, downloads, verifies and caches the files.

Where the four files are looked for:
  * a folder passed as ``folder=`` (the ``--data`` flag on the command line) is the
    only place looked in: it must exist and hold the files. Falling back to another
    folder would hide a typo in the name and quietly train on other files.
  * Otherwise, in order: the folder in the environment variable ``MINIGAN_DATA``,
    then the per-user cache, ``$XDG_CACHE_HOME/minigan/mnist`` (default
    ``~/.cache/minigan/mnist``).
A file found in neither is downloaded into the cache from the first mirror that
answers (``MINIGAN_MNIST_MIRRORS``, space- or comma-separated URLs, overrides the
list). Every file's MD5 is checked before it is used, and a download enters the
cache only after its checksum matched (written to a temporary name, then renamed),
so a bad or partial download is never cached.

The paper's splits: training images 0–49,999 train the GAN, 50,000–59,999
validate (σ of the Parzen window), the 10,000 test images are the final figure.
Pixels are float32 in [0, 1] (bytes / 255).
"""
import gzip
import hashlib
import os
import shutil
import urllib.request
from pathlib import Path

import numpy

from .atomic import atomic_write

FILES = {  # name: (file name, MD5 of the .gz file as published)
    "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_IDX_TYPES = {0x08: numpy.uint8, 0x09: numpy.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(RuntimeError):
    """A data file is missing, corrupt or cannot be fetched."""


def one_line(err):
    """A DataError as one line for a script that needs MNIST: what was looked for and where
    (the message's first line; later lines, if any, list every mirror's answer), and how to
    provide the files unless that line already says (it names --data when one was given)."""
    what = str(err).splitlines()[0].rstrip(":")
    fix = "" if "--data" in what else ("; put the four MNIST .gz files in one folder and pass "
                                       "--data DIR (or set MINIGAN_DATA=DIR)")
    return what + fix


def read_idx(path):
    """Read an IDX file (optionally gzipped) into a NumPy array, validating its header.

    Layout: 2 zero bytes, a type code, the number of dimensions n, n big-endian
    uint32 sizes, then exactly prod(sizes) items. Anything else raises DataError.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:  # gzip raises these on truncated or non-gzip input
        raise DataError(f"{path}: cannot read ({err}); delete it and fetch it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'}; "
                        "expected 0000 then a type byte such as 08)")
    dtype, ndim = numpy.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path}: IDX header announces {ndim} dimensions but is truncated")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(numpy.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"{path}: IDX header announces shape {shape} ({expected} bytes) "
                        f"but the file holds {len(raw)} bytes; it is truncated or corrupt")
    return numpy.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigan" / "mnist"


def mirrors():
    env = os.environ.get("MINIGAN_MNIST_MIRRORS")
    if env:
        return tuple(m if m.endswith("/") else m + "/" for m in env.replace(",", " ").split())
    return MIRRORS


class _BadChecksum(Exception):
    pass


def _download(filename, checksum, target_dir, timeout=30):
    """Fetch ``filename`` from the mirrors into target_dir; only a verified file is kept."""
    errors = []
    for mirror in mirrors():
        url = mirror + filename
        try:
            # atomic_write renames into the cache only if the block succeeds: a failed or
            # corrupt download raises before that, and its temporary file is removed.
            with atomic_write(target_dir / filename) as tmp:
                with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                    shutil.copyfileobj(resp, out)
                got = md5(tmp)
                if got != checksum:
                    raise _BadChecksum(f"{url}: checksum {got}, expected {checksum}")
            return target_dir / filename
        except _BadChecksum as err:
            errors.append(str(err))
        except OSError as err:                            # URLError, timeouts, HTTP errors
            errors.append(f"{url}: {err}")
    raise DataError(f"could not download {filename} ({'; '.join(errors)})")


def _verified(path, checksum):
    """``path`` if its MD5 is ``checksum``; DataError naming it otherwise."""
    got = md5(path)
    if got != checksum:
        raise DataError(f"{path} is corrupt (MD5 {got}, expected {checksum}); "
                        "delete it so that a good copy can be fetched")
    return path


def _in_given_folder(filename, folder):
    """The file in the folder the user named; DataError naming the folder if it is not there."""
    folder = Path(folder)
    fix = "check the path, or leave --data out to use $MINIGAN_DATA or the cache"
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataError(f"MNIST folder {folder} (--data) {what}; {fix}")
    path = folder / filename
    if not path.is_file():
        raise DataError(f"MNIST folder {folder} (--data) has no {filename}; put the four files "
                        f"{', '.join(f for f, _ in FILES.values())} there, or {fix}")
    return path


def find_file(key, folder=None, download=True):
    """Path of a verified copy of one MNIST file (see the module docstring for the search order)."""
    filename, checksum = FILES[key]
    if folder:
        return _verified(_in_given_folder(filename, folder), checksum)
    places = [Path(p) for p in (os.environ.get("MINIGAN_DATA"),) if p] + [cache_dir()]
    for place in places:
        path = place / filename
        if path.is_file():
            return _verified(path, checksum)
    if download:
        try:
            return _download(filename, checksum, cache_dir())
        except DataError as err:
            why = str(err)
    else:
        why = "downloading was switched off"
    raise DataError(
        f"MNIST file {filename} not found in {', '.join(map(str, places))} and {why}. "
        f"Offline? Put the four files {', '.join(f for f, _ in FILES.values())} in one folder "
        f"and pass it with --data FOLDER (or set MINIGAN_DATA=FOLDER), or copy them to {cache_dir()}.")


def load_mnist(folder=None, download=True):
    """The raw arrays: {'train_images': (60000, 28, 28) uint8, 'train_labels': (60000,), ...}."""
    return {key: read_idx(find_file(key, folder, download)) for key in FILES}


def mnist_splits(folder=None, download=True, n_train=50000):
    """The paper's splits as float32 in [0, 1], each (N, 784): train, valid, test."""
    if not 1 <= n_train <= 50000:
        raise ValueError(f"n_train must be between 1 and 50000 (the training split), got {n_train}")
    raw = load_mnist(folder, download)
    train = raw["train_images"].reshape(-1, 784).astype(numpy.float32) / 255
    test = raw["test_images"].reshape(-1, 784).astype(numpy.float32) / 255
    return {"train": train[:n_train], "valid": train[50000:60000], "test": test}
