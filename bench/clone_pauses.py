"""Clone pauses: does a clone pause as long as its speaker does?

On the 48 speakers of ``bench/clone_quality.py`` (LibriSpeech, ``../shared/speech``,
half female), each enrolled at ``--effort`` (default ``fast``) from the first 6 s of
speech of their utterance, the clone reads a five-sentence passage with three commas.
A pause is a gap between the Silero VAD's speech segments (its padding added back,
none over 3 s: :func:`voxclone.audio.pauses.pauses_between`). Each clone's median
pause over the passage (its sentence gaps, and its commas where the VAD hears them) is
compared with the median pause of the speaker's held-out speech (the utterance after
the reference, VAD on that part alone; speakers without a pause there are left out).

Rows, in one run, on the same voices:
- the engine's own silences and 0.12 s between sentences (what synthesis did before
  the pause match),
- LibriSpeech readers' pause (0.51 s) between sentences (``match_pauses=False``),
- the voice's pause (default: the speaker's, drawn toward readers' the fewer pauses
  the reference holds; :func:`voxclone.audio.pauses.speaker_pause`).

Whether trimming the engine's silences costs words or identity: the first and last
rows also speak ``clone_quality.py``'s three sentences, each on its own, scored as there
(pocketsphinx word errors; normalised similarity of the joined clips to the held-out
speech).

    python bench/clone_pauses.py [--speakers 48] [--effort fast] [--out PATH]

writes ``bench/results/clone_pauses.{md,json}``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.audio import Audio
from voxclone.audio.pauses import POPULATION_PAUSE_S
from voxclone.clone.fit import EFFORTS
from voxclone.pipeline import END_S
from voxclone.speaker import cosine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
from clone_quality import SENTENCES, join  # the quality bench's sentences and joining
from pause_habits import measure  # pauses measured as there

PASSAGE = (
    "When the storm finally passed, we walked down to the river. The water was high and "
    "brown. Nobody spoke for a while. Then my sister laughed, and we all turned back. It "
    "was almost dark by the time we reached the house."
)
#: What synthesis put between sentences before the pause match, after the engine's own
#: trailing and leading silence.
OLD_SENTENCE_PAUSE_S = 0.12
DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "clone_pauses"


def old_join(samples: np.ndarray, rate: int, *, lead: float, after: float) -> np.ndarray:
    """What synthesis did where it now calls ``reframe``: the rendered piece as it is,
    0.12 s of silence after it unless it is the last (whole synthesis of short
    sentences has no piece that does not end a sentence)."""
    if after == END_S:
        return samples
    return np.concatenate([samples, np.zeros(round(OLD_SENTENCE_PAUSE_S * rate), np.float32)])


def engine_silences(text: str, voice: voxclone.VoiceProfile) -> Audio:
    """``text`` as ``synthesize`` rendered it before the pause match: each sentence
    with the engine's own silences, 0.12 s of silence between sentences."""
    with mock.patch("voxclone.pipeline.reframe", old_join):
        return voxclone.synthesize(text, voice)


BEFORE = "engine's silences + 0.12 s (before)"
DEFAULT = "the voice's pause (default)"
ROWS: dict[str, Callable[[str, voxclone.VoiceProfile], Audio]] = {
    BEFORE: engine_silences,
    f"readers' pause, {POPULATION_PAUSE_S} s": lambda t, v: voxclone.synthesize(
        t, v, sentence_pause=POPULATION_PAUSE_S),
    DEFAULT: lambda t, v: voxclone.synthesize(t, v),
}


def sentences_scored(speak: Callable[[str, voxclone.VoiceProfile], Audio],
                     voice: voxclone.VoiceProfile, heldout: np.ndarray,
                     norm: sd.Normalisation, recognizer: sd.Recognizer) -> dict[str, Any]:
    """clone_quality.py's scoring: its sentences spoken one by one, word errors, and
    the joined clips' normalised similarity to the held-out speech."""
    clips = [speak(text, voice) for text in SENTENCES]
    heard = [sd.score_transcript(recognizer, t, c) for t, c in zip(SENTENCES, clips,
                                                                    strict=True)]
    return {"errors": sum(t.errors for t in heard), "words": sum(t.words for t in heard),
            "similarity": norm.normalise(cosine(voxclone.embed(join(clips)), heldout))}


