"""Word errors along the timbre's gradient ascent: does moving closer cost words? (issue 3)

The ascent (``voxclone.clone.gradient_fit``) raised `balanced`'s pocketsphinx word
errors on ``clone_quality.py``'s three sentences. This shows where along the ascent
they come from. Each speaker is enrolled at `balanced` with a fixed number of steps
(``--steps``, not the time budget, so the machine's speed does not matter); every
timbre the ascent rendered is recorded, and the voices at the chosen steps
(``--at``, 0 being the start, `fast`'s voice) speak ``clone_quality.py``'s three
sentences and five everyday ones with the enrolled voice's pitch, range, rate,
formant and tone factors, so that only the timbre differs between them. Each is
scored for similarity (the three sentences against the held-out speech, normalised as
in ``clone_quality.py``) and word errors; the step's offset from the start is given in
the stock voices' spread per dimension (RMS), the unit of the search's bound.

Speakers: the calibration speakers outside the benchmark (``fast_refine.dev_speakers``).

    python bench/ascent_words.py [--speakers 12] [--steps 12] [--at 0,4,8,12]

writes ``bench/results/ascent_words.{md,json}``. About 90 s per speaker.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.clone import fit, gradient_fit
from voxclone.consent.voice_seal import seal_voice
from voxclone.engines.kokoro_grad import TIMBRE_DIMS
from voxclone.speaker import cosine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import fast_refine
import speech_data as sd

#: Everyday sentences spoken after clone_quality.py's three (none of them enrollment's).
EVERYDAY = (
    "I will see you at the library after lunch.",
    "I left the keys on the kitchen table this morning.",
    "It is going to rain later, so bring an umbrella.",
    "She bought three tickets for the concert on Friday.",
    "Turn left at the next corner and keep going straight.",
)
TEXTS = (*cq.SENTENCES, *EVERYDAY)
DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "ascent_words"


def ascend_recorded(split: sd.Split, steps: int) -> tuple[voxclone.VoiceProfile, Any,
                                                          np.ndarray, list[np.ndarray]]:
    """Enroll ``split``'s reference at `balanced` with ``steps`` ascent steps; returns
    the profile, the ascent's start, the step unit and every timbre it rendered."""
    replay = gradient_fit._replay()
    real_audio, real_ascend = type(replay).audio, gradient_fit.ascend
    timbres: list[np.ndarray] = []
    seen: dict[str, Any] = {}

    def audio(self: Any, prepared: Any, timbre: Any) -> Any:
        timbres.append(timbre.detach().numpy().copy())
        return real_audio(self, prepared, timbre)

    def ascend(start: Any, start_score: float, target: np.ndarray, **kwargs: Any) -> Any:
        seen.update(start=start, scale=np.asarray(kwargs["scale"], dtype=np.float32))
        kwargs.update(budget_s=1e6, max_steps=steps)
        return real_ascend(start, start_score, target, **kwargs)

    with mock.patch.object(type(replay), "audio", audio), \
            mock.patch.object(fit.gradient_fit, "ascend", ascend):
        profile = voxclone.enroll("bench-ascent", split.reference, effort="balanced",
                                  save=False, i_am_the_speaker=True, force=True)
    if "start" not in seen:
        raise SystemExit("the ascent did not run: is the engine Kokoro and the encoder GE2E?")
    return profile, seen["start"], seen["scale"][:TIMBRE_DIMS], timbres


def measure(split: sd.Split, at: Sequence[int], steps: int, norm: sd.Normalisation,
            recognizer: sd.Recognizer) -> list[dict[str, Any]]:
    held = voxclone.embed(split.heldout)
    profile, start, unit, timbres = ascend_recorded(split, steps)
    rows = []
    for step in at:
        moved = timbres[step] - timbres[0]
        delta = start.delta.copy()
        delta[:TIMBRE_DIMS] += moved
        voice = seal_voice(dataclasses.replace(profile, conditioning=start.with_delta(delta)))
        clips = [voxclone.synthesize(text, voice) for text in TEXTS]
        heard = [sd.score_transcript(recognizer, t, c) for t, c in zip(TEXTS, clips,
                                                                       strict=True)]
        three = len(cq.SENTENCES)
        rows.append({
            "speaker": split.utterance.speaker, "gender": split.utterance.gender,
            "step": step, "offset_rms": float(np.sqrt(np.mean((moved / unit) ** 2))),
            "similarity": norm.normalise(cosine(voxclone.embed(cq.join(clips[:three])),
                                                held)),
            "errors": sum(h.errors for h in heard), "words": sum(h.words for h in heard),
            "errors_three": sum(h.errors for h in heard[:three]),
            "words_three": sum(h.words for h in heard[:three]),
            "transcripts": [h.as_dict() for h in heard]})
        print(f"{split.utterance.speaker} step {step}: offset {rows[-1]['offset_rms']:.2f}, "
              f"similarity {rows[-1]['similarity']:.3f}, errors {rows[-1]['errors']}/"
              f"{rows[-1]['words']}", flush=True)
    return rows


