"""`lingrad train` writes its report: every figure of index.html is a file in the run folder."""

import numpy as np
from test_report import assert_resolves, parse

from lingrad.cli import main
from lingrad.runs import load_npz


def test_train_run_folder_has_a_resolving_report(tmp_path, capsys):
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--epochs",
            "4",
            "--runs-dir",
            str(tmp_path),
            "--name",
            "r",
        ]
    )
    assert code == 0, capsys.readouterr().err
    run = tmp_path / "r"
    links = parse(run / "index.html")
    assert len(links.images) >= 5
    for ref in links.images:
        assert_resolves(run, ref)
    names = {ref.rsplit(".", 1)[0] for ref in links.images}
    assert {"templates", "decision_regions", "history", "landscape", "confusion"} <= names
    model = load_npz(run / "model.npz")
    # The trajectory starts at the initial weights and ends at the trained ones.
    assert model["trajectory"].shape == (5, *model["W"].shape)
    np.testing.assert_array_equal(model["trajectory"][-1], model["W"])
    assert "report:" in capsys.readouterr().out


def test_no_report_skips_the_figures(tmp_path):
    argv = ["train", "--epochs", "2", "--runs-dir", str(tmp_path), "--name", "r", "--no-report"]
    assert main(argv) == 0
    assert not (tmp_path / "r" / "index.html").exists()
    assert (tmp_path / "r" / "model.npz").exists()
