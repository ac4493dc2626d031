"""Word errors with and without the silence the recognizer puts around a clip.

pocketsphinx expects silence before the first word; synthesis starts speaking 20 ms
in. This scores the same audio both ways, in one run: Piper joe's takes of
clone_quality.py's three sentences (the stock voice its WER ratio divides by) and
`fast` clones of LibriSpeech speakers (chosen and cut as clone_quality.py does)
speaking them.

    python bench/asr_padding.py [--speakers 48]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import speech_data as sd
from clone_quality import JOE_TAKES, SENTENCES

import voxclone
from voxclone.asr.recognizer import PAD_S
from voxclone.audio import Audio

DEFAULT_OUT = Path(__file__).parent / "results" / "asr_padding"


def errors(recognizers: dict[str, sd.Recognizer], texts: Sequence[str],
           clips: Sequence[Audio]) -> dict[str, tuple[int, int]]:
    """Word errors and words per recognizer over ``clips`` reading ``texts``."""
    totals: dict[str, tuple[int, int]] = {}
    for name, recognizer in recognizers.items():
        scored = [sd.score_transcript(recognizer, t, c)
                  for t, c in zip(texts, clips, strict=True)]
        totals[name] = (sum(s.errors for s in scored), sum(s.words for s in scored))
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=48)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--speech-dir", default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    folder = sd.corpus_dir(args.speech_dir)
    utterances = sd.read_index(folder)
    _, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    chosen = sd.choose_speakers(utterances, set(heldout), args.speakers)
    recognizers = {"none": sd.Recognizer(pad_s=0.0), f"{PAD_S:g} s": sd.Recognizer()}

    texts = list(SENTENCES) * JOE_TAKES
    joe_clips, _ = sd.stock_voice_audio(texts)
    joe = errors(recognizers, texts, joe_clips)
    clones = {name: (0, 0) for name in recognizers}
    for index, utterance in enumerate(chosen, 1):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        voice = voxclone.enroll(f"bench-{utterance.speaker}", split.reference, effort="fast",
                                save=False, i_am_the_speaker=True, force=True)
        said = [voxclone.synthesize(t, voice) for t in SENTENCES]
        for name, (e, n) in errors(recognizers, SENTENCES, said).items():
            clones[name] = (clones[name][0] + e, clones[name][1] + n)
        print(f"[{index}/{len(chosen)}] {utterance.speaker}: "
              + ", ".join(f"{k} {e}/{n}" for k, (e, n) in clones.items()), flush=True)

    def wer(pair: tuple[int, int]) -> float:
        return pair[0] / pair[1]

    lines = [
        "# Recognizer padding",
        "",
        f"- date: {sd.now()}; machine: {sd.machine()}; git: {sd.git_commit()}",
        f"- Piper joe: {JOE_TAKES} takes of clone_quality.py's {len(SENTENCES)} sentences; "
        f"`fast` clones of {len(chosen)} LibriSpeech speakers speaking them once; the same "
        "audio scored both ways",
        f"- wall time {time.perf_counter() - started:.0f} s",
        "",
        "| silence around each clip | Piper joe WER | `fast` clones WER | ratio to joe |",
        "|---|---|---|---|",
    ]
    for name in recognizers:
        lines.append(f"| {name} | {wer(joe[name]):.1%} ({joe[name][0]}/{joe[name][1]}) | "
                     f"{wer(clones[name]):.1%} ({clones[name][0]}/{clones[name][1]}) | "
                     f"{wer(clones[name]) / wer(joe[name]):.2f} |")
    text = "\n".join(lines) + "\n"
    data: dict[str, Any] = {"speakers": [u.speaker for u in chosen], "joe": joe,
                            "clones": clones, "pad_s": PAD_S}
    sd.write_results(args.out, text, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
