"""Word errors of clones and of the stock voice on twenty Harvard sentences.

``clone_quality.py`` scores intelligibility on its three sentences, and one word
("Thursday") holds most of the clones' errors there while most of Piper joe's fell on
another. This reads the first two IEEE 1969 Harvard lists (twenty phonetically
balanced sentences, public domain) with Piper's stock "joe" voice (``--joe-takes``
takes: Piper varies from take to take) and with clones of clone_quality.py's
speakers (chosen and cut the same way), and scores both with voxclone's recognizer
(pocketsphinx, 0.3 s of silence around each clip). Per sentence, it shows where the
errors fall.

    python bench/intelligibility.py [--speakers 16] [--efforts fast,balanced]
        [--check-words | --check-efforts balanced]

writes ``bench/results/intelligibility.{md,json}``.
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

import voxclone

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
from watermark_clips import SENTENCES as WATERMARK_SENTENCES

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "intelligibility"

#: Harvard sentences, lists 1 and 2 (IEEE Recommended Practice for Speech Quality
#: Measurements, 1969): the first twenty of the watermark bench's clips.
HARVARD = WATERMARK_SENTENCES[:20]
#: The matches ``enroll`` can leave out (``match_<part>=False``).
PARTS = ("tone", "pitch", "rate", "pauses", "formants")


def tally(transcripts: Sequence[sd.Transcript]) -> dict[str, Any]:
    """Word errors, words and their ratio over ``transcripts``."""
    errors = sum(t.errors for t in transcripts)
    words = sum(t.words for t in transcripts)
    return {"errors": errors, "words": words, "wer": errors / max(1, words)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=16)
    parser.add_argument("--efforts", "--effort", default="fast",
                        help="comma-separated; each speaker is cloned at each (paired); "
                        "EFFORT:no-PART[:no-PART] leaves matches out (PART: "
                        + ", ".join(PARTS) + "); EFFORT:rate adds the rate factor where the "
                        "effort leaves it out (fast); EFFORT:word-rate reads it from the "
                        "words, EFFORT:peak-rate from syllable peaks")
    parser.add_argument("--joe-takes", type=int, default=3)
    parser.add_argument("--check-words", action="store_true",
                        help="clones check their sentences by ear (synthesize(check_words=))")
    parser.add_argument("--check-efforts", default="",
                        help="comma-separated efforts whose voices also read the sentences "
                        "with check_words, as a row of their own (the same voice)")
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    efforts = [e for e in args.efforts.split(",") if e]
    checked = [e for e in args.check_efforts.split(",") if e]
    rows = [(e, args.check_words) for e in efforts] + [(e, True) for e in checked
                                                         if not args.check_words]
    began = time.perf_counter()
    recognizer = sd.Recognizer()
    texts = list(HARVARD) * args.joe_takes
    joe_clips, _ = sd.stock_voice_audio(texts)
    joe = [sd.score_transcript(recognizer, t, c) for t, c in zip(texts, joe_clips, strict=True)]
    print(f"joe: WER {tally(joe)['wer']:.1%}", flush=True)

    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    _, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    clones: dict[str, list[sd.Transcript]] = {row_name(*r): [] for r in rows}
    speakers = []
    for number, utterance in enumerate(
            sd.choose_speakers(utterances, set(heldout), args.speakers), 1):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        if not speakers:
            sd.warm_up(split.reference, [e.split(":")[0] for e in efforts])
        mine: dict[str, Any] = {"speaker": utterance.speaker, "gender": utterance.gender}
        for effort in efforts:
            enrolling = time.perf_counter()
            with settings_of(effort):
                voice = voxclone.enroll(f"bench-{utterance.speaker}", split.reference,
                                        save=False, force=True, i_am_the_speaker=True,
                                        **variant(effort))  # public benchmark speech
            mine[f"{effort} enroll_s"] = time.perf_counter() - enrolling
            for row_effort, check in rows:
                if row_effort != effort:
                    continue
                heard = [sd.score_transcript(recognizer, text, voxclone.synthesize(
                    text, voice, check_words=check)) for text in HARVARD]
                clones[row_name(effort, check)].extend(heard)
                mine[row_name(effort, check)] = {
                    **tally(heard), "transcripts": [t.as_dict() for t in heard]}
        speakers.append(mine)
        print(f"[{number}] {utterance.speaker}: " + ", ".join(
            f"{name} WER {mine[name]['wer']:.1%}" for name in clones), flush=True)

    meta = {"date": sd.now(), "machine": sd.machine(), "git_commit": sd.git_commit(),
            "speakers": len(speakers), "efforts": efforts, "check_words": args.check_words,
            "check_efforts": checked, "joe_takes": args.joe_takes,
            "wall_s": time.perf_counter() - began}
    totals = {"joe": tally(joe), **{name: tally(t) for name, t in clones.items()}}
    ratios = {name: totals[name]["wer"] / max(1e-9, totals["joe"]["wer"]) for name in clones}
    joe_rows = [t.as_dict() for t in joe]
    names = list(clones)
    lines = [
        "# Intelligibility on twenty Harvard sentences", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {len(speakers)} speakers of clone_quality.py (half female), each cloned at "
        f"{', '.join(f'`{e}`' for e in efforts)} (the same speakers in every row); Piper "
        f"joe {args.joe_takes} takes; pocketsphinx with 0.3 s of silence around each clip",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| voice | word errors | WER | ratio to joe | errors a speaker vs the first row "
        "(paired) |", "|---|---|---|---|---|",
        f"| Piper joe (stock) | {totals['joe']['errors']}/{totals['joe']['words']} | "
        f"{totals['joe']['wer']:.1%} | 1.00 | |",
    ]
    for name in names:
        paired = [s[name]["errors"] - s[names[0]]["errors"] for s in speakers]
        lines.append(f"| clones, {name} | {totals[name]['errors']}/{totals[name]['words']} | "
                     f"{totals[name]['wer']:.1%} | {ratios[name]:.2f} | "
                     f"{sd.mean_se(paired) if name != names[0] else ''} |")
    lines += ["", "Enrollment (median; slowest): " + "; ".join(
        f"`{e}` {statistics.median(s[f'{e} enroll_s'] for s in speakers):.1f} s "
        f"({max(s[f'{e} enroll_s'] for s in speakers):.1f} s)" for e in efforts) + "."]
    lines += ["", f"Errors per sentence (joe over {args.joe_takes} takes, clones over "
              f"{len(speakers)} speakers):", "",
              "| sentence | joe | " + " | ".join(names) + " |",
              "|---|---|" + "---|" * len(names)]
    counts = [sd.errors_per_sentence(HARVARD, [t.as_dict() for t in clones[n]]) for n in names]
    for i, (text, j) in enumerate(zip(HARVARD, sd.errors_per_sentence(HARVARD, joe_rows),
                                      strict=True)):
        lines.append(f"| {text} | {j} | " + " | ".join(str(c[i]) for c in counts) + " |")
    text = "\n".join(lines) + "\n"
    sd.write_results(args.out, text, {"meta": meta, "totals": totals, "ratios": ratios,
                                      "joe": joe_rows, "speakers": speakers})
    return 0


def variant(spec: str) -> dict[str, Any]:
    """``enroll``'s arguments for an ``--efforts`` entry: ``fast``, ``fast:no-formants``,
    ``fast:word-rate``, ``fast:peak-rate`` (see :func:`settings_of`), ``fast:rate``
    (``match_rate=True``)..."""
    effort, *parts = spec.split(":")
    options: dict[str, Any] = {"effort": effort}
    for part in parts:
        name = part.removeprefix("no-")
        if part in RATE_READINGS:
            continue
        if part == "rate":  # the rate factor where the effort leaves it out (fast)
            options["match_rate"] = True
            continue
        if name not in PARTS or not part.startswith("no-"):
            raise SystemExit(f"{spec}: each part after the effort is no-PART, with PART one "
                             f"of {', '.join(PARTS)}, or rate, or one of "
                             f"{', '.join(RATE_READINGS)}")
        options[f"match_{name}"] = False
    return options


#: ``--efforts`` parts: the rate factor read from the words or from syllable peaks
#: (``PitchRateSettings.rate_from_words`` True or False; without either, as shipped).
WORD_RATE, PEAK_RATE = "word-rate", "peak-rate"
RATE_READINGS = {WORD_RATE: True, PEAK_RATE: False}


def settings_of(spec: str) -> contextlib.AbstractContextManager[Any]:
    """Within it, enrollment matches the rate as the ``--efforts`` entry says."""
    chosen = [RATE_READINGS[p] for p in spec.split(":")[1:] if p in RATE_READINGS]
    return sd.pitch_rate_settings(**({"rate_from_words": chosen[-1]} if chosen else {}))


def row_name(effort: str, check: bool) -> str:
    return f"{effort} + check_words" if check else effort


if __name__ == "__main__":
    raise SystemExit(main())
