"""Consent against a stranger's reading with the victim's own speech mixed in.

The attack (red-team run of 5 Dec): someone whose voice is close to the victim's reads
the challenge; the victim's recorded speech (any public recording) is mixed *under* the
statement, or under the whole reading, or spliced between its words in short pieces.
Nothing of it lies outside the reading's words, so nothing counts as unread, and the
whole reading's d-vector moves toward the victim. The defence judges the phrase's
stretch on its own too (``voxclone.consent.reading.PHRASE_THRESHOLD``): the phrase is
fresh, so the victim's recordings cannot hold it.

(a) **Phrase threshold**, LibriSpeech (``../shared/speech``): each usable utterance is
    cut where half its speech is reached; the first half is the reference (through the
    quality gate, as enrollment makes it), the last ``--phrase-s`` seconds of speech of
    the second half a "phrase". Genuine: a speaker's phrase against their reference;
    impostor: every other speaker's phrase. FAR/FRR of the threshold in code, and the
    threshold each half of the speakers picks for FAR <= 1 % tested on the other half.
(b) **Attacks through ``ConsentVerifier.verify``**, LibriSpeech: for each victim, the
    ``--strangers`` other speakers whose plain reading (second half) comes closest to
    the victim's reference while still refused. Conditions: the victim's own reading;
    the stranger alone; the victim's second half mixed under the stranger's statement
    at 0 and +3 dB (RMS over the statement), under the whole reading at -6 and -9 dB;
    0.4 s pieces of it spliced in after every 1.2 s of the statement. The recognizer is
    replaced by one that places the reading where the bench put it (VAD speech, in
    words of at most 1.2 s; the phrase at the cut), so every attack is assumed to pass
    speech recognition: an upper bound. Accepted with the phrase check off
    (``phrase_threshold=-1``, the code before) and on, in the same run.
    One verification per case, with the phrase check off, gives both: the phrase's
    cosine is compared with each threshold of a sweep as the verifier compares it
    (``noisy_threshold`` from the reference's and the recording's SNR).
(c) **End to end**, real pocketsphinx: Piper joe reads fresh challenges; the victims are
    the ``--joe-victims`` LibriSpeech speakers closest to joe; the same attacks.

Usage::

    python bench/consent_mixing.py             # writes bench/results/consent_mixing.{md,json}
    python bench/consent_mixing.py --limit 40 --joe-victims 4 --out /tmp/mix_quick
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from consent import rates, split_halves, threshold_for_far
from speech_data import corpus_dir, git_commit, machine, now, read_index, write_results

from voxclone.audio import Audio, detect_speech
from voxclone.consent import Challenge, ChallengeStore, ConsentVerifier, default_recognizer
from voxclone.consent.consent_speech import consent_embedding, consent_speech
from voxclone.consent.phrase_check import PhraseCheck
from voxclone.consent.reading import PHRASE_THRESHOLD, reference_clips
from voxclone.errors import ConsentError, VoxcloneError
from voxclone.quality.gate import Screened, screen
from voxclone.speaker import combine_embeddings, default_encoder
from voxclone.speaker.verify import SAME_SPEAKER_THRESHOLD, noisy_threshold

RATE = 16000
RESULTS = Path(__file__).resolve().parent / "results" / "consent_mixing"
#: The words a placed reading is cut into are at most this long (seconds).
WORD_S = 1.2
#: Spliced pieces of the victim's speech (seconds), after every ``SPLICE_EVERY_S``.
PIECE_S, SPLICE_EVERY_S = 0.4, 1.2
OFF = -1.0  # phrase_threshold with the phrase check off
#: Phrase thresholds reported besides the one in code.
SWEEP = tuple(sorted({0.72, 0.74, 0.76, 0.78, PHRASE_THRESHOLD}))


@dataclasses.dataclass
class Speaker:
    name: str
    screened: Screened
    target: np.ndarray
    second: np.ndarray  # the second half, 16 kHz float32
    cut: int  # sample where its "phrase" starts


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9)


def phrase_cut(samples: np.ndarray, phrase_s: float) -> int | None:
    """The sample where the last ``phrase_s`` seconds of VAD speech begin (less 0.1 s)."""
    total = 0.0
    for start, end in reversed(detect_speech(Audio(samples, RATE))):
        if total + (end - start) >= phrase_s:
            return max(0, round((end - (phrase_s - total) - 0.1) * RATE))
        total += end - start
    return None


def load_speakers(limit: int | None, phrase_s: float,
                  log: Callable[[str], None]) -> list[Speaker]:
    out = []
    for utterance in read_index(corpus_dir(None))[:limit]:
        halves = split_halves(utterance.path)
        if halves is None:
            continue
        first, second = (h.resample(RATE) for h in halves)
        cut = phrase_cut(second.samples, phrase_s)
        if cut is None or cut < 3 * RATE:
            continue
        try:
            screened = screen([first], [utterance.speaker])
        except VoxcloneError:
            continue
        target = combine_embeddings(list(screened.check_embeddings),
                                    [screened.report.clips[0].speech_seconds])
        out.append(Speaker(utterance.speaker, screened, target, second.samples, cut))
    log(f"  {len(out)} usable speakers")
    return out


def _embed(samples: np.ndarray) -> np.ndarray:
    return consent_embedding(consent_speech(Audio(samples, RATE)), default_encoder())


# --------------------------------------------------------------------------- (a)


def phrase_threshold_benchmark(speakers: list[Speaker]) -> dict[str, Any]:
    targets = np.stack([s.target for s in speakers]).astype(np.float64)
    phrases = np.stack([_embed(s.second[s.cut:]) for s in speakers]).astype(np.float64)
    wholes = np.stack([_embed(s.second) for s in speakers]).astype(np.float64)

    def scores(index: list[int], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = targets[index] @ rows[index].T
        return np.diag(m).copy(), m[~np.eye(len(index), dtype=bool)]

    every = list(range(len(speakers)))
    out: dict[str, Any] = {"speakers": len(speakers)}
    for label, rows, threshold in (("phrase", phrases, PHRASE_THRESHOLD),
                                   ("whole", wholes, SAME_SPEAKER_THRESHOLD)):
        genuine, impostor = scores(every, rows)
        far, frr = rates(genuine, impostor, threshold)
        folds = []
        for train, test in ((every[0::2], every[1::2]), (every[1::2], every[0::2])):
            chosen = threshold_for_far(scores(train, rows)[1], 0.01)
            test_far, test_frr = rates(*scores(test, rows), chosen)
            folds.append({"threshold": chosen, "far": test_far, "frr": test_frr})
        out[label] = {"threshold": threshold, "far": far, "frr": frr,
                      "genuine_min": float(genuine.min()),
                      "genuine_p02": float(np.quantile(genuine, 0.02)),
                      "genuine_median": float(np.median(genuine)),
                      "threshold_for_far_1pct_all": threshold_for_far(impostor, 0.01),
                      "two_fold": folds}
    out["whole_cosines"] = targets @ wholes.T  # (for choosing strangers in (b))
    return out


# --------------------------------------------------------------------------- (b) and (c)


class PlacedReading:
    """A recognizer that "hears" the challenge wherever the bench put the reading: the
    VAD's speech in words of at most ``WORD_S``, the phrase from ``phrase_start``."""

    def __init__(self, phrase_start: float) -> None:
        self.phrase_start = phrase_start

    def check(self, audio: Audio, challenge: Challenge) -> PhraseCheck:
        words = [(s + k * WORD_S, min(e, s + (k + 1) * WORD_S))
                 for s, e in detect_speech(audio.resample(RATE))
                 for k in range(int(np.ceil((e - s) / WORD_S)))]
        return PhraseCheck("(placed by the bench)", True, 1.0, None, tuple(words),
                           self.phrase_start)


