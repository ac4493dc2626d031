"""Few-shot curve: does more reference speech give a closer clone?

On LibriSpeech utterances (``../shared/speech``) holding at least ``--heldout-from``
+ ``--heldout-min`` (default 4) s of speech (voxclone's VAD): everything after the first
``--heldout-from`` seconds of speech (default 9) is the held-out truth. References, all
cut from the start of the utterance: 3 s, 6 s, 9 s... of speech as one clip each, up
to all the speech before the held-out part, and that same speech as clips of 3 s (a
few-shot enrollment). The corpus holds one utterance per speaker, the longest with
14-16 s of speech, so 12 s of reference ("all available speech") leaves 2 s held out.
Each reference is enrolled at ``--effort`` (default ``fast``) and speaks the three
sentences of ``bench/clone_quality.py``; similarity is the cosine of the clone's
d-vector to the held-out part's, normalised as in ``clone_quality.py`` (0: a different
speaker, 1: the same speaker in another recording, measured on this data). Every
condition is scored against the same held-out part, so conditions compare
speaker by speaker.

``--pool dev`` takes the speakers from the calibration half of the corpus instead, none
of them among the quality benchmark's (``bench/results/clone_quality.json``), for
choices that must not be made on the benchmark's speakers. ``--renderings N`` gives the
search a fixed number of renderings instead of its time budget, so that conditions
differ only in their reference, not in how busy the CPU was.

    python bench/few_shot.py [--speakers 24] [--effort fast] [--heldout-from 9]
        [--pool benchmark|dev] [--renderings N] [--out PATH]

writes ``bench/results/few_shot.{md,json}``.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.audio import Audio, detect_speech, load_audio
from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone import fit
from voxclone.clone.fit import EFFORTS
from voxclone.speaker import cosine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_data as qd
import speech_data as sd  # the shared benchmark helpers next to this file
from clone_quality import SENTENCES, join  # the same sentences as the quality bench
from clone_quality_report import prosody_errors, prosody_shares

#: Seconds of held-out speech needed after the references (default).
HELDOUT_MIN_S = 4.0
CLIP_S = 3.0


def conditions(heldout_from: float) -> dict[str, tuple[tuple[float, float], ...]]:
    """Condition name -> reference clips, each (start, end) in seconds of speech."""
    sizes = [CLIP_S * k for k in range(1, int(heldout_from // CLIP_S) + 1)]
    out: dict[str, tuple[tuple[float, float], ...]] = {
        f"{size:g} s": ((0.0, size),) for size in sizes}
    out[f"{len(sizes)} x {CLIP_S:g} s clips"] = tuple((a - CLIP_S, a) for a in sizes)
    return out


DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "few_shot"


def pool_utterances(pool: str, speech_dir: str | None) -> list[sd.Utterance]:
    """The utterances speakers are drawn from: the whole corpus (``benchmark``) or the
    calibration half without the quality benchmark's speakers (``dev``)."""
    if pool == "benchmark":
        return sd.read_index(sd.corpus_dir(speech_dir))
    return qd.dev_utterances(speech_dir)


def speech_time(segments: list[tuple[float, float]], speech_s: float) -> float:
    """The recording time (s) at which ``speech_s`` seconds of speech have been heard."""
    total = 0.0
    for start, end in segments:
        if total + (end - start) >= speech_s:
            return start + speech_s - total
        total += end - start
    return segments[-1][1]


def cut(audio: Audio, start_s: float, end_s: float) -> Audio:
    rate = audio.sample_rate
    return Audio(audio.samples[round(start_s * rate): round(end_s * rate)], rate)


