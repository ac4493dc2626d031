"""Consent verification benchmark: the same-speaker threshold and the challenge check.

(a) Same-speaker decision, calibrated on real speech (``../shared/speech``, LibriSpeech,
    one utterance per speaker). Each usable utterance (at least 2 x ``HALF_SPEECH_S`` of
    VAD speech) is cut where half its speech is reached; both halves are cleaned
    (``prepare_reference``: VAD trim, loudness) and embedded (GE2E), exactly as
    enrollment treats a consent recording and a reference clip. Genuine pairs: the two
    halves of one utterance. Impostor pairs: first half of speaker i vs second half of
    speaker j, i != j. Reported: EER, and at voxclone's ``SAME_SPEAKER_THRESHOLD`` the
    false-accept and false-reject rates; also the threshold each half of the speakers
    would choose for FAR <= 1 %, tested on the other half (two-fold), so the rate is not
    only measured on the data that set it.

(b) Challenge check on consent recordings made outside voxclone's output path: Piper
    "joe" and espeak-ng (called directly, several voices) read challenges issued by a
    real ``ChallengeStore``; the full ``ConsentVerifier`` (pocketsphinx, GE2E) judges them
    against a reference read by the same voice. Per voice and phrase: the right
    recording (statement + phrase) must be accepted; a wrong phrase, the statement
    alone and the phrase alone must be refused; replaying an accepted recording (same
    challenge again, against a new challenge from the store, and - to the recognizer
    alone - against challenges sharing one or two of its words in place) must be refused.

Usage::

    python bench/consent.py                  # full run, writes bench/results/consent.{md,json}
    python bench/consent.py --quick --out /tmp/consent_quick
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from espeak_tts import VOICES as ESPEAK_VOICES
from espeak_tts import espeak_speak
from speech_data import corpus_dir, git_commit, machine, now, read_index, write_results

from voxclone.audio import Audio, detect_speech, load_audio, prepare_reference
from voxclone.consent import Challenge, ChallengeStore, ConsentVerifier, default_recognizer
from voxclone.consent.challenge import PHRASE_WORDS
from voxclone.consent.wordlist import CHALLENGE_WORDS
from voxclone.errors import ConsentError, NoSpeechError
from voxclone.speaker import default_encoder
from voxclone.speaker.verify import SAME_SPEAKER_THRESHOLD

#: Each half of an utterance must hold at least this much VAD speech.
HALF_SPEECH_S = 3.0
TARGET_FAR = 0.01
TARGET_FRR = 0.05
RESULTS = Path(__file__).resolve().parent / "results" / "consent"

#: What each voice reads as its enrollment reference (never the consent text).
REFERENCE_TEXT = (
    "When the sunlight strikes raindrops in the air, they act as a prism. "
    "My grandmother kept bees behind the orchard for almost forty years."
)
NAMES = ("ada", "marcus", "priya", "john", "olga", "kenji", "lucia", "tom")


# --------------------------------------------------------------------------- (a) speaker


@dataclass(frozen=True)
class Halves:
    speaker: str
    first: np.ndarray
    second: np.ndarray


def split_halves(path: Path) -> tuple[Audio, Audio] | None:
    """The utterance cut where half of its VAD speech is reached (None: too little)."""
    audio = load_audio(str(path))
    segments = detect_speech(audio)
    speech = sum(end - start for start, end in segments)
    if speech < 2 * HALF_SPEECH_S:
        return None
    total = 0.0
    for start, end in segments:
        if total + (end - start) >= speech / 2:
            cut = round((start + speech / 2 - total) * audio.sample_rate)
            return (Audio(audio.samples[:cut], audio.sample_rate),
                    Audio(audio.samples[cut:], audio.sample_rate))
        total += end - start
    return None


def embed_halves(speech_dir: str | None, limit: int | None,
                 log: Callable[[str], None]) -> list[Halves]:
    encoder = default_encoder()
    utterances = read_index(corpus_dir(speech_dir))[:limit]
    out = []
    for index, utterance in enumerate(utterances, 1):
        halves = split_halves(utterance.path)
        if halves is not None:
            try:
                first, second = (encoder.embed(prepare_reference(h)[0]) for h in halves)
            except NoSpeechError:
                continue
            out.append(Halves(utterance.speaker, first, second))
        if index % 50 == 0 or index == len(utterances):
            log(f"  speaker: {index}/{len(utterances)} utterances, {len(out)} usable")
    return out


def rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(false-accept rate, false-reject rate) at ``threshold`` (accept: cosine >= it)."""
    return float(np.mean(impostor >= threshold)), float(np.mean(genuine < threshold))


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold where FAR and FRR cross)."""
    candidates = np.unique(np.concatenate([genuine, impostor]))
    gaps = [abs(np.subtract(*rates(genuine, impostor, t))) for t in candidates]
    best = float(candidates[int(np.argmin(gaps))])
    far, frr = rates(genuine, impostor, best)
    return (far + frr) / 2, best


def threshold_for_far(impostor: np.ndarray, far: float) -> float:
    """Smallest threshold (to 0.005) whose false-accept rate is at most ``far``."""
    for t in np.arange(0.0, 1.0001, 0.005):
        if np.mean(impostor >= t) <= far:
            return round(float(t), 3)
    return 1.0


def pair_scores(halves: list[Halves]) -> tuple[np.ndarray, np.ndarray]:
    firsts = np.stack([h.first for h in halves]).astype(np.float64)
    seconds = np.stack([h.second for h in halves]).astype(np.float64)
    matrix = firsts @ seconds.T
    mask = ~np.eye(len(halves), dtype=bool)
    return np.diag(matrix).copy(), matrix[mask]


def speaker_benchmark(halves: list[Halves]) -> dict[str, Any]:
    genuine, impostor = pair_scores(halves)
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    far, frr = rates(genuine, impostor, SAME_SPEAKER_THRESHOLD)
    folds = []
    order = sorted(range(len(halves)), key=lambda i: halves[i].speaker)
    parts = [[halves[i] for i in order[0::2]], [halves[i] for i in order[1::2]]]
    for train, test in (parts, parts[::-1]):
        chosen = threshold_for_far(pair_scores(train)[1], TARGET_FAR)
        g, i = pair_scores(test)
        test_far, test_frr = rates(g, i, chosen)
        folds.append({"threshold": chosen, "far": test_far, "frr": test_frr})
    return {
        "speakers": len(halves), "genuine_pairs": len(genuine),
        "impostor_pairs": len(impostor),
        "genuine_mean": float(genuine.mean()), "impostor_mean": float(impostor.mean()),
        "eer": eer, "eer_threshold": eer_threshold,
        "threshold": SAME_SPEAKER_THRESHOLD, "far": far, "frr": frr,
        "threshold_for_far_1pct_all": threshold_for_far(impostor, TARGET_FAR),
        "two_fold": folds,
    }


# --------------------------------------------------------------------------- (b) challenge


def _speakers(espeak_voices: tuple[str, ...]) -> list[tuple[str, Callable[[str], Audio]]]:
    from voxclone.demo import load_person, speak_person

    person = load_person()
    voices: list[tuple[str, Callable[[str], Audio]]] = [
        ("piper:joe", lambda text: speak_person(person, text))]
    for voice in espeak_voices:
        voices.append((f"espeak:{voice}", lambda text, v=voice: espeak_speak(text, v)))
    return voices


def _attempt(verifier: ConsentVerifier, name: str, challenge: Challenge | str, audio: Audio,
             reference: np.ndarray) -> tuple[bool, str, dict[str, Any]]:
    """(accepted, outcome, details): outcome is "accepted" or the refusal's class name."""
    try:
        result = verifier.verify(name, challenge, audio, reference, consent_sha256="-")
    except ConsentError as exc:
        heard = re.search(r'heard: "([^"]*)"', str(exc))
        cosine = re.search(r"similarity ([0-9.-]+)", str(exc))
        return False, type(exc).__name__, {
            "heard": heard.group(1) if heard else None,
            "speaker_cosine": float(cosine.group(1)) if cosine else None}
    return True, "accepted", {"heard": result.transcript,
                              "speaker_cosine": round(result.speaker_cosine, 4),
                              "statement_recall": round(result.statement_recall, 3)}


