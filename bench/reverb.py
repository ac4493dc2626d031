"""Reverberation: how much a room costs the speaker embedding, and whether the gate sees it.

For each speaker (calibration speakers choose the gate's thresholds, evaluation
speakers report them; ``quality_data.partition``), the reference (first 6 s of speech)
is played in synthetic rooms (``quality_data.reverberate``: RT60 0.2-0.8 s, direct-to-
reverberant ratio +10 / +4 / 0 dB) and, for false alarms, with white noise and babble
at 20 dB. Measured: the gate's reverberation estimate
(:func:`voxclone.quality.reverb.estimate_reverb`), its SNR estimate, and the drop of the
reference's own d-vector similarity to the speaker's clean held-out speech (normalised:
0 = stranger, 1 = same speaker) - the target a clone is fitted to; for a few
conditions, that similarity again after the gate's dereverberation.

Run from the repo root: ``python bench/reverb.py``; writes
``bench/results/reverb.{md,json}``. ``--from-json`` re-renders the tables from a
previous run's json with the current thresholds.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio import Audio, detect_speech, prepare_reference
from voxclone.quality.dereverb import dereverberate
from voxclone.quality.measures import measure_signal, spectrum
from voxclone.quality.report import REVERB_REFUSE_S, REVERB_WARN_S
from voxclone.quality.reverb import estimate_reverb
from voxclone.speaker import default_encoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_data as qd
import speech_data as sd

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "reverb"
ROOMS = tuple((rt, drr) for rt in (0.2, 0.3, 0.5, 0.8) for drr in (10.0, 4.0, 0.0))
#: Conditions also measured after the gate's dereverberation.
DEREVERBED = ("clean", "room 0.2 s, DRR +10 dB", "room 0.3 s, DRR +4 dB",
              "room 0.5 s, DRR +4 dB", "room 0.8 s, DRR +0 dB")
#: Candidate warning thresholds (seconds) for the sweep.
SWEEP = (0.12, 0.14, 0.16, 0.18, 0.20, 0.25, 0.30, 0.40)


def log(message: str) -> None:
    print(message, flush=True)


def conditions(ref: Audio, babble: np.ndarray,
               rng: np.random.Generator) -> list[tuple[str, Audio]]:
    out = [("clean", ref)]
    out += [(f"room {rt:.1f} s, DRR {drr:+.0f} dB", qd.reverberate(ref, rt, drr, rng))
            for rt, drr in ROOMS]
    out += [("white 30 dB", qd.add_noise(ref, qd.white(len(ref), rng), 30, rng)),
            ("white 20 dB", qd.add_noise(ref, qd.white(len(ref), rng), 20, rng)),
            ("babble 20 dB", qd.add_noise(ref, babble, 20, rng))]
    return out


def measure(audio: Audio, dereverb: bool) -> dict[str, Any]:
    audio16k = audio.resample(16_000)
    spec = spectrum(audio16k, detect_speech(audio16k))
    reverb = estimate_reverb(audio)
    encoder = default_encoder()
    out = {"snr_db": measure_signal(audio, spec).snr_db,
           "reverb_s": None if reverb is None else (reverb if math.isfinite(reverb) else "inf"),
           "embedding": encoder.embed(prepare_reference(audio)[0])}
    if dereverb:
        began = time.perf_counter()
        out["dereverberated"] = encoder.embed(prepare_reference(dereverberate(audio))[0])
        out["dereverb_s"] = time.perf_counter() - began
    return out


def seconds(row: dict[str, Any]) -> float | None:
    """The row's estimate as a float (``inf`` for very reverberant), None if unknown."""
    value = row["reverb_s"]
    return math.inf if value == "inf" else value


def flagged(row: dict[str, Any], threshold: float) -> bool:
    """Whether the gate's rule flags the row at ``threshold``."""
    value = seconds(row)
    return value is not None and value >= threshold


