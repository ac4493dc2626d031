"""The tqdm bars on stderr: enrollment's shows the best similarity, speech's share bar none."""

from __future__ import annotations

import re

import pytest

from voxclone.progress import progress_bar, share_bar


def test_progress_bar_shows_the_best_similarity(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar("enrolling joe") as update:
        assert update is not None
        for fraction, score in ((0.0, 0.5), (0.5, 0.81234), (1.0, 0.9)):
            update(fraction, score)
    err = capsys.readouterr().err
    assert [int(m) for m in re.findall(r"enrolling joe: +(\d+)%", err)][-1] == 100
    assert "similarity 0.812" in err and err.rstrip().endswith("similarity 0.900")


def test_share_bar_shows_no_similarity(capsys: pytest.CaptureFixture[str]) -> None:
    with share_bar("speaking joe") as advance:
        assert advance is not None
        for fraction in (0.1, 0.5, 0.9):
            advance(fraction)
    err = capsys.readouterr().err
    assert [int(m) for m in re.findall(r"speaking joe: +(\d+)%", err)] == [0, 10, 50, 90, 100, 100]
    assert "similarity" not in err and "," not in err  # no postfix at all


def test_disabled_bars_give_no_callback(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar("x", enabled=False) as update, share_bar("y", enabled=False) as advance:
        assert update is None and advance is None
    assert capsys.readouterr().err == ""