def sharing(challenge: Challenge, shared: int, rng: random.Random) -> Challenge:
    """A challenge whose phrase keeps ``shared`` of ``challenge``'s words in their places
    and draws the others afresh: the worst case of replaying an old recording against a
    new challenge (a store never issues it for the same name; another installation may)."""
    keep = set(rng.sample(range(len(challenge.phrase)), shared))
    pool = [w for w in CHALLENGE_WORDS if w not in challenge.phrase]
    rng.shuffle(pool)
    phrase = tuple(w if i in keep else pool.pop() for i, w in enumerate(challenge.phrase))
    return dataclasses.replace(challenge, phrase=phrase)


def challenge_benchmark(phrases: int, espeak_voices: tuple[str, ...], home: Path,
                        log: Callable[[str], None]) -> dict[str, Any]:
    store = ChallengeStore(home / "challenges", key=b"bench" * 8)
    verifier = ConsentVerifier(store)
    recognizer = default_recognizer()
    encoder = default_encoder()
    rng = random.Random(0)
    rows: list[dict[str, Any]] = []
    for voice, speak in _speakers(espeak_voices):
        reference = encoder.embed(prepare_reference(speak(REFERENCE_TEXT))[0])
        for index in range(phrases):
            name = NAMES[index % len(NAMES)]
            challenge = store.issue(name)
            others = [w for w in CHALLENGE_WORDS if w not in challenge.phrase]
            wrong = [others[(index * 7 + k * 13) % len(others)] for k in range(PHRASE_WORDS)]
            right = speak(challenge.text)
            cases = [  # refusals first: an accepted recording uses the challenge up
                ("wrong phrase", speak(f"{challenge.statement} {', '.join(wrong)}."), challenge),
                ("statement only", speak(challenge.statement), challenge),
                ("phrase only", speak(challenge.phrase_text), challenge),
                ("right", right, challenge),
            ]
            for case, audio, issued in cases:
                accepted, outcome, details = _attempt(verifier, name, issued, audio, reference)
                rows.append({"voice": voice, "phrase": " ".join(challenge.phrase),
                             "case": case, "accepted": accepted, "outcome": outcome,
                             **details})
                if case == "right" and accepted:
                    store.claim(challenge)  # enrollment uses it up
                    for replay, target in (("replay, same challenge", challenge),
                                           ("replay, new challenge", store.issue(name))):
                        ok, outcome, details = _attempt(verifier, name, target, right,
                                                        reference)
                        rows.append({"voice": voice, "phrase": " ".join(challenge.phrase),
                                     "case": replay, "target": " ".join(target.phrase),
                                     "accepted": ok, "outcome": outcome, **details})
                    for shared in (1, 2):  # the recognizer alone: no store issues these
                        target = sharing(challenge, shared, rng)
                        check = recognizer.check(right, target)
                        rows.append({"voice": voice, "phrase": " ".join(challenge.phrase),
                                     "case": f"replay, {shared} word(s) shared in place",
                                     "target": " ".join(target.phrase),
                                     "accepted": check.phrase_heard,
                                     "outcome": "heard" if check.phrase_heard else "not heard",
                                     "heard": check.transcript,
                                     "alignment_margin": check.alignment_margin})
            log(f"  challenge: {voice} {index + 1}/{phrases}: "
                + ", ".join(f"{r['case']}={r['outcome']}" for r in rows
                            if r["voice"] == voice and r["phrase"] == " ".join(
                                challenge.phrase)))
    return {"rows": rows, "summary": summarise(rows)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(selected: list[dict[str, Any]], accepted: bool) -> dict[str, Any]:
        hits = sum(r["accepted"] == accepted for r in selected)
        return {"rate": hits / len(selected) if selected else float("nan"),
                "hits": hits, "n": len(selected)}

    voices = sorted({r["voice"] for r in rows})
    out: dict[str, Any] = {}
    for group, members in [("all", voices), *[(v, [v]) for v in voices]]:
        chosen = [r for r in rows if r["voice"] in members]
        out[group] = {
            "right accepted": rate([r for r in chosen if r["case"] == "right"], True),
            "wrong/missing refused": rate([r for r in chosen if r["case"] in (
                "wrong phrase", "statement only", "phrase only")], False),
            "replay refused": rate([r for r in chosen if r["case"].startswith("replay")],
                                   False),
        }
    return out


# --------------------------------------------------------------------------- report


def pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def markdown(speaker: dict[str, Any], challenge: dict[str, Any], header: list[str]) -> str:
    folds = speaker["two_fold"]
    lines = [
        "# Consent verification benchmark", "", *header, "",
        "## (a) Same-speaker decision (GE2E cosine), LibriSpeech halves", "",
        f"{speaker['speakers']} speakers; {speaker['genuine_pairs']} genuine pairs (the two "
        f"halves of one utterance), {speaker['impostor_pairs']} impostor pairs (halves of "
        f"different speakers). Mean cosine: genuine {speaker['genuine_mean']:.3f}, impostor "
        f"{speaker['impostor_mean']:.3f}.", "",
        "| measure | value | target |", "| --- | --- | --- |",
        f"| equal-error rate | {pct(speaker['eer'])} (at {speaker['eer_threshold']:.3f}) | |",
        f"| threshold in code (`SAME_SPEAKER_THRESHOLD`) | {speaker['threshold']:.3f} | |",
        f"| false-accept rate at it | {pct(speaker['far'])} | <= 1 % |",
        f"| false-reject rate at it | {pct(speaker['frr'])} | <= 5 % |",
        f"| lowest threshold with FAR <= 1 % (all pairs) | "
        f"{speaker['threshold_for_far_1pct_all']:.3f} | |",
        *[f"| two-fold: threshold from half {i + 1}, tested on the other | "
          f"{f['threshold']:.3f}: FAR {pct(f['far'])}, FRR {pct(f['frr'])} | |"
          for i, f in enumerate(folds)],
        "", "## (b) Challenge check (full verifier: challenge, ASR, speaker)", "",
        "Consent recordings synthesised outside voxclone (Piper joe; espeak-ng called "
        "directly). Right = statement + phrase; refused cases: wrong phrase, statement "
        "only, phrase only; replay = an accepted recording again, with its used challenge, "
        "with a new one from the store, and (phrase check only) with challenges sharing 1 "
        "or 2 of its words in place.", "",
        "| voice | right accepted (>= 95 %) | wrong/missing refused (>= 99 %) | "
        "replay refused (100 %) |", "| --- | --- | --- | --- |",
    ]
    for group, figures in challenge["summary"].items():
        cells = [f"{pct(f['rate'])} ({f['hits']}/{f['n']})" if f["n"] else "n/a"
                 for f in figures.values()]
        lines.append(f"| {'**all**' if group == 'all' else group} | " + " | ".join(cells) + " |")
    lines += ["", "By case, all voices:", "", "| case | accepted | refused |",
              "| --- | --- | --- |"]
    rows = challenge["rows"]
    for case in dict.fromkeys(r["case"] for r in rows):
        chosen = [r for r in rows if r["case"] == case]
        accepted = sum(r["accepted"] for r in chosen)
        lines.append(f"| {case} | {accepted} | {len(chosen) - accepted} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech-dir", help="folder holding librispeech-clean/")
    parser.add_argument("--out", default=str(RESULTS), help="writes OUT.md and OUT.json")
    parser.add_argument("--phrases", type=int, default=4, help="challenges per voice")
    parser.add_argument("--espeak-voices", default=",".join(ESPEAK_VOICES),
                        help="comma-separated espeak-ng voices ('' for Piper joe only)")
    parser.add_argument("--quick", action="store_true",
                        help="40 utterances, 2 phrases, 2 espeak voices")
    args = parser.parse_args()
    began = time.monotonic()
    limit = 40 if args.quick else None
    phrases = 2 if args.quick else args.phrases
    chosen = tuple(v for v in args.espeak_voices.split(",") if v)
    espeak_voices = chosen[:2] if args.quick else chosen

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log("(a) same-speaker calibration")
    speaker = speaker_benchmark(embed_halves(args.speech_dir, limit, log))
    log("(b) challenge check")
    with tempfile.TemporaryDirectory() as home:
        challenge = challenge_benchmark(phrases, espeak_voices, Path(home), log)
    header = [f"- date: {now()}", f"- machine: {machine()}", f"- commit: {git_commit()}",
              f"- wall time: {time.monotonic() - began:.0f} s",
              "- command: `python " + " ".join(sys.argv) + "`"]
    write_results(args.out, markdown(speaker, challenge, header),
                  {"header": header, "speaker": speaker, "challenge": challenge})


if __name__ == "__main__":
    main()
