"""How long streaming's lead-in should be: first audio against words heard (issue 8).

``synthesize_stream`` cuts a long first sentence so that its first chunk holds at most
``STREAM_FIRST_CHUNK_TOKENS`` phonemes. For each cap in ``--caps`` this measures, with
a ``fast`` clone of one LibriSpeech speaker: the time to the first chunk for
``speed.py``'s paragraph and story (median of ``--runs`` interleaved runs), and the
PocketSphinx word errors of ``speed.py``'s eight comparison sentences streamed (each
one's chunks joined), next to the same sentences synthesised whole.

Run from the repo root: ``python bench/lead_in.py``; writes
``bench/results/lead_in.{md,json}``. About 4 minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone import synthesis
from voxclone.audio import Audio

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
import speed_texts as texts


def first_audio_s(text: str, voice: voxclone.VoiceProfile) -> float:
    began = time.perf_counter()
    stream = voxclone.synthesize_stream(text, voice)
    next(stream)
    took = time.perf_counter() - began
    stream.close()
    return took


def word_errors(recognizer: sd.Recognizer, clips: list[Audio]) -> dict[str, Any]:
    heard = [sd.score_transcript(recognizer, t, c) for t, c in zip(texts.QUALITY, clips,
                                                                   strict=True)]
    return {"errors": sum(h.errors for h in heard), "words": sum(h.words for h in heard),
            "heard": [h.heard for h in heard]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--caps", default="12,16,20,24")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--speaker", default="1069")
    parser.add_argument("--out", default=str(sd.REPO_ROOT / "bench" / "results" / "lead_in"))
    args = parser.parse_args(argv)
    caps = [int(c) for c in args.caps.split(",")]
    started = time.perf_counter()
    utterance = next(u for u in sd.read_index(sd.corpus_dir(None))
                     if u.speaker == args.speaker)
    split = sd.split_utterance(utterance)
    if split is None:
        raise SystemExit(f"speaker {args.speaker}'s utterance is too short")
    voice = voxclone.enroll("lead-in", split.reference, effort="fast", save=False,
                            i_am_the_speaker=True, force=True)
    cases = {"paragraph": texts.MEDIUM, "story": texts.LONG}
    times: dict[int, dict[str, list[float]]] = {c: {k: [] for k in cases} for c in caps}
    for run in range(args.runs + 1):  # interleaved; the first round warms up
        for cap in caps:
            with mock.patch.object(synthesis, "STREAM_FIRST_CHUNK_TOKENS", cap):
                for name, text in cases.items():
                    took = first_audio_s(text, voice)
                    if run:
                        times[cap][name].append(took)
    recognizer = sd.Recognizer()
    whole = word_errors(recognizer, [voxclone.synthesize(t, voice) for t in texts.QUALITY])
    rows = []
    for cap in caps:
        with mock.patch.object(synthesis, "STREAM_FIRST_CHUNK_TOKENS", cap):
            clips = [Audio(np.concatenate([c.samples for c in
                                           voxclone.synthesize_stream(t, voice)]), 24_000)
                     for t in texts.QUALITY]
        rows.append({"cap": cap, **{f"first_audio_{k}_s": statistics.median(v)
                                    for k, v in times[cap].items()},
                     "streamed": word_errors(recognizer, clips)})
        print(f"cap {cap}: first audio {rows[-1]['first_audio_paragraph_s'] * 1000:.0f} / "
              f"{rows[-1]['first_audio_story_s'] * 1000:.0f} ms, streamed errors "
              f"{rows[-1]['streamed']['errors']}/{rows[-1]['streamed']['words']}", flush=True)
    meta = sd.run_meta(started, speaker=args.speaker, runs=args.runs)
    lines = [
        "# Streaming lead-in length: first audio and words heard", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- wall time {meta['wall_s']:.0f} s; a fast clone of LibriSpeech speaker "
        f"{args.speaker}; first audio: median of {args.runs} interleaved runs; words: "
        f"speed.py's {len(texts.QUALITY)} comparison sentences, synthesised whole: "
        f"{whole['errors']}/{whole['words']} errors", "",
        "| lead-in cap (phonemes) | first audio, paragraph | first audio, story | "
        "streamed word errors |", "|---|---|---|---|",
        *(f"| {r['cap']} | {r['first_audio_paragraph_s'] * 1000:.0f} ms | "
          f"{r['first_audio_story_s'] * 1000:.0f} ms | {r['streamed']['errors']}/"
          f"{r['streamed']['words']} |" for r in rows),
    ]
    sd.write_results(args.out, "\n".join(lines) + "\n",
                     {"meta": meta, "whole": whole, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
