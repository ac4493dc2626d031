"""Whether the pitch and rate match should hear a clone on more sentences (issue 3).

Enrollment measures a clone's median F0, F0 range and syllable rate on two sentences
(the probe and ``voxclone.clone.fit.RATE_TEXT``) and stores the pitch shift, range
factor and rate factor that bring it to its speaker. A voice's rate varies from
sentence to sentence, so factors measured on two miss what others will speak. For
each speaker this enrolls once (``--effort``, as shipped), then measures the same
voice's factors again on the two sentences plus the first ``k`` of
``voxclone.clone.fit.MORE_PROSODY_TEXTS`` for each ``k`` in ``--counts``, speaks
clone_quality's three sentences with each set (the voice's style, formant ratio and
tone unchanged), and scores them against the speaker's whole utterance with
clone_quality's targets (F0 within 1 st, range within 20 %, rate within 10 %) and
pocketsphinx's word errors. Every set is paired with the others on the same voice.

Speakers: calibration speakers outside every benchmark (utterances of at least 12 s,
half female) unless ``--benchmark`` takes clone_quality's.

Run from the repo root: ``python bench/prosody_texts.py [--effort balanced]``; writes
``bench/results/prosody_texts.{md,json}``. About 25 s a speaker at ``fast``.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import voxclone
from voxclone.audio.prosody import prosody_stats
from voxclone.clone import fit
from voxclone.consent.voice_seal import seal_voice
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.speaker import default_encoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import speech_data as sd
from clone_quality_report import prosody_errors, prosody_shares
from fast_refine import dev_speakers


def speakers(count: int, benchmark: bool, speech_dir: str | None) -> list[sd.Split]:
    if not benchmark:
        return dev_speakers(count, speech_dir)
    utterances = sd.read_index(sd.corpus_dir(speech_dir))
    # clone_quality's choice: among the speakers its normalisation found usable
    _, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    chosen = sd.choose_speakers(utterances, set(heldout), count)
    return [s for s in (sd.split_utterance(u) for u in chosen) if s is not None]


def enroll(split: sd.Split, effort: str) -> tuple[voxclone.VoiceProfile, bool]:
    """The speaker enrolled as shipped, and whether enrollment told the pitch and rate
    match that the reference is noisy."""
    asked: dict[str, Any] = {}
    original = fit.VoiceFitter.match_pitch_rate

    def spy(self: fit.VoiceFitter, *args: Any, **kwargs: Any) -> Any:
        asked.update(kwargs)
        return original(self, *args, **kwargs)

    with mock.patch.object(fit.VoiceFitter, "match_pitch_rate", spy):
        profile = voxclone.enroll("texts", split.reference, effort=effort,  # type: ignore[arg-type]
                                  save=False, i_am_the_speaker=True, force=True)
    return profile, bool(asked.get("noisy_reference", False))


def score(profile: voxclone.VoiceProfile, split: sd.Split, recognizer: sd.Recognizer,
          whole: Any) -> dict[str, Any]:
    clips = [voxclone.synthesize(text, profile) for text in cq.SENTENCES]
    transcripts = [sd.score_transcript(recognizer, t, c)
                   for t, c in zip(cq.SENTENCES, clips, strict=True)]
    return {**prosody_errors(prosody_stats(cq.join(clips)), whole),
            "rate_factor": profile.rate, "pitch_shift": profile.pitch_shift,
            "pitch_range_factor": profile.pitch_range,
            "asr_errors": sum(t.errors for t in transcripts),
            "asr_words": sum(t.words for t in transcripts)}


def main(argv: list[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=48,
                               out=sd.REPO_ROOT / "bench" / "results" / "prosody_texts")
    parser.add_argument("--effort", default="fast", choices=("fast", "balanced", "best"))
    parser.add_argument("--counts", default="0,2,4",
                        help="how many of MORE_PROSODY_TEXTS each row adds")
    parser.add_argument("--benchmark", action="store_true",
                        help="clone_quality's speakers instead of calibration ones")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    started = time.perf_counter()
    splits = speakers(args.speakers, args.benchmark, args.speech_dir)
    recognizer = sd.Recognizer()
    fitter = fit.VoiceFitter(default_engine(), default_encoder(), stock_packs())
    rows: list[dict[str, Any]] = []
    for index, split in enumerate(splits, 1):
        whole = prosody_stats(split.audio)
        began = time.perf_counter()
        profile, noisy = enroll(split, args.effort)
        enroll_s = time.perf_counter() - began
        for count in counts:
            texts = fit.MORE_PROSODY_TEXTS[:count]
            began = time.perf_counter()
            with mock.patch.dict(fit.PROSODY_TEXTS, {args.effort: texts}):
                match = fitter.match_pitch_rate(profile.conditioning, profile.prosody,
                                                effort=args.effort,
                                                noisy_reference=noisy)
            measure_s = time.perf_counter() - began
            voice = seal_voice(dataclasses.replace(profile, pitch_shift=match.pitch_shift,
                                                   rate=match.rate,
                                                   pitch_range=match.pitch_range))
            row = {"speaker": split.utterance.speaker, "gender": split.utterance.gender,
                   "sentences": 2 + count, "enroll_s": enroll_s, "measure_s": measure_s,
                   "same_as_enrolled": (match.pitch_shift, match.rate, match.pitch_range)
                   == (profile.pitch_shift, profile.rate, profile.pitch_range),
                   **score(voice, split, recognizer, whole)}
            rows.append(row)
            print(f"[{index}/{len(splits)}] {row['speaker']} {row['sentences']} sentences: "
                  f"rate x{row['rate_factor']:.2f} -> {row['rate_ratio']:.2f}, range "
                  f"{row['f0_range_ratio']:.2f}, F0 {row['f0_error_st']:.2f} st, ASR "
                  f"{row['asr_errors']}/{row['asr_words']}", flush=True)
    table = []
    for count in counts:
        mine = [r for r in rows if r["sentences"] == 2 + count]
        table.append({"sentences": 2 + count, **prosody_shares(mine),
                      "wer": sum(r["asr_errors"] for r in mine)
                      / sum(r["asr_words"] for r in mine),
                      "measure_s": statistics.median(r["measure_s"] for r in mine)})
    base = {r["speaker"]: r for r in rows if r["sentences"] == 2 + counts[0]}
    for entry in table[1:]:
        mine = [r for r in rows if r["sentences"] == entry["sentences"]]
        entry["rate_closer"] = sum(abs(r["rate_ratio"] - 1)
                                   < abs(base[r["speaker"]]["rate_ratio"] - 1) for r in mine)
        entry["rate_farther"] = sum(abs(r["rate_ratio"] - 1)
                                    > abs(base[r["speaker"]]["rate_ratio"] - 1) for r in mine)
    reproduced = sum(r["same_as_enrolled"] for r in rows if r["sentences"] == 2)
    meta = sd.run_meta(started, effort=args.effort, benchmark=args.benchmark,
                       speakers=[s.utterance.speaker for s in splits], counts=counts,
                       texts=list(fit.MORE_PROSODY_TEXTS))
    lines = [
        f"# The pitch and rate match measured on more sentences ({args.effort})", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- wall time {meta['wall_s']:.0f} s; {len(splits)} "
        + ("of clone_quality's speakers" if args.benchmark else
           "calibration speakers outside every benchmark")
        + " (half female); each enrolled once, its factors measured on each number of "
        "sentences and clone_quality's three sentences spoken with each set; targets "
        "against the speaker's whole utterance",
        f"- the two-sentence row reproduces the enrolled factors for {reproduced} of "
        f"{len(splits)} voices", "",
        "| sentences measured | F0 within 1 st | range within 20 % | rate within 10 % "
        "| all three | rate closer / farther than 2 | WER | measuring (median) |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {t['sentences']} | {t['f0_within_1st']:.0%} | {t['f0_range_within_20pct']:.0%} "
          f"| {t['rate_within_10pct']:.0%} | {t['all_prosody_met']:.0%} | "
          f"{t.get('rate_closer', '-')} / {t.get('rate_farther', '-')} | {t['wer']:.1%} "
          f"| {t['measure_s']:.1f} s |" for t in table),
    ]
    sd.write_results(args.out, "\n".join(lines) + "\n",
                     {"meta": meta, "table": table, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
