"""The tables of ``bench/clone_quality.py``: per-speaker rows aggregated per effort,
issue 3's prosody targets, and the markdown written to ``bench/results/``.

Kept apart from the runner so that other benches (``robustness.py``) score pitch and
tempo the same way without importing the whole protocol.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import speech_data as sd  # the shared benchmark helpers next to this file
from bench_parts import check_mergeable, merged_meta, read_run

from voxclone.audio.prosody import ProsodyStats


def semitones(ratio: float) -> float:
    """A frequency ratio in semitones."""
    return 12 * math.log2(ratio)


def prosody_errors(stats: ProsodyStats, real: ProsodyStats) -> dict[str, float]:
    """A clone's (or any clip's) pitch and tempo against the speaker's."""
    return {"f0_error_st": abs(semitones(stats.f0_median / real.f0_median)),
            "f0_range_ratio": stats.f0_range_semitones / real.f0_range_semitones,
            "rate_ratio": stats.syllable_rate / real.syllable_rate}


def prosody_shares(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The share of ``rows`` (non-empty) meeting each of issue 3's prosody targets, and
    all three."""
    def share(met: Callable[[dict[str, Any]], bool]) -> float:
        return sum(met(r) for r in rows) / len(rows)
    return {
        "f0_within_1st": share(lambda r: r["f0_error_st"] <= 1.0),
        "f0_range_within_20pct": share(lambda r: abs(r["f0_range_ratio"] - 1) <= 0.2),
        "rate_within_10pct": share(lambda r: abs(r["rate_ratio"] - 1) <= 0.1),
        "all_prosody_met": share(meets_prosody_targets),
        **tempo_shares(rows),
    }


def tempo_shares(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The share of ``rows`` whose articulation rate (``articulation.py``) is within
    10 % of the speaker's: the clone's syllables from its sentences, and from its
    transcript; none for rows without it (runs before 7 Dec, other benches)."""
    out = {}
    for key, name in (("tempo_ratio", "tempo_within_10pct"),
                      ("tempo_asr_ratio", "tempo_asr_within_10pct")):
        if rows and all(key in r for r in rows):
            out[name] = sum(abs(r[key] - 1) <= 0.1 for r in rows) / len(rows)
    return out


def summarise(rows: Sequence[dict[str, Any]], effort: str, joe_wer: float) -> dict[str, Any]:
    """One table row: aggregate the per-speaker rows of one effort."""
    ok = [r for r in rows if r["effort"] == effort and "error" not in r]
    failed = sum(1 for r in rows if r["effort"] == effort and "error" in r)
    if not ok:
        return {"effort": effort, "speakers": 0, "failed": failed}

    def col(key: str) -> list[float]:
        return [float(r[key]) for r in ok]

    wer = sum(col("asr_errors")) / sum(col("asr_words"))
    return {
        "effort": effort, "speakers": len(ok), "failed": failed,
        "similarity_mean": statistics.fmean(col("similarity")),
        "similarity_median": statistics.median(col("similarity")),
        "cosine_mean": statistics.fmean(col("cosine")),
        "f0_error_st_median": statistics.median(col("f0_error_st")),
        "f0_range_ratio_median": statistics.median(col("f0_range_ratio")),
        "rate_ratio_median": statistics.median(col("rate_ratio")),
        "tempo_ratio_median": statistics.median(col("tempo_ratio"))
        if all("tempo_ratio" in r for r in ok) else None,
        **prosody_shares(ok),
        "wer": wer,
        "wer_ratio": wer / joe_wer if joe_wer > 0 else None,
        "enroll_s_median": statistics.median(col("enroll_s")),
        "enroll_s_max": max(col("enroll_s")),
        "rtf_median": statistics.median(col("rtf")),
    }


def meets_prosody_targets(row: dict[str, Any]) -> bool:
    """F0 median within 1 st, F0 range within +-20 % and rate within +-10 %."""
    return (row["f0_error_st"] <= 1.0 and abs(row["f0_range_ratio"] - 1) <= 0.2
            and abs(row["rate_ratio"] - 1) <= 0.1)


COLUMNS = (  # (header, key, format)
    ("effort", "effort", "{}"), ("speakers", "speakers", "{}"),
    ("sim mean", "similarity_mean", "{:.3f}"), ("sim median", "similarity_median", "{:.3f}"),
    ("raw cos mean", "cosine_mean", "{:.3f}"),
    ("F0 err st (median)", "f0_error_st_median", "{:.2f}"),
    ("F0 within 1 st", "f0_within_1st", "{:.0%}"),
    ("F0 range ratio (median)", "f0_range_ratio_median", "{:.2f}"),
    ("F0 range within 20%", "f0_range_within_20pct", "{:.0%}"),
    ("rate ratio (median)", "rate_ratio_median", "{:.2f}"),
    ("rate within 10%", "rate_within_10pct", "{:.0%}"),
    ("all three met", "all_prosody_met", "{:.0%}"),
    ("tempo ratio (median)", "tempo_ratio_median", "{:.2f}"),
    ("tempo within 10%", "tempo_within_10pct", "{:.0%}"),
    ("tempo within 10% (both by ASR)", "tempo_asr_within_10pct", "{:.0%}"),
    ("WER", "wer", "{:.1%}"), ("WER / joe", "wer_ratio", "{:.2f}"),
    ("enroll s (median)", "enroll_s_median", "{:.1f}"), ("enroll s (max)", "enroll_s_max",
                                                          "{:.1f}"),
    ("RTF (median)", "rtf_median", "{:.2f}"),
)


def markdown_table(summary: Sequence[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(h for h, _, _ in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for row in summary:
        cells = []
        for _, key, fmt in COLUMNS:
            value = row.get(key)
            cells.append("n/a" if value is None else fmt.format(value))
        failed = f" ({row['failed']} failed)" if row.get("failed") else ""
        lines.append("| " + " | ".join(cells) + " |" + failed)
    return "\n".join(lines)


def sentence_table(meta: dict[str, Any], rows: Sequence[dict[str, Any]],
                   sentences: Sequence[str]) -> str:
    """Where the word errors fall: per sentence, joe's takes and each effort's clones.
    With three sentences one word can make a ratio, so the table shows which."""
    efforts = [e for e in meta["efforts"] if any(r["effort"] == e for r in rows)]
    columns = [sd.errors_per_sentence(sentences, meta["joe"]["transcripts"]),
               *(sd.errors_per_sentence(sentences, [
                   t for r in rows if r["effort"] == e and "error" not in r
                   for t in r["transcripts"]]) for e in efforts)]
    lines = ["Word errors per sentence (joe over his takes, each effort over its speakers):",
             "", "| sentence | joe | " + " | ".join(efforts) + " |",
             "|" + "---|" * (2 + len(efforts))]
    lines += ["| " + " | ".join([text, *(str(c[i]) for c in columns)]) + " |"
              for i, text in enumerate(sentences)]
    return "\n".join(lines) + "\n"


def render(meta: dict[str, Any], summary: Sequence[dict[str, Any]],
           rows: Sequence[dict[str, Any]] = (), sentences: Sequence[str] = ()) -> str:
    joe = meta["joe"]
    header = [
        "# Clone quality",
        "",
        f"- date: {meta['date']}; machine: {meta['machine']}, torch threads "
        f"{meta['torch_threads']}; git: {meta['git_commit']}",
        f"- normalisation over {meta['normalisation']['speakers']} usable speakers: "
        f"same_mean {meta['normalisation']['same_mean']:.3f}, "
        f"diff_mean {meta['normalisation']['diff_mean']:.3f} (GE2E, voxclone.embed)",
        f"- reference: first {sd.REFERENCE_SPEECH_S:.0f} s of speech; scored against the "
        "rest of the utterance",
        f"- stock voice (Piper joe) WER {joe['wer']:.1%} ({joe['errors']}/{joe['words']} "
        "words, PocketSphinx)",
        "- the reference itself, scored like a clone (how far its own 6 s go): F0 within "
        "1 st {f0_within_1st:.0%}, F0 range within 20% {f0_range_within_20pct:.0%}, rate "
        "within 10% {rate_within_10pct:.0%}, all three {all_prosody_met:.0%}".format(
            **meta["reference_itself"])
        + ("; tempo within 10% {:.0%}".format(meta["reference_itself"]["tempo_within_10pct"])
           if "tempo_within_10pct" in meta["reference_itself"] else ""),
        f"- wall time {meta['wall_s']:.0f} s"
        + (f"; run in parts {meta['part']}, merged" if "," in str(meta.get("part")) else
           f"; part {meta['part']} of the speakers" if meta.get("part") else ""),
        "",
        "",
    ]
    text = "\n".join(header) + markdown_table(summary) + "\n"
    return text + ("\n" + sentence_table(meta, rows, sentences) if rows else "")


def merge(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One run's json made of several parts' (``clone_quality.py --part I/N``): their
    rows together, joe's takes pooled, the table recomputed from the rows.

    Raises:
        SystemExit: the parts measured different code (``source_tree``), rows, sentences
            or normalisation, come from different splits, or share a speaker.
    """
    speakers = check_mergeable(runs, ("efforts", "sentences", "normalisation"),
                               "speakers")
    first = runs[0]["meta"]
    metas = [run["meta"] for run in runs]
    rows = [row for run in runs for row in run["rows"]]
    errors = sum(m["joe"]["errors"] for m in metas)
    words = sum(m["joe"]["words"] for m in metas)
    joe = {"wer": errors / words, "errors": errors, "words": words,
           "transcripts": [t for m in metas for t in m["joe"]["transcripts"]]}
    counts = [len(m["speakers"]) for m in metas]
    reference = {key: sum(n * m["reference_itself"][key] for n, m in zip(counts, metas,
                                                                        strict=True))
                 / sum(counts) for key in first["reference_itself"]}
    meta = {**merged_meta(runs, "torch_threads"), "speakers": speakers, "joe": joe,
            "reference_itself": reference}
    summary = [summarise(rows, effort, joe["wer"]) for effort in first["efforts"]]
    return {"meta": meta, "summary": summary, "rows": rows}


def main(argv: Sequence[str] | None = None) -> int:
    """``--merge OUT A.json B.json ...``: write OUT.md and OUT.json from the parts."""
    import argparse

    parser = argparse.ArgumentParser(description="Merge clone_quality.py runs made in "
                                                 "parts (--part I/N) into one table.")
    parser.add_argument("--merge", required=True, metavar="OUT",
                        help="output path without extension")
    parser.add_argument("parts", nargs="+", help="the parts' .json files")
    args = parser.parse_args(argv)
    data = merge([read_run(path) for path in args.parts])
    sd.write_results(args.merge, render(data["meta"], data["summary"], data["rows"],
                                        data["meta"]["sentences"]), data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
