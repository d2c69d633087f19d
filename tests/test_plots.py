"""Figures are written completely and have the expected layout."""
import matplotlib.pyplot as plt
import numpy

from minigan.program import plots


def test_tile_layout():
    grid = plots.tile(numpy.zeros((7, 784)), ncol=3)
    assert grid.shape == (3 * 29 + 1, 3 * 29 + 1)
    assert grid[1:29, 1:29].max() == 0 and grid[0].min() == 1      # images inside white padding


def test_grid_and_curves_are_written(tmp_path):
    plots.save_grid(numpy.random.default_rng(0).random((20, 784)), tmp_path / "g.png", ncol=5)
    assert plt.imread(tmp_path / "g.png").shape[:2] == (4 * 29 + 1, 5 * 29 + 1)
    rows = [{"epoch": e, "d_obj": 0.5, "g_obj": 1.0, "d_acc_real": 0.8, "d_acc_fake": 0.7,
             **({"parzen_test": 100 + e, "parzen_se": 2} if e % 2 == 0 else {})} for e in range(1, 6)]
    plots.save_curves(rows, tmp_path / "c.png")
    assert plt.imread(tmp_path / "c.png").shape[2] in (3, 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "g.png"]   # no temporary files left


def test_last_column_is_framed_in_yellow(tmp_path):
    plots.save_grid(numpy.zeros((6, 784)), tmp_path / "f.png", ncol=3, mark_last_col=True)
    img = plt.imread(tmp_path / "f.png")
    assert img.shape[:2] == (2 * 29 + 1, 3 * 29 + 1)
    yellow = (img[:, :, 0] > 0.9) & (img[:, :, 1] > 0.7) & (img[:, :, 2] < 0.1)
    assert yellow[:, 2 * 29:].any() and not yellow[:, :2 * 29].any()     # only around the last column
    assert (img[1:29, 2 * 29 + 1:3 * 29, :3] == 0).all()                  # the image inside is untouched


def test_curves_get_an_is_and_fid_panel_when_rows_have_them(tmp_path):
    rows = [{"epoch": e, "d_obj": 0.5, "g_obj": 1.0, "d_acc_real": 0.8, "d_acc_fake": 0.7,
             **({"parzen_test": 100 + e, "parzen_se": 2, "is_mean": 2.0 + e, "fid": 50.0 / e}
                if e % 2 == 0 else {"is_mean": "", "fid": ""})} for e in range(1, 6)]
    plots.save_curves(rows, tmp_path / "c.png")
    assert plt.imread(tmp_path / "c.png").shape[1] == 17 * 80          # four panels, 17 in at 80 dpi
    plots.save_curves([{**r, "fid": "", "is_mean": ""} for r in rows], tmp_path / "d.png")
    assert plt.imread(tmp_path / "d.png").shape[1] == 13 * 80          # three: nothing to draw
