"""MNIST loading: IDX validation, the search order, downloads from a real local HTTP server."""
import gzip
import http.server
import shutil
import struct
import threading
from functools import partial
from pathlib import Path

import numpy
import pytest

from minigan.files import data


def write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(">u1" if type_code == 0x08 else array.dtype).tobytes())


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_round_trip(tmp_path, suffix):
    a = numpy.arange(24, dtype=numpy.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / f"a{suffix}", a)
    assert numpy.array_equal(data.read_idx(tmp_path / f"a{suffix}"), a)


def test_read_idx_rejects_bad_magic(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(data.DataError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")


def test_read_idx_rejects_truncated_and_overlong(tmp_path):
    write_idx(tmp_path / "a", numpy.zeros((10, 5), dtype=numpy.uint8))
    raw = (tmp_path / "a").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-7])
    (tmp_path / "long").write_bytes(raw + b"\x00")
    with pytest.raises(data.DataError, match=r"announces shape \(10, 5\).*holds 55 bytes"):
        data.read_idx(tmp_path / "short")
    with pytest.raises(data.DataError, match="truncated or corrupt"):
        data.read_idx(tmp_path / "long")
    (tmp_path / "hdr").write_bytes(raw[:6])
    with pytest.raises(data.DataError, match="header"):
        data.read_idx(tmp_path / "hdr")


def test_read_idx_rejects_truncated_gzip(tmp_path):
    write_idx(tmp_path / "a.gz", numpy.zeros((100, 100), dtype=numpy.uint8))
    raw = (tmp_path / "a.gz").read_bytes()
    (tmp_path / "b.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(data.DataError, match="cannot read"):
        data.read_idx(tmp_path / "b.gz")


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No MINIGAN_DATA, an empty cache under tmp_path."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_splits_from_a_folder(mnist_dir, isolated):
    s = data.mnist_splits(mnist_dir, download=False)
    assert s["train"].shape == (50000, 784) and s["valid"].shape == (10000, 784) and s["test"].shape == (10000, 784)
    assert s["train"].dtype == numpy.float32 and s["train"].min() == 0 and s["train"].max() == 1
    raw = data.load_mnist(mnist_dir, download=False)
    assert raw["train_labels"].shape == (60000,) and raw["test_labels"].max() == 9
    assert numpy.array_equal(s["valid"][0], raw["train_images"][50000].reshape(784) / numpy.float32(255))


def test_environment_folder_is_used(mnist_dir, isolated, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", mnist_dir)
    assert data.find_file("test_labels", download=False) == Path(mnist_dir) / "t10k-labels-idx1-ubyte.gz"


def test_given_folder_is_the_only_place_looked_in(mnist_dir, isolated, monkeypatch):
    """A folder passed explicitly (--data) that is wrong must fail, naming it, even when
    $MINIGAN_DATA holds good files: silently reading those instead would hide the typo."""
    monkeypatch.setenv("MINIGAN_DATA", mnist_dir)
    typo = isolated / "mnsit"
    with pytest.raises(data.DataError) as err:
        data.find_file("test_labels", typo)
    assert str(err.value).startswith(f"MNIST folder {typo} (--data) does not exist; check the path")
    typo.mkdir()                                            # exists, but holds no MNIST
    with pytest.raises(data.DataError, match=r"\(--data\) has no train-images-idx3-ubyte.gz; put the four files"):
        data.mnist_splits(typo)
    (isolated / "a-file").write_text("")
    with pytest.raises(data.DataError, match="is a file, not a folder"):
        data.find_file("test_labels", isolated / "a-file")
    assert not data.cache_dir().exists()                    # and nothing was downloaded instead


def test_corrupt_local_file_is_reported(mnist_dir, isolated):
    folder = isolated / "mine"
    folder.mkdir()
    raw = (Path(mnist_dir) / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(raw[:-10])
    with pytest.raises(data.DataError, match="is corrupt .*delete it"):
        data.find_file("test_labels", folder)


@pytest.fixture
def server(mnist_dir, isolated):
    """A real HTTP server on 127.0.0.1 with a good copy of MNIST under /good/ and a corrupted one under /bad/."""
    root = isolated / "www"
    (root / "good").mkdir(parents=True)
    (root / "bad").mkdir()
    for name, _ in data.FILES.values():
        shutil.copy(Path(mnist_dir) / name, root / "good" / name)
        raw = bytearray((Path(mnist_dir) / name).read_bytes())
        raw[len(raw) // 2] ^= 0xFF                      # one flipped byte
        (root / "bad" / name).write_bytes(raw)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_caches(server, monkeypatch):
    monkeypatch.setenv("MINIGAN_MNIST_MIRRORS", f"{server}/good/")
    splits = data.mnist_splits()                               # nothing local: all four are downloaded
    assert splits["test"].shape == (10000, 784)
    cached = sorted(p.name for p in data.cache_dir().iterdir())
    assert cached == sorted(name for name, _ in data.FILES.values())
    monkeypatch.setenv("MINIGAN_MNIST_MIRRORS", "http://127.0.0.1:9/")   # now offline: the cache serves
    assert data.find_file("train_labels").parent == data.cache_dir()


def test_corrupt_download_is_never_cached(server, monkeypatch):
    monkeypatch.setenv("MINIGAN_MNIST_MIRRORS", f"{server}/bad/")
    with pytest.raises(data.DataError, match="checksum") as err:
        data.find_file("test_labels")
    assert "\n" not in str(err.value)                       # one line, whatever the number of mirrors
    assert not data.cache_dir().exists() or list(data.cache_dir().iterdir()) == []
    # With a bad mirror first and a good one second, the good copy is the one kept.
    monkeypatch.setenv("MINIGAN_MNIST_MIRRORS", f"{server}/bad/, {server}/good")
    path = data.find_file("test_labels")
    assert data.md5(path) == data.FILES["test_labels"][1]


def test_offline_error_says_what_to_do(isolated, monkeypatch):
    monkeypatch.setenv("MINIGAN_MNIST_MIRRORS", "http://127.0.0.1:9/")
    with pytest.raises(data.DataError) as err:
        data.find_file("train_images")
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and "--data FOLDER" in msg and "MINIGAN_DATA" in msg
    assert "\n" not in msg
    with pytest.raises(data.DataError, match="downloading was switched off"):
        data.find_file("train_images", download=False)


def test_n_train_is_checked():
    with pytest.raises(ValueError, match="n_train must be between 1 and 50000"):
        data.mnist_splits(n_train=60000)


def test_one_line_keeps_the_first_line_and_adds_the_fix_once():
    offline = data.DataError("MNIST not found in /c and could not be downloaded:\n  mirror a: refused")
    assert data.one_line(offline) == ("MNIST not found in /c and could not be downloaded; put the four "
                                      "MNIST .gz files in one folder and pass --data DIR (or set MINIGAN_DATA=DIR)")
    given = data.DataError("MNIST folder /x (--data) does not exist; give the folder that holds them")
    assert data.one_line(given) == str(given)                  # it already says how: nothing added
