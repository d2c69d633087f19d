"""One writer per run folder (issue 23, item 3): a second minigan train on the same --out is refused
in one line naming the holder, and a holder killed by SIGKILL leaves no stale lock."""
import os
import signal
import subprocess
import sys

import pytest

from minigan.files import lock

pytestmark = pytest.mark.skipif(lock.fcntl is None, reason="no fcntl (flock) on this system")


def test_a_second_train_on_a_locked_folder_is_one_line_naming_the_holder(mnist_dir, tmp_path):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "minigan", "train", "--data", mnist_dir, "--out", str(out), "--no-progress",
            "--n-train", "200", "--g-hidden", "8", "--d-units", "4", "--d-pieces", "2", "--max-steps", "1",
            "--parzen-every", "0"]
    with lock.exclusive(out):                                       # this test process is the writer
        second = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert second.returncode == 1 and second.stderr.count("\n") == 1
    assert f"is in use by another minigan train (process {os.getpid()})" in second.stderr
    assert not (out / "checkpoint.npz").exists()                    # it wrote nothing
    again = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and (out / "checkpoint.npz").is_file(), again.stderr   # lock released


def test_a_holder_killed_by_sigkill_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from minigan.files import lock\n"
                               f"with lock.exclusive({str(tmp_path)!r}):\n    print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(lock.FolderBusy, match=f"process {holder.pid}"):
            with lock.exclusive(tmp_path):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with lock.exclusive(tmp_path):                                   # the kernel released it
        assert (tmp_path / lock.NAME).read_text() == str(os.getpid())