def render(meta: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    at = meta["at"]
    lines = [
        "# Word errors along the gradient ascent", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {meta['speakers']} calibration speakers outside the benchmark (half female); "
        f"`balanced` with {meta['steps']} ascent steps; the voice at each step keeps the "
        "enrolled voice's pitch, range, rate, formant and tone factors; "
        f"{len(TEXTS)} sentences (clone_quality.py's {len(cq.SENTENCES)} and "
        f"{len(EVERYDAY)} everyday ones); wall time {meta['wall_s']:.0f} s",
        "- offset: RMS per timbre dimension from the start, in the stock voices' spread "
        "(the random search's bound is 1.5); similarity: clone_quality.py's three "
        "sentences against the held-out speech, normalised", "",
        "| step | offset (mean) | similarity (mean) | WER, all sentences | WER, "
        "clone_quality's three | errors vs step 0 (per speaker, mean +- se) | speakers "
        "with no more errors than at step 0 |", "|---|---|---|---|---|---|---|",
    ]
    first = {r["speaker"]: r["errors"] for r in rows if r["step"] == at[0]}
    for step in at:
        mine = [r for r in rows if r["step"] == step]
        more = [r["errors"] - first[r["speaker"]] for r in mine]
        lines.append(
            f"| {step} | {statistics.fmean(r['offset_rms'] for r in mine):.2f} | "
            f"{statistics.fmean(r['similarity'] for r in mine):.3f} | "
            f"{sum(r['errors'] for r in mine) / sum(r['words'] for r in mine):.1%} | "
            f"{sum(r['errors_three'] for r in mine) / sum(r['words_three'] for r in mine):.1%}"
            f" | {statistics.fmean(more):+.2f} +- {sd.standard_error(more):.2f} | "
            f"{sum(m <= 0 for m in more)}/{len(mine)} |")
    lines += ["", "Per speaker (errors of " f"{rows[0]['words']} words, similarity):", "",
              "| speaker | " + " | ".join(f"step {s}" for s in at) + " |",
              "|---|" + "---|" * len(at)]
    for speaker in dict.fromkeys(r["speaker"] for r in rows):
        cells = {r["step"]: r for r in rows if r["speaker"] == speaker}
        lines.append(f"| {speaker} | " + " | ".join(
            f"{cells[s]['errors']}, {cells[s]['similarity']:.2f}" for s in at) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=12, out=DEFAULT_OUT)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--at", default="0,4,8,12",
                        help="comma-separated steps whose voices are scored (0: the start)")
    args = parser.parse_args(argv)
    at = sorted({int(s) for s in args.at.split(",")})
    if not at or at[0] < 0 or at[-1] > args.steps:
        parser.error(f"--at must name steps between 0 and --steps ({args.steps})")
    started = time.perf_counter()
    corpus = sd.read_index(sd.corpus_dir(args.speech_dir))
    norm, _ = sd.measure_normalisation(corpus, voxclone.embed, print, cache=True)
    recognizer = sd.Recognizer()
    rows: list[dict[str, Any]] = []
    # The ascent renders the start too, so step k's timbre is the (k+1)-th rendered.
    for split in fast_refine.dev_speakers(args.speakers, args.speech_dir):
        rows += measure(split, at, args.steps + 1, norm, recognizer)
    meta = sd.run_meta(started, speakers=args.speakers, steps=args.steps, at=at)
    sd.write_results(args.out, render(meta, rows), {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