def flag_share(rows: Sequence[dict[str, Any]], threshold: float) -> float:
    """Share of ``rows`` the rule flags at ``threshold`` (0 for no rows)."""
    return sum(flagged(r, threshold) for r in rows) / len(rows) if rows else 0.0


def measure_split(split: str, count: int, speech_dir: str | None,
                  rng: np.random.Generator) -> list[dict[str, Any]]:
    pool = qd.speakers_of(split, speech_dir)
    splits = []
    for u in sorted(pool, key=lambda u: sd._order_key(u.speaker)):
        if u.seconds >= 12.0 and (s := sd.split_utterance(u)) is not None:
            splits.append(s)
        if len(splits) == count:
            break
    bank = qd.voice_bank(pool)
    encoder = default_encoder()
    held = {s.utterance.speaker: encoder.embed(prepare_reference(s.heldout)[0]) for s in splits}
    raw: list[dict[str, Any]] = []
    for index, s in enumerate(splits, 1):
        spk = s.utterance.speaker
        noise = qd.babble(qd.babble_voices(bank, spk, rng), s.audio.sample_rate, rng)
        for name, audio in conditions(s.reference, noise, rng):
            raw.append({"split": split, "speaker": spk, "condition": name,
                        **measure(audio, name in DEREVERBED)})
        log(f"  {split} [{index}/{len(splits)}] {spk}")
    speakers = [s.utterance.speaker for s in splits]
    refs = {r["speaker"]: r["embedding"] for r in raw if r["condition"] == "clean"}
    norm = sd.Normalisation.of([refs[k] for k in speakers], [held[k] for k in speakers])
    rows = []
    for r in raw:
        row = {k: v for k, v in r.items() if k not in ("embedding", "dereverberated")}
        row["similarity"] = norm.normalise(float(r["embedding"] @ held[r["speaker"]]))
        if "dereverberated" in r:
            row["dereverberated_similarity"] = norm.normalise(
                float(r["dereverberated"] @ held[r["speaker"]]))
        rows.append(row)
    clean = {r["speaker"]: r["similarity"] for r in rows if r["condition"] == "clean"}
    for r in rows:
        r["drop"] = clean[r["speaker"]] - r["similarity"]
    return rows


def fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.2f}"


