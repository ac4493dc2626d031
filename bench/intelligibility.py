"""Word errors of clones and of the stock voice on twenty Harvard sentences.

``clone_quality.py`` scores intelligibility on its three sentences, and one word
("Thursday") holds most of the clones' errors there while most of Piper joe's fell on
another. This reads the first two IEEE 1969 Harvard lists (twenty phonetically
balanced sentences, public domain) with Piper's stock "joe" voice (``--joe-takes``
takes: Piper varies from take to take) and with clones of clone_quality.py's
speakers (chosen and cut the same way), and scores both with voxclone's recognizer
(pocketsphinx, 0.3 s of silence around each clip). Per sentence, it shows where the
errors fall.

    python bench/intelligibility.py [--speakers 16] [--effort fast] [--check-words]

writes ``bench/results/intelligibility.{md,json}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import voxclone

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
from watermark_clips import SENTENCES as WATERMARK_SENTENCES

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "intelligibility"

#: Harvard sentences, lists 1 and 2 (IEEE Recommended Practice for Speech Quality
#: Measurements, 1969): the first twenty of the watermark bench's clips.
HARVARD = WATERMARK_SENTENCES[:20]


def tally(transcripts: Sequence[sd.Transcript]) -> dict[str, Any]:
    """Word errors, words and their ratio over ``transcripts``."""
    errors = sum(t.errors for t in transcripts)
    words = sum(t.words for t in transcripts)
    return {"errors": errors, "words": words, "wer": errors / max(1, words)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=16)
    parser.add_argument("--effort", default="fast")
    parser.add_argument("--joe-takes", type=int, default=3)
    parser.add_argument("--check-words", action="store_true",
                        help="clones check their sentences by ear (synthesize(check_words=))")
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    began = time.perf_counter()
    recognizer = sd.Recognizer()
    texts = list(HARVARD) * args.joe_takes
    joe_clips, _ = sd.stock_voice_audio(texts)
    joe = [sd.score_transcript(recognizer, t, c) for t, c in zip(texts, joe_clips, strict=True)]
    print(f"joe: WER {tally(joe)['wer']:.1%}", flush=True)

    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    _, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    clones: list[sd.Transcript] = []
    speakers = []
    for number, utterance in enumerate(
            sd.choose_speakers(utterances, set(heldout), args.speakers), 1):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        if not speakers:
            sd.warm_up(split.reference, [args.effort])
        voice = voxclone.enroll(f"bench-{utterance.speaker}", split.reference,
                                effort=args.effort, save=False, force=True,
                                i_am_the_speaker=True)  # public benchmark speech
        mine = [sd.score_transcript(recognizer, text, voxclone.synthesize(
            text, voice, check_words=args.check_words)) for text in HARVARD]
        clones.extend(mine)
        speakers.append({"speaker": utterance.speaker, "gender": utterance.gender,
                         **tally(mine), "transcripts": [t.as_dict() for t in mine]})
        print(f"[{number}] {utterance.speaker}: WER {tally(mine)['wer']:.1%}", flush=True)

    meta = {"date": sd.now(), "machine": sd.machine(), "git_commit": sd.git_commit(),
            "speakers": len(speakers), "effort": args.effort,
            "check_words": args.check_words, "joe_takes": args.joe_takes,
            "wall_s": time.perf_counter() - began}
    totals = {"joe": tally(joe), "clones": tally(clones)}
    ratio = totals["clones"]["wer"] / max(1e-9, totals["joe"]["wer"])
    joe_rows = [t.as_dict() for t in joe]
    joe_counts = sd.errors_per_sentence(HARVARD, joe_rows)
    clone_counts = sd.errors_per_sentence(HARVARD, [t.as_dict() for t in clones])
    lines = [
        "# Intelligibility on twenty Harvard sentences", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {len(speakers)} speakers of clone_quality.py (half female) at `{args.effort}`"
        f"{', check_words on' if args.check_words else ''}; Piper joe {args.joe_takes} "
        "takes; pocketsphinx with 0.3 s of silence around each clip",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| voice | word errors | WER | ratio to joe |", "|---|---|---|---|",
        f"| Piper joe (stock) | {totals['joe']['errors']}/{totals['joe']['words']} | "
        f"{totals['joe']['wer']:.1%} | 1.00 |",
        f"| clones | {totals['clones']['errors']}/{totals['clones']['words']} | "
        f"{totals['clones']['wer']:.1%} | {ratio:.2f} |", "",
        f"Errors per sentence (joe over {args.joe_takes} takes, clones over "
        f"{len(speakers)} speakers):", "",
        "| sentence | joe | clones |", "|---|---|---|",
        *(f"| {text} | {j} | {c} |"
          for text, j, c in zip(HARVARD, joe_counts, clone_counts, strict=True)),
    ]
    text = "\n".join(lines) + "\n"
    sd.write_results(args.out, text, {"meta": meta, "totals": totals, "ratio": ratio,
                                      "joe": joe_rows, "speakers": speakers})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
