"""Enrollment time at ``fast`` with the rate factor read from the words.

Issue 3 asks for ``fast`` enrollment of a 6 s reference in at most 3 s. The rate
factor read from the words (``PitchRateSettings.rate_from_words``) transcribes the
reference; with pocketsphinx's full search that took ~1.3 s after the fit (7 Dec,
night). This times, interleaved in one process, each speaker's 6 s reference
(``clone_quality.py``'s split and speakers) enrolled at ``fast``:

* ``no factor``: as shipped since stop 74 (``fast`` leaves the rate out,
  ``fit.RATE_EFFORTS``);
* ``peaks``: the rate factor from syllable peaks (no transcript; ``fast``'s default
  before it);
* ``words, quick, beside``: from the words, the transcript by the one-pass search
  (``voxclone.asr.recognizer.QUICK_SEARCH``) started in a thread before the fit
  (``pitch_rate_match.tempo_reader``): ``enroll(..., match_rate=True)`` at ``fast``;
* ``words, quick, after``: the same transcript run when the match asks for it;
* ``words, full, after``: the full search when the match asks for it (7 Dec's opt-in,
  and how ``balanced`` and ``best`` read it).

``--rounds`` passes over the speakers, each in a rotated order of the variants.
Every variant but the first is enrolled with ``match_rate=True``. Medians, the
slowest, each variant's ratio to ``peaks`` per speaker and round, and
whether the variants reading the same transcript gave the same rate factor.

Run from the repo root on an otherwise idle machine:
``python bench/tempo_enroll_time.py``; writes ``bench/results/tempo_enroll_time.{md,json}``.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import voxclone
from voxclone.clone import build, pitch_rate_match

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "tempo_enroll_time"
NONE = "no factor"
PEAKS = "peaks"
BESIDE = "words, quick, beside"
AFTER = "words, quick, after"
FULL = "words, full, after"
VARIANTS = (NONE, PEAKS, BESIDE, AFTER, FULL)


def _when_asked(reference: Any, *, rate: bool = True, quick: bool = False) -> Any:
    """``tempo_reader`` that never starts the transcript before it is asked for (by the
    search ``quick`` says)."""
    return functools.cache(functools.partial(pitch_rate_match.reference_tempo, reference,
                                             quick=quick))


@contextlib.contextmanager
def variant_as(name: str) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        stack.enter_context(sd.pitch_rate_settings(rate_from_words=name != PEAKS))
        if name in (AFTER, FULL):
            stack.enter_context(mock.patch.object(build, "tempo_reader", _when_asked))
        if name == FULL:
            stack.enter_context(mock.patch.object(build, "QUICK_TEMPO_EFFORTS",
                                                  frozenset()))
        yield


def enroll_timed(reference: Any, name: str) -> tuple[float, float]:
    """Seconds to enroll ``reference`` at ``fast`` as ``name`` says, and the rate factor."""
    with variant_as(name):
        began = time.perf_counter()
        profile = voxclone.enroll("bench-tempo", reference, effort="fast", save=False,
                                  i_am_the_speaker=True,  # public benchmark speech
                                  force=True, match_rate=None if name == NONE else True)
        return time.perf_counter() - began, profile.rate


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for name in VARIANTS:
        seconds = [r["seconds"][name] for r in rows]
        ratios = [r["seconds"][name] / r["seconds"][PEAKS] for r in rows]
        out.append({"variant": name, "median_s": statistics.median(seconds),
                    "max_s": max(seconds), "within_3s": sum(s <= 3.0 for s in seconds)
                    / len(seconds), "ratio_median": statistics.median(ratios)})
    return out


def render(meta: dict[str, Any], summary: Sequence[dict[str, Any]],
           same_factor: float) -> str:
    lines = [
        "# fast enrollment with the rate factor read from the words", "",
        f"{meta['date']}, {meta['machine']}, commit {meta['git_commit']}; "
        f"{meta['speakers']} speakers x {meta['rounds']} rounds, 6 s references; "
        f"{meta['wall_s'] / 60:.1f} min.", "",
        "| variant | enroll s (median) | slowest | within 3 s | / peaks (median) |",
        "|---|---|---|---|---|"]
    for s in summary:
        lines.append(f"| {s['variant']} | {s['median_s']:.2f} | {s['max_s']:.2f} | "
                     f"{s['within_3s']:.0%} | {s['ratio_median']:.2f} |")
    lines += ["", f"`{BESIDE}` and `{AFTER}` gave the same rate factor in "
              f"{same_factor:.0%} of enrollments."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=12, out=DEFAULT_OUT)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if args.speakers < 2 or args.rounds < 1:
        parser.error("need --speakers >= 2 and --rounds >= 1")
    started = time.perf_counter()
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    _, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    chosen = sd.choose_speakers(utterances, set(heldout), args.speakers)
    references = []
    for utterance in chosen:
        split = sd.split_utterance(utterance)
        if split is None:
            raise SystemExit(f"{utterance.speaker}: no usable split")
        references.append((utterance.speaker, split.reference))
    for name in VARIANTS:  # load every model and both decoders before any clock starts
        enroll_timed(references[0][1], name)
    rows = []
    for round_ in range(args.rounds):
        for index, (speaker, reference) in enumerate(references):
            turn = (index + round_) % len(VARIANTS)
            order = VARIANTS[turn:] + VARIANTS[:turn]
            timed = {name: enroll_timed(reference, name) for name in order}
            rows.append({"speaker": speaker, "round": round_,
                         "seconds": {n: t[0] for n, t in timed.items()},
                         "rate": {n: t[1] for n, t in timed.items()}})
            print(f"round {round_ + 1} {speaker}: " + ", ".join(
                f"{n} {timed[n][0]:.2f} s x{timed[n][1]:.3f}" for n in VARIANTS),
                flush=True)
    same = sum(r["rate"][BESIDE] == r["rate"][AFTER] for r in rows) / len(rows)
    meta = sd.run_meta(started, speakers=len(chosen), rounds=args.rounds)
    summary = summarise(rows)
    sd.write_results(args.out, render(meta, summary, same),
                     {"meta": meta, "summary": summary, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
