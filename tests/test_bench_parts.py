"""A benchmark run in parts merges into the table one run would have written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_parts
import clone_quality_report as report
import robustness
import robustness_efforts
import speech_data as sd


def utterance(speaker: str, gender: str) -> sd.Utterance:
    return sd.Utterance(speaker=speaker, gender=gender, path=Path(f"{speaker}.flac"),
                        seconds=14.0)


def test_parts_cover_the_speakers_once_and_keep_the_gender_split() -> None:
    chosen = [utterance(f"f{i}", "F") for i in range(24)] + \
        [utterance(f"m{i}", "M") for i in range(24)]
    parts = [bench_parts.speaker_part(chosen, f"{i}/3") for i in (1, 2, 3)]
    assert [u.speaker for part in parts for u in part if u.gender == "F"] == \
        [f"f{i}" for i in range(24)]
    assert all(sum(u.gender == "F" for u in part) == 8 == len(part) // 2 for part in parts)
    # Part 1/8 of 48 is what a 6-speaker run chooses.
    assert [u.speaker for u in bench_parts.speaker_part(chosen, "1/8")] == \
        ["f0", "f1", "f2", "m0", "m1", "m2"]
    for bad in ("0/3", "4/3", "two"):
        with pytest.raises(SystemExit, match="--part"):
            bench_parts.speaker_part(chosen, bad)
    with pytest.raises(SystemExit, match="none of the 2 speakers"):
        bench_parts.speaker_part(chosen[:1] + chosen[-1:], "1/2")


def clone_row(speaker: str, similarity: float, errors: int) -> dict[str, Any]:
    return {"speaker": speaker, "gender": "F", "effort": "fast", "similarity": similarity,
            "cosine": similarity, "f0_error_st": 0.5, "f0_range_ratio": 1.0,
            "rate_ratio": 1.0, "asr_errors": errors, "asr_words": 10, "enroll_s": 2.0,
            "rtf": 0.2, "transcripts": []}


def run(speakers: list[str], similarity: float, joe_errors: int,
        tree: str = "abc") -> dict[str, Any]:
    return {"meta": {
        "source_tree": tree, "efforts": ["fast"], "sentences": ["a b"],
        "normalisation": {"same_mean": 0.9, "diff_mean": 0.5, "speakers": 10},
        "speakers": speakers, "date": "d", "machine": "m", "git_commit": "c",
        "part": "1/2", "torch_threads": 2, "wall_s": 10.0,
        "joe": {"wer": joe_errors / 100, "errors": joe_errors, "words": 100,
                "transcripts": []},
        "reference_itself": {"f0_within_1st": 1.0 if joe_errors else 0.0}},
        "rows": [clone_row(s, similarity, 1) for s in speakers]}


def test_merge_pools_rows_and_the_stock_voice_takes() -> None:
    merged = report.merge([run(["a"], 0.4, 2), run(["b", "c"], 0.7, 0)])
    (row,) = merged["summary"]
    assert row["speakers"] == 3
    assert row["similarity_mean"] == pytest.approx(0.6)
    assert merged["meta"]["joe"]["wer"] == pytest.approx(2 / 200)
    assert row["wer_ratio"] == pytest.approx((3 / 30) / (2 / 200))
    assert merged["meta"]["reference_itself"]["f0_within_1st"] == pytest.approx(1 / 3)
    assert merged["meta"]["wall_s"] == 20.0


def test_merge_refuses_other_or_uncommitted_code_or_the_same_speaker_twice() -> None:
    with pytest.raises(SystemExit, match="source_tree"):
        report.merge([run(["a"], 0.4, 2), run(["b"], 0.7, 0, tree="def")])
    with pytest.raises(SystemExit, match="share speakers"):
        report.merge([run(["a"], 0.4, 2), run(["a"], 0.7, 0)])
    other_split = run(["b"], 0.7, 0)
    other_split["meta"]["part"] = "2/3"
    with pytest.raises(SystemExit, match="different splits"):
        report.merge([run(["a"], 0.4, 2), other_split])
    with pytest.raises(SystemExit, match="uncommitted"):
        report.merge([run(["a"], 0.4, 2, tree="abc+dirty"), run(["b"], 0.7, 0,
                                                                tree="abc+dirty")])


def test_merge_command_names_a_file_it_cannot_use(tmp_path: Path) -> None:
    empty, other = tmp_path / "empty.json", tmp_path / "other.json"
    empty.write_text("")
    other.write_text('{"effort": "fast"}')
    out = str(tmp_path / "merged")
    for bad, said in ((tmp_path / "missing.json", "cannot read"), (empty, "cannot read"),
                      (other, "not a benchmark run")):
        with pytest.raises(SystemExit, match=said):
            report.main(["--merge", out, str(bad)])
    assert not list(tmp_path.glob("merged*"))


def robust_row(speaker: str, effort: str, condition: str, clone: float) -> dict[str, Any]:
    return {"speaker": speaker, "gender": "F", "effort": effort, "condition": condition,
            "clone": clone, "enroll_s": 2.0, "reference": 0.3, "enrolled": 0.4,
            "snr_db": 30.0, "verdict": "good", "f0_error_st": 0.5, "f0_range_ratio": 1.0,
            "rate_ratio": 1.0}


def robust_run(speaker: str, clean: dict[str, float], babble: dict[str, float],
               conditions: tuple[str, ...] = ("clean", "babble 10 dB")) -> dict[str, Any]:
    rows = [robust_row(speaker, e, "clean", v) for e, v in clean.items()] + \
        [robust_row(speaker, e, "babble 10 dB", v) for e, v in babble.items()]
    return {"meta": {
        "source_tree": "abc", "efforts": list(clean), "conditions": list(conditions),
        "sentences": ["a b"], "normalisation": {"same_mean": 0.9, "diff_mean": 0.5,
                                                "speakers": 10},
        "speakers": 1, "speaker_ids": [speaker], "date": "d", "machine": "m",
        "git_commit": "c", "part": "1/2", "wall_s": 10.0}, "rows": rows}


def test_robustness_parts_merge_with_each_drop_from_the_clean_clone_at_its_effort() -> None:
    merged = robustness.merge([
        robust_run("a", {"fast": 0.5, "balanced": 0.7}, {"fast": 0.4, "balanced": 0.65}),
        robust_run("b", {"fast": 0.3, "balanced": 0.6}, {"fast": 0.1, "balanced": 0.45})])
    drops = {(r["effort"], r["condition"]): r["clone_drop"] for r in merged["summary"]}
    assert drops[("fast", "babble 10 dB")] == pytest.approx((0.1 + 0.2) / 2)
    assert drops[("balanced", "babble 10 dB")] == pytest.approx((0.05 + 0.15) / 2)
    assert drops[("balanced", "clean")] == 0.0
    assert merged["meta"]["speaker_ids"] == ["a", "b"]
    assert merged["meta"]["speakers"] == 2 and merged["meta"]["wall_s"] == 20.0
    text = robustness.render(merged["meta"], merged["summary"])
    assert "| balanced | babble 10 dB | 0.550 | +0.100 +- 0.050 |" in text


def test_robustness_parts_of_other_src_trees_merge_only_when_said_and_say_so() -> None:
    other = robust_run("b", {"fast": 0.3}, {"fast": 0.1})
    other["meta"]["source_tree"] = "def"
    runs = [robust_run("a", {"fast": 0.5}, {"fast": 0.4}), other]
    with pytest.raises(SystemExit, match="source_tree"):
        robustness.merge(runs)
    merged = robustness.merge(runs, same_source=False)
    assert merged["meta"]["source_tree"] == "abc, def"
    assert "(src trees abc, def)" in robustness.render(merged["meta"], merged["summary"])
    other["meta"]["source_tree"] = "def+dirty"  # uncommitted code is never merged
    with pytest.raises(SystemExit, match="uncommitted"):
        robustness.merge(runs, same_source=False)


def test_robustness_merge_refuses_parts_of_other_conditions_or_the_same_speaker(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="conditions"):
        robustness.merge([robust_run("a", {"fast": 0.5}, {"fast": 0.4}),
                          robust_run("b", {"fast": 0.5}, {"fast": 0.4},
                                     conditions=("clean",))])
    with pytest.raises(SystemExit, match="share speakers"):
        robustness.merge([robust_run("a", {"fast": 0.5}, {"fast": 0.4}),
                          robust_run("a", {"fast": 0.5}, {"fast": 0.4})])
    for argv, said in ((["--merge", "out"], "--merge OUT needs the parts' .json"),
                       (["--conditions", "babble 10 dB"], "must include clean"),
                       (["--efforts", "fastest"], "--efforts must name some of")):
        with pytest.raises(SystemExit):
            robustness.main(argv)
        assert said in capsys.readouterr().err


def test_efforts_are_compared_speaker_by_speaker_from_their_own_clean_clone() -> None:
    def row(speaker: str, gender: str, effort: str, condition: str, clone: float,
            enrolled: float) -> dict[str, Any]:
        return {"speaker": speaker, "gender": gender, "effort": effort,
                "condition": condition, "clone": clone, "enrolled": enrolled}

    rows = [
        row("a", "F", "fast", "clean", 0.5, 1.0), row("a", "F", "best", "clean", 0.7, 1.0),
        row("a", "F", "fast", "babble", 0.3, 0.8), row("a", "F", "best", "babble", 0.6, 0.8),
        row("b", "M", "fast", "clean", 0.4, 1.0), row("b", "M", "best", "clean", 0.8, 1.0),
        row("b", "M", "fast", "babble", 0.3, 0.9), row("b", "M", "best", "babble", 0.5, 0.9),
        # Measured at one effort only: left out of the pairs.
        row("c", "M", "fast", "clean", 0.9, 1.0), row("c", "M", "fast", "babble", 0.0, 0.5),
    ]
    (line,) = robustness_efforts.compare(rows, "fast", "best")
    assert line["condition"] == "babble" and line["n"] == 2
    assert line["drop_fast"] == pytest.approx(0.15) and line["drop_best"] == pytest.approx(0.2)
    assert line["less"] == pytest.approx(-0.05) and line["high_smaller"] == 1
    assert line["gain"] == pytest.approx(0.1)  # best from babble against fast from clean
    assert line["drop_fast_F"] == pytest.approx(0.2) and line["drop_best_M"] == pytest.approx(0.3)
    assert line["dvector_loss"] == pytest.approx(0.15)
    assert line["slope_best"] == pytest.approx(-2.0)  # two points: an exact line