def quantile(values: Sequence[float], q: float) -> float | None:
    """Quantile with ``inf`` kept in order (numpy's would turn a mix into nan)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["| condition | n | drop of the reference's similarity | drop > 0.1 | "
             "estimate p10 / median / p90 (s) | can't tell | est. SNR median (dB) | "
             f"warned (>= {REVERB_WARN_S:.2f} s) | refused (>= {REVERB_REFUSE_S:.2f} s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    names = list(dict.fromkeys(r["condition"] for r in rows))
    for name in names:
        sel = [r for r in rows if r["condition"] == name]
        known = [v for r in sel if (v := seconds(r)) is not None]
        drops = [r["drop"] for r in sel]
        spread = " / ".join(fmt_s(quantile(known, q)) for q in (0.1, 0.5, 0.9))
        cells = [name, str(len(sel)), f"{statistics.fmean(drops):+.3f}",
                 f"{sum(d > 0.1 for d in drops) / len(sel):.0%}", spread,
                 str(len(sel) - len(known)),
                 f"{statistics.median(r['snr_db'] for r in sel):.1f}",
                 f"{flag_share(sel, REVERB_WARN_S):.0%}",
                 f"{flag_share(sel, REVERB_REFUSE_S):.0%}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def sweep(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Flag rates by threshold: real (clean) recordings, the rooms by how much they cost."""
    clean = [r for r in rows if r["condition"] == "clean"]
    rooms = [r for r in rows if r["condition"].startswith("room")]
    harmed = [r for r in rooms if r["drop"] > 0.1]
    heavy = [r for r in rooms if r["drop"] > 0.3]
    noisy = [r for r in rows if r["condition"] in ("white 30 dB", "white 20 dB", "babble 20 dB")]
    lines = ["| threshold (s) | clean flagged | noisy flagged | rooms with drop > 0.1 flagged "
             "| rooms with drop > 0.3 flagged | mean drop of unflagged rooms |",
             "|---|---|---|---|---|---|"]
    for t in (*SWEEP, math.inf):
        missed = [r["drop"] for r in rooms if not flagged(r, t)]
        cells = [fmt_s(t), f"{flag_share(clean, t):.1%}", f"{flag_share(noisy, t):.1%}",
                 f"{flag_share(harmed, t):.0%}", f"{flag_share(heavy, t):.0%}",
                 f"{statistics.fmean(missed) if missed else float('nan'):+.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def dereverb_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The reference's similarity before and after the dereverberation, paired."""
    lines = ["| condition | n | similarity | dereverberated | gain (mean +- s.e.) | "
             "better for | seconds (median) |", "|---|---|---|---|---|---|---|"]
    for name in DEREVERBED:
        sel = [r for r in rows if r["condition"] == name and "dereverberated_similarity" in r]
        if len(sel) < 2:
            continue
        gains = [r["dereverberated_similarity"] - r["similarity"] for r in sel]
        lines.append(
            f"| {name} | {len(sel)} | {statistics.fmean(r['similarity'] for r in sel):.3f} | "
            f"{statistics.fmean(r['dereverberated_similarity'] for r in sel):.3f} | "
            f"{statistics.fmean(gains):+.3f} +- "
            f"{sd.standard_error(gains):.3f} | "
            f"{sum(g > 0 for g in gains)} of {len(gains)} | "
            f"{statistics.median(r['dereverb_s'] for r in sel):.2f} |")
    return lines


def markdown(meta: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Reverberation: the cost to the speaker embedding, and the gate's estimate", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        "- reference = first 6 s of speech; rooms: `quality_data.reverberate` (synthetic "
        "responses, Polack's model); drop: the reference's own d-vector similarity to the "
        "clean held-out speech (normalised), clean minus degraded, paired",
        f"- gate: warn at an estimate >= {REVERB_WARN_S:.2f} s, refuse at >= "
        f"{REVERB_REFUSE_S:.2f} s (`inf`: no syllable end falls free of the echo); "
        "can't tell: too few syllables well above the noise (the gate says nothing)",
        f"- wall time {meta['wall_s']:.0f} s", ""]
    for split in ("calibration", "evaluation"):
        sel = [r for r in rows if r["split"] == split]
        if not sel:
            continue
        n = len({r["speaker"] for r in sel})
        lines += [f"## {split.capitalize()} speakers ({n})", "", *table(sel), "",
                  "Threshold sweep (warning rule at each threshold):", "", *sweep(sel), ""]
        if any("dereverberated_similarity" in r for r in sel):
            lines += ["The reference's similarity after the gate's dereverberation "
                      "(`voxclone.quality.dereverb`, WPE):", "", *dereverb_table(sel), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=40, out=DEFAULT_OUT)
    parser.add_argument("--evaluation-speakers", type=int, default=48)
    parser.add_argument("--from-json", default=None,
                        help="re-render the tables of a previous run's json")
    args = parser.parse_args(argv)
    if args.from_json:
        data = json.loads(Path(args.from_json).read_text())
        sd.write_results(args.out, markdown(data["meta"], data["rows"]), data)
        return 0
    started = time.perf_counter()
    rng = np.random.default_rng(20261203)
    rows = measure_split("calibration", args.speakers, args.speech_dir, rng)
    rows += measure_split("evaluation", args.evaluation_speakers, args.speech_dir, rng)
    meta = {"date": sd.now(), "machine": sd.machine(), "git_commit": sd.git_commit(),
            "wall_s": time.perf_counter() - started}
    sd.write_results(args.out, markdown(meta, rows), {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