def placed_verifier(store: ChallengeStore,
                    phrase_start: float) -> Callable[[float], ConsentVerifier]:
    """Verifiers (by phrase threshold) hearing the reading where the bench put it."""
    return lambda threshold: ConsentVerifier(store, recognizer=PlacedReading(phrase_start),
                                             phrase_threshold=threshold)


def attacks(reading: np.ndarray, cut: int,
            victim: np.ndarray) -> dict[str, tuple[np.ndarray, int]]:
    """The stranger's ``reading`` (phrase from sample ``cut``) with the victim's speech:
    each attack's audio and where its phrase starts."""
    tiled = np.tile(victim, len(reading) // len(victim) + 1)[:len(reading)]
    level = _rms(reading[:cut]) / _rms(tiled[:cut])
    out = {"stranger alone": (reading, cut)}
    for db in (0, 3):
        under = tiled * level * 10 ** (db / 20)
        under[cut:] = 0
        out[f"statement mix {db:+d} dB"] = (reading + under, cut)
    for db in (-6, -9):
        out[f"whole mix {db:+d} dB"] = (reading + tiled * level * 10 ** (db / 20), cut)
    parts, prev, off = [], 0, 0
    piece, every = round(PIECE_S * RATE), round(SPLICE_EVERY_S * RATE)
    for at in range(every, cut - every // 2, every):
        parts += [reading[prev:at], victim[off:off + piece] * (_rms(reading) / _rms(victim))]
        prev, off = at, off + piece
    out["spliced pieces"] = (np.concatenate([*parts, reading[prev:]]), cut + off)
    return {k: (a.astype(np.float32), c) for k, (a, c) in out.items()}


def verdicts(verifier: Callable[[float], ConsentVerifier], challenge: Challenge,
             audio: np.ndarray, target: Speaker) -> dict[str, Any]:
    """Accepted with the phrase check off ("before") and at each of ``SWEEP`` ("after":
    at ``PHRASE_THRESHOLD``), from one verification with the check off: the phrase's
    cosine against ``noisy_threshold`` from that threshold, as the verifier compares it."""
    out: dict[str, Any] = {"before": False, "after": False}
    try:
        result = verifier(OFF).verify(
            challenge.name, challenge, Audio(audio, RATE), target.target, consent_sha256="-",
            reference_snr_db=target.screened.lowest_snr_db,
            clips=reference_clips(target.screened))
    except ConsentError as exc:
        out["refusal"] = type(exc).__name__
        return out
    out.update(before=True, cosine=result.speaker_cosine, phrase_cosine=result.phrase_cosine,
               consent_snr_db=result.consent_snr_db)
    for threshold in SWEEP:
        needed = noisy_threshold(target.screened.lowest_snr_db,
                                 result.consent_snr_db or float("nan"), threshold)
        out[f"at {threshold:.2f}"] = (result.phrase_cosine or -1.0) >= needed
    out["after"] = out[f"at {PHRASE_THRESHOLD:.2f}"]
    return out


def placed_benchmark(speakers: list[Speaker], whole: np.ndarray, strangers: int,
                     home: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
    store = ChallengeStore(home / "challenges", key=b"bench" * 8)
    rows = []
    for v, victim in enumerate(speakers):
        order = [int(s) for s in np.argsort(-whole[v])
                 if s != v and whole[v, s] < SAME_SPEAKER_THRESHOLD][:strangers]
        cases = [("own reading", victim.second, victim.cut, "-")]
        for s in order:
            stranger = speakers[s]
            cases += [(k, a, c, stranger.name) for k, (a, c) in
                      attacks(stranger.second, stranger.cut, victim.second).items()]
        for condition, audio, cut, who in cases:
            challenge = store.issue("victim")
            row = verdicts(placed_verifier(store, cut / RATE), challenge, audio, victim)
            rows.append({"victim": victim.name, "stranger": who, "condition": condition,
                         "stranger_plain_cosine": None if who == "-" else
                         float(whole[v, [s.name for s in speakers].index(who)]), **row})
        if (v + 1) % 10 == 0 or v + 1 == len(speakers):
            log(f"  (b) {v + 1}/{len(speakers)} victims")
    return rows


def joe_benchmark(speakers: list[Speaker], victims: int, home: Path,
                  log: Callable[[str], None]) -> list[dict[str, Any]]:
    from voxclone.demo import load_person, speak_person

    person = load_person()
    store = ChallengeStore(home / "joe-challenges", key=b"bench" * 8)
    probe = speak_person(person, "The quick brown fox jumps over the lazy dog. "
                                 "She sells sea shells by the sea shore.").resample(RATE)
    joe = _embed(probe.samples)
    closest = sorted(speakers, key=lambda s: -float(s.target @ joe))[:victims]
    rows = []
    for n, victim in enumerate(closest, 1):
        challenge = store.issue("victim")
        reading = speak_person(person, challenge.text).resample(RATE).samples
        heard = default_recognizer().check(Audio(reading, RATE), challenge)
        cut = round((heard.phrase_start or 0.0) * RATE)
        for condition, (audio, _) in attacks(reading, cut, victim.second).items():
            row = verdicts(lambda t: ConsentVerifier(store, phrase_threshold=t),
                           challenge, audio, victim)
            rows.append({"victim": victim.name, "joe_cosine": float(victim.target @ joe),
                         "condition": condition, **row})
        log(f"  (c) {n}/{len(closest)} victims")
    return rows


# --------------------------------------------------------------------------- report


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for condition in dict.fromkeys(r["condition"] for r in rows):
        sel = [r for r in rows if r["condition"] == condition]
        out.append({"condition": condition, "cases": len(sel),
                    "before": sum(r["before"] for r in sel),
                    "after": sum(r["after"] for r in sel),
                    **{f"at {t:.2f}": sum(r.get(f"at {t:.2f}", False) for r in sel)
                       for t in SWEEP}})
    return out


def pct(n: int, d: int) -> str:
    return f"{100 * n / max(d, 1):.1f} % ({n}/{d})"


def markdown(a: dict[str, Any], b: list[dict[str, Any]], c: list[dict[str, Any]],
             header: list[str], args: argparse.Namespace) -> str:
    lines = ["# Consent against mixed-in speech of the victim", "", *header, "",
             "## (a) Threshold for the phrase's stretch alone (LibriSpeech)", "",
             f"{a['speakers']} speakers; phrase = the last {args.phrase_s:.1f} s of speech of "
             "the second half, whole = the second half; reference = the first half through "
             "the quality gate.", "",
             "| stretch | threshold | FAR | FRR | genuine min / 2 % / median "
             "| FAR <= 1 % needs | two-fold (threshold: FAR, FRR) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for label in ("phrase", "whole"):
        r = a[label]
        folds = "; ".join(f"{f['threshold']:.3f}: {100 * f['far']:.1f} %, "
                          f"{100 * f['frr']:.1f} %" for f in r["two_fold"])
        lines.append(f"| {label} | {r['threshold']:.3f} | {100 * r['far']:.2f} % | "
                     f"{100 * r['frr']:.2f} % | {r['genuine_min']:.3f} / "
                     f"{r['genuine_p02']:.3f} / {r['genuine_median']:.3f} | "
                     f">= {r['threshold_for_far_1pct_all']:.3f} | {folds} |")
    for title, rows, note in (
        ("(b) Attacks through the verifier, reading placed by the bench (LibriSpeech)", b,
         f"Each victim against the {args.strangers} strangers whose plain reading comes "
         "closest while refused; every attack is taken to pass speech recognition. "
         "Before: the phrase check off (the code before it); after: on, at "
         f"{PHRASE_THRESHOLD:.2f}; other phrase thresholds from the same verifications."),
        ("(c) End to end with pocketsphinx: Piper joe reads fresh challenges", c,
         f"Victims: the {args.joe_victims} LibriSpeech speakers closest to joe."),
    ):
        sweep = [t for t in SWEEP if t != PHRASE_THRESHOLD]
        lines += ["", f"## {title}", "", note, "",
                  "| condition | accepted before | accepted after | "
                  + " | ".join(f"phrase at {t:.2f}" for t in sweep) + " |",
                  "| --- | --- | --- |" + " --- |" * len(sweep)]
        for r in summarise(rows):
            lines.append(f"| {r['condition']} | {pct(r['before'], r['cases'])} | "
                         f"{pct(r['after'], r['cases'])} | "
                         + " | ".join(f"{100 * r[f'at {t:.2f}'] / max(r['cases'], 1):.1f} %"
                                      for t in sweep) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(RESULTS), help="writes OUT.md and OUT.json")
    parser.add_argument("--limit", type=int, default=None, help="utterances read (all)")
    parser.add_argument("--phrase-s", type=float, default=2.5,
                        help="seconds of speech in (a)'s and (b)'s phrase")
    parser.add_argument("--strangers", type=int, default=3, help="strangers per victim")
    parser.add_argument("--joe-victims", type=int, default=20)
    args = parser.parse_args()
    began = time.monotonic()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    speakers = load_speakers(args.limit, args.phrase_s, log)
    log("(a) phrase threshold")
    a = phrase_threshold_benchmark(speakers)
    whole = a.pop("whole_cosines")
    with tempfile.TemporaryDirectory() as home:
        log("(b) attacks, reading placed")
        b = placed_benchmark(speakers, whole, args.strangers, Path(home), log)
        log("(c) attacks, end to end")
        c = joe_benchmark(speakers, args.joe_victims, Path(home), log)
    header = [f"- date: {now()}", f"- machine: {machine()}", f"- commit: {git_commit()}",
              f"- wall time: {time.monotonic() - began:.0f} s",
              "- command: `python " + " ".join(sys.argv) + "`",
              f"- thresholds: whole reading {SAME_SPEAKER_THRESHOLD}, phrase "
              f"{PHRASE_THRESHOLD} (both raised for noise)"]
    write_results(args.out, markdown(a, b, c, header, args), {"header": header, "threshold": a,
                                     "placed": {"summary": summarise(b), "rows": b},
                                     "joe": {"summary": summarise(c), "rows": c}})


if __name__ == "__main__":
    main()