def clone_similarity(clips: list[Audio], heldout: np.ndarray, effort: str,
                     norm: sd.Normalisation, speaker: ProsodyStats) -> dict[str, Any]:
    began = time.perf_counter()
    voice = voxclone.enroll("few-shot", clips, effort=effort,  # type: ignore[arg-type]
                            save=False, i_am_the_speaker=True, force=True)
    enroll_s = time.perf_counter() - began
    clone = join([voxclone.synthesize(text, voice) for text in SENTENCES])
    raw = cosine(voxclone.embed(clone), heldout)
    # The enrolled d-vector scored like a clone: how much of a condition's gain is the
    # speaker's d-vector itself, and how much the rest of the enrollment.
    target = norm.normalise(cosine(voice.embedding, heldout))
    # Pitch and pace against the whole utterance's, as clone_quality.py scores them.
    return {"cosine": raw, "similarity": norm.normalise(raw), "enroll_s": enroll_s,
            "tone": voice.tone is not None, "target": target,
            **prosody_errors(prosody_stats(clone), speaker),
            # the reference itself scored the same way: how far its own statistics go
            "reference": prosody_errors(prosody_stats(join(clips)), speaker)}


def measure(utterances: Sequence[sd.Utterance],
            conds: dict[str, tuple[tuple[float, float], ...]], args: argparse.Namespace,
            min_speech: float, norm: sd.Normalisation) -> list[dict[str, Any]]:
    """Every condition of the first ``args.speakers`` speakers (half female) whose
    utterance holds ``min_speech`` seconds of speech: one row per speaker."""
    eligible: dict[str, list[sd.Utterance]] = {"F": [], "M": []}
    for utterance in sorted(utterances, key=lambda u: sd._order_key(u.speaker)):
        if utterance.seconds < min_speech:
            continue
        eligible[utterance.gender].append(utterance)
    rows: list[dict[str, Any]] = []
    wanted = {"F": args.speakers - args.speakers // 2, "M": args.speakers // 2}
    for gender, pool in eligible.items():
        taken = 0
        for utterance in pool:
            if taken == wanted[gender]:
                break
            audio = load_audio(str(utterance.path))
            segments = detect_speech(audio)
            if sum(e - s for s, e in segments) < min_speech:
                continue
            taken += 1
            heldout = voxclone.embed(cut(audio, speech_time(segments, args.heldout_from),
                                         audio.duration))
            speaker = prosody_stats(audio)
            if not rows and taken == 1:
                sd.warm_up(cut(audio, 0.0, min(audio.duration, 8.0)), [args.effort])
            row: dict[str, Any] = {"speaker": utterance.speaker, "gender": gender}
            for name, spans in conds.items():
                clips = [cut(audio, speech_time(segments, a), speech_time(segments, b))
                         for a, b in spans]
                row[name] = clone_similarity(clips, heldout, args.effort, norm, speaker)
            print(f"{utterance.speaker} ({gender}): " + ", ".join(
                f"{n} {row[n]['similarity']:.3f}" for n in conds), flush=True)
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--speakers", type=int, default=24,
                        help="speakers, half female (default 24)")
    parser.add_argument("--effort", default="fast", choices=EFFORTS)
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--heldout-from", type=float, default=9.0,
                        help="seconds of speech before the held-out part (a multiple "
                             "of 3; default 9)")
    parser.add_argument("--heldout-min", type=float, default=HELDOUT_MIN_S,
                        help="seconds of held-out speech needed (default "
                             f"{HELDOUT_MIN_S:g}; the corpus's longest utterances hold "
                             "14-16 s of speech)")
    parser.add_argument("--skip", default="",
                        help="comma-separated conditions to leave out, e.g. '3 s' (the "
                             "6 s baseline is always run)")
    parser.add_argument("--pool", default="benchmark", choices=("benchmark", "dev"),
                        help="speakers: the corpus in the benchmark's order (default) "
                             "or calibration speakers outside the quality benchmark")
    parser.add_argument("--renderings", type=int, default=None,
                        help="a fixed number of refinement renderings (gradient steps) "
                             "instead of the effort's time budget")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    if args.heldout_from < 2 * CLIP_S or args.heldout_from % CLIP_S:
        parser.error(f"--heldout-from must be a multiple of {CLIP_S:g}, at least "
                     f"{2 * CLIP_S:g}")
    if args.renderings is not None and fit.REFINE_SECONDS[args.effort] <= 0:
        parser.error(f"--renderings needs an effort that searches (balanced or best), "
                     f"not {args.effort}")
    skip = {name.strip() for name in args.skip.split(",") if name.strip()} - {"6 s"}
    conds = {name: spans for name, spans in conditions(args.heldout_from).items()
             if name not in skip}
    min_speech = args.heldout_from + args.heldout_min
    started = time.perf_counter()
    corpus = sd.read_index(sd.corpus_dir(args.speech_dir))
    norm, _ = sd.measure_normalisation(corpus, voxclone.embed, print, cache=True)
    utterances = pool_utterances(args.pool, args.speech_dir)
    print(f"normalisation: same {norm.same_mean:.3f}, different {norm.diff_mean:.3f}")

    with contextlib.ExitStack() as stack:
        if args.renderings is not None:
            # Far more time than the renderings take: the count alone ends the search.
            stack.enter_context(mock.patch.dict(fit.REFINE_SECONDS, {args.effort: 3600.0}))
            stack.enter_context(mock.patch.dict(fit.REFINE_EVALUATIONS,
                                                {args.effort: args.renderings}))
        rows = measure(utterances, conds, args, min_speech, norm)

    if not rows:
        raise SystemExit(f"no utterance holds {min_speech:g} s of speech; lower "
                         "--heldout-from or --heldout-min")
    base = "6 s"
    lines = [
        "# Few-shot curve", "",
        f"- date: {sd.now()}; machine: {sd.machine()}; git: {sd.git_commit()}",
        f"- {len(rows)} LibriSpeech speakers ({sum(r['gender'] == 'F' for r in rows)} "
        f"female, pool `{args.pool}`) with >= {min_speech:g} s of speech; effort "
        f"`{args.effort}`"
        + (f" with {args.renderings} search renderings" if args.renderings else "")
        + f"; held-out: the speech after the first {args.heldout_from:g} s",
        f"- normalisation: same {norm.same_mean:.3f}, different {norm.diff_mean:.3f} "
        f"({norm.speakers} utterances); wall time {time.perf_counter() - started:.0f} s", "",
        "- paired difference: mean over speakers +- its standard error; enrolled "
        "d-vector: the speaker's combined d-vector itself scored against the held-out "
        "part; F0 and rate: issue 3's targets against the whole utterance, for the clone "
        "and (in brackets) for the reference clips themselves", "",
        f"| reference | similarity (mean) | median | vs {base} (paired) | "
        f"speakers closer than with {base} | enrolled d-vector (mean) | "
        f"its vs {base} (paired) | tone curve kept | F0 within 1 st | F0 range within "
        "20 % | rate within 10 % | enroll s (median) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in conds:
        sims = [r[name]["similarity"] for r in rows]
        diffs = [r[name]["similarity"] - r[base]["similarity"] for r in rows]
        closer = sum(d > 0 for d in diffs)
        targets = [r[name]["target"] for r in rows]
        target_diffs = [t - r[base]["target"] for t, r in zip(targets, rows, strict=True)]
        shares = prosody_shares([r[name] for r in rows])
        own = prosody_shares([r[name]["reference"] for r in rows])
        lines.append(
            f"| {name} | {statistics.fmean(sims):.3f} | {statistics.median(sims):.3f} | "
            f"{sd.mean_se(diffs) if name != base else ''} | {closer}/{len(rows)} | "
            f"{statistics.fmean(targets):.3f} | "
            f"{sd.mean_se(target_diffs) if name != base else ''} | "
            f"{sum(r[name]['tone'] for r in rows)}/{len(rows)} | "
            + " | ".join(f"{shares[k]:.0%} ({own[k]:.0%})" for k in (
                "f0_within_1st", "f0_range_within_20pct", "rate_within_10pct"))
            + f" | {statistics.median(r[name]['enroll_s'] for r in rows):.1f} |")
    text = "\n".join(lines) + "\n"
    sd.write_results(args.out, text,
                     {"effort": args.effort, "pool": args.pool,
                      "renderings": args.renderings, "normalisation": vars(norm),
                      "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