def agreement(rows: Sequence[dict[str, Any]], name: str) -> dict[str, float]:
    """The row's clone pauses against the speakers' held-out pauses."""
    pairs = [(r[name]["pause"], r["heldout_pause"]) for r in rows
             if r[name]["pause"] is not None]
    logs = [math.log2(c / s) for c, s in pairs]
    return {"speakers": len(pairs),
            "ratio_median": 2 ** statistics.median(logs),
            "mean_abs_log2": statistics.fmean(abs(x) for x in logs),
            "within_25pct": sum(abs(x) <= math.log2(1.25) for x in logs) / len(logs),
            "clone_pause_median": statistics.median(c for c, _ in pairs),
            "seconds_median": statistics.median(r[name]["seconds"] for r in rows)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--speakers", type=int, default=48, help="half female (default 48)")
    parser.add_argument("--effort", default="fast", choices=EFFORTS)
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    norm, usable = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    chosen = sd.choose_speakers(utterances, set(usable), args.speakers)
    recognizer = sd.Recognizer()

    rows: list[dict[str, Any]] = []
    for index, utterance in enumerate(chosen, 1):
        split = sd.split_utterance(utterance)
        assert split is not None  # chosen among usable utterances
        voice = voxclone.enroll(f"bench-{utterance.speaker}", split.reference,
                                effort=args.effort, save=False,
                                i_am_the_speaker=True,  # public benchmark speech
                                force=True)  # every speaker is measured, gate or not
        row: dict[str, Any] = {"speaker": utterance.speaker, "gender": utterance.gender,
                               "heldout_pause": measure(split.heldout)["median"],
                               "voice_pause": voice.pause, "rate_factor": voice.rate}
        for name, speak in ROWS.items():
            audio = speak(PASSAGE, voice)
            row[name] = {"pause": measure(audio)["median"], "seconds": audio.duration}
            if name in (BEFORE, DEFAULT):
                row[name]["sentences"] = sentences_scored(
                    speak, voice, usable[utterance.speaker], norm, recognizer)
        rows.append(row)
        print(f"[{index}/{len(chosen)}] {utterance.speaker} ({utterance.gender}): held-out "
              f"{row['heldout_pause']}, voice {voice.pause}, clone " + ", ".join(
                  f"{row[n]['pause']}" for n in ROWS), flush=True)

    scored = [r for r in rows if r["heldout_pause"] is not None]
    table = {name: agreement(scored, name) for name in ROWS}
    lines = [
        "# Clone pauses", "",
        f"- date: {sd.now()}; machine: {sd.machine()}; git: {sd.git_commit()}",
        f"- {len(rows)} LibriSpeech speakers ({sum(r['gender'] == 'F' for r in rows)} "
        f"female), effort `{args.effort}`, 6 s references; {len(scored)} with a pause in "
        "their held-out speech (median of their median pauses "
        f"{statistics.median(r['heldout_pause'] for r in scored):.2f} s); "
        f"{sum(r['voice_pause'] is not None for r in rows)} with a pause in the reference; "
        f"wall time {time.perf_counter() - started:.0f} s",
        f"- passage: \"{PASSAGE}\"", "",
        "| clone pauses | speakers | clone's median pause (median) | clone / speaker "
        "(median) | mean abs log2 ratio | within 25 % | passage s (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in table.items():
        lines.append(f"| {name} | {s['speakers']} | {s['clone_pause_median']:.2f} s | "
                     f"{s['ratio_median']:.2f} | {s['mean_abs_log2']:.3f} | "
                     f"{s['within_25pct']:.0%} | {s['seconds_median']:.1f} |")
    lines += ["", f"clone_quality.py's three sentences, spoken one by one ({len(rows)} "
              "speakers):", "", "| clone pauses | WER (pocketsphinx) | similarity (mean) |",
              "|---|---|---|"]
    for name in (BEFORE, DEFAULT):
        scored_rows = [r[name]["sentences"] for r in rows]
        wer = sum(s["errors"] for s in scored_rows) / sum(s["words"] for s in scored_rows)
        similarity = statistics.fmean(s["similarity"] for s in scored_rows)
        table[name]["sentences"] = {"wer": wer, "similarity_mean": similarity}
        lines.append(f"| {name} | {wer:.1%} | {similarity:.3f} |")
    text = "\n".join(lines) + "\n"
    sd.write_results(args.out, text, {"effort": args.effort, "passage": PASSAGE,
                                      "summary": table, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
