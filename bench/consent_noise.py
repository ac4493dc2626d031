"""Consent speaker check in noisy rooms: every pairing of reference and consent noise.

A consent recording is rarely made where the reference clips were. This measures the
same-speaker decision of the consent check when either, or both, are noisy, on the
*evaluation* speakers of ``../shared/speech`` (the rule was chosen on the calibration
speakers: ``voxclone.speaker.verify.THRESHOLD_RISE_PER_DB``).

Each usable utterance is cut as the clone benchmarks cut it (``split_utterance``: a
6 s reference, the rest held out); the held-out part stands for the consent reading.
Each side is degraded independently: clean, white noise at 25/20/15/10/5 dB, babble of
other evaluation speakers at 20/15/10 dB. The reference side goes through the quality
gate (as enrollment: the noise-compensated d-vector and the gate's SNR estimate), the
consent side through :func:`voxclone.consent.consent_speech.consent_speech` and
``consent_embedding`` (as the verifier). Genuine pairs: a speaker's reference and
their own consent; impostor pairs: a reference and another speaker's consent, in the
same pairing of conditions.

Compared in the same run:

* **shipped**: both d-vectors compensated, ``noisy_threshold(reference SNR, consent SNR)``;
  and the "phrase" (the consent side's last ``PHRASE_SPEECH_S`` of speech, as the
  verifier crops the challenge phrase) must match on its own too, under the same rule
  from ``PHRASE_THRESHOLD`` (``voxclone.consent.reading``; the consent recording's SNR);
* **whole only**: the same without the phrase's own check (the release before it);
* **before**: both as the encoder hears them, the threshold raised by the consent
  recording's SNR alone (0.78 + 0.1 per 15 dB below 25 dB, at most 0.88: the previous release);
* **plain**: both as heard, the clean threshold 0.78.

Usage::

    python bench/consent_noise.py      # writes bench/results/consent_noise.{md,json}
    python bench/consent_noise.py --limit 20 --out /tmp/consent_noise
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_data as qd
import speech_data as sd
from consent_mixing import phrase_cut

from voxclone.audio import Audio
from voxclone.consent.consent_speech import consent_embedding, consent_speech
from voxclone.consent.reading import PHRASE_THRESHOLD
from voxclone.errors import NoSpeechError
from voxclone.quality import gate
from voxclone.speaker import default_encoder
from voxclone.speaker.verify import CLEAN_SNR_DB, SAME_SPEAKER_THRESHOLD, noisy_threshold

RESULTS = Path(__file__).resolve().parent / "results" / "consent_noise"
CONDITIONS: tuple[tuple[str, float | None], ...] = (
    ("clean", None), ("white", 25.0), ("white", 20.0), ("white", 15.0), ("white", 10.0),
    ("white", 5.0), ("babble", 20.0), ("babble", 15.0), ("babble", 10.0))
TARGET_FAR = 0.01
#: Seconds of speech in the consent side's "phrase" (Piper joe's and espeak's readings of
#: a challenge phrase hold 2.1-2.8 s).
PHRASE_SPEECH_S = 2.5
METHODS = ("shipped", "whole only", "before", "plain")
#: Other phrase thresholds, in the summary only ("phrase at T": shipped, but T).
PHRASE_SWEEP = (0.70, 0.72, 0.74, 0.78)
SUMMARY_METHODS = (*METHODS, *(f"phrase at {t:.2f}" for t in PHRASE_SWEEP))
_NOISY = np.vectorize(noisy_threshold)


def label(condition: tuple[str, float | None]) -> str:
    kind, snr = condition
    return kind if snr is None else f"{kind} {snr:.0f}"


def before_threshold(consent_snr_db: np.ndarray) -> np.ndarray:
    """The stop-22 rule: 0.78, rising 0.1 per 15 dB of consent SNR below 25 dB, to 0.88."""
    below = np.maximum(0.0, CLEAN_SNR_DB - np.nan_to_num(consent_snr_db, neginf=-1e9))
    return np.minimum(SAME_SPEAKER_THRESHOLD + 0.1 / 15 * below, 0.88)


def degrade(audio: Audio, condition: tuple[str, float | None], speaker: str,
            bank: dict[str, Audio], rng: np.random.Generator) -> Audio:
    kind, snr = condition
    if snr is None:
        return audio
    noise = (qd.white(len(audio), rng) if kind == "white"
             else qd.babble(qd.babble_voices(bank, speaker, rng), audio.sample_rate, rng))
    return qd.add_noise(audio, noise, snr, rng)


def embed_all(utterances: list[sd.Utterance], bank: dict[str, Audio],
              log: Callable[[str], None]) -> dict[str, Any]:
    """Per condition and side: compensated and heard d-vectors and SNRs of every speaker
    usable in all conditions."""
    encoder = default_encoder()
    rng = np.random.default_rng(20261201)
    rows: dict[str, list[Any]] = {}
    for index, utterance in enumerate(utterances, 1):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        heldout = split.heldout.resample(16_000)
        cut = phrase_cut(heldout.samples, PHRASE_SPEECH_S)
        if cut is None:
            continue
        entry: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        try:
            for condition in CONDITIONS:
                reference = degrade(split.reference, condition, utterance.speaker, bank, rng)
                analysed = gate.analyse([reference], ["reference"])[0]
                if analysed.clean is None or analysed.check_embedding is None \
                        or analysed.signal is None:
                    raise NoSpeechError("reference")
                entry[f"r:{label(condition)}"] = (analysed.check_embedding,
                                                  encoder.embed(analysed.clean),
                                                  analysed.signal.snr_db)
                consent = degrade(heldout, condition, utterance.speaker, bank, rng)
                speech = consent_speech(consent)
                clean, snr = speech.clean, speech.snr_db
                compensated = consent_embedding(speech, encoder)
                entry[f"c:{label(condition)}"] = (compensated, encoder.embed(clean), snr)
                phrase = consent_embedding(consent_speech(
                    Audio(consent.samples[cut:], consent.sample_rate)), encoder)
                entry[f"p:{label(condition)}"] = (phrase, phrase, snr)
        except NoSpeechError:
            continue
        for key, value in entry.items():
            rows.setdefault(key, []).append(value)
        if index % 10 == 0 or index == len(utterances):
            log(f"  {index}/{len(utterances)} utterances, "
                f"{len(rows.get('r:clean', []))} usable in every condition")
    return {key: (np.stack([v[0] for v in values]), np.stack([v[1] for v in values]),
                  np.array([v[2] for v in values])) for key, values in rows.items()}


def error_rates(scores: np.ndarray, thresholds: np.ndarray) -> tuple[float, float]:
    """(false-reject rate, false-accept rate): ``scores[i, j]`` is reference i against
    consent j; the diagonal is genuine."""
    accepted = scores >= thresholds
    off = ~np.eye(len(scores), dtype=bool)
    return float(1 - np.mean(np.diag(accepted))), float(np.mean(accepted[off]))


def measure(vectors: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in CONDITIONS:
        for c in CONDITIONS:
            ref_comp, ref_heard, ref_snr = vectors[f"r:{label(r)}"]
            con_comp, con_heard, con_snr = vectors[f"c:{label(c)}"]
            shipped_t = np.vectorize(noisy_threshold)(ref_snr[:, None], con_snr[None, :])
            phrase = ref_comp @ vectors[f"p:{label(c)}"][0].T
            whole = ref_comp @ con_comp.T

            def phrase_ok(base: float, phrase: np.ndarray = phrase,
                          ref_snr: np.ndarray = ref_snr,
                          con_snr: np.ndarray = con_snr) -> np.ndarray:
                return phrase >= _NOISY(ref_snr[:, None], con_snr[None, :], base)
            before_t = np.broadcast_to(before_threshold(con_snr)[None, :],
                                       (len(ref_snr), len(con_snr)))
            heard = ref_heard @ con_heard.T
            row: dict[str, Any] = {
                "reference": label(r), "consent": label(c),
                "reference_snr_median": float(np.median(ref_snr)),
                "consent_snr_median": float(np.median(con_snr)),
                "both_at_least_10db": min(r[1] or 99.0, c[1] or 99.0) >= 10.0}
            for name, scores, thresholds in (
                    # (a phrase that fails lowers the score under any threshold)
                    ("shipped", np.where(phrase_ok(PHRASE_THRESHOLD), whole, -1.0), shipped_t),
                    *((f"phrase at {t:.2f}", np.where(phrase_ok(t), whole, -1.0), shipped_t)
                      for t in PHRASE_SWEEP),
                    ("whole only", whole, shipped_t),
                    ("before", heard, before_t),
                    ("plain", heard, np.full_like(heard, SAME_SPEAKER_THRESHOLD))):
                frr, far = error_rates(scores, thresholds)
                row[name] = {"frr": frr, "far": far}
            out.append(row)
    return out


def summary(rows: list[dict[str, Any]], method: str, at_least_10db: bool) -> dict[str, float]:
    chosen = [r for r in rows if r["both_at_least_10db"] == at_least_10db]
    frr = [r[method]["frr"] for r in chosen]
    far = [r[method]["far"] for r in chosen]
    return {"pairings": len(chosen), "mean_frr": float(np.mean(frr)),
            "worst_frr": float(np.max(frr)), "mean_far": float(np.mean(far)),
            "worst_far": float(np.max(far)),
            "pairings_far_over_1pct": int(sum(f > TARGET_FAR for f in far))}


def pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def markdown(rows: list[dict[str, Any]], speakers: int, header: list[str]) -> str:
    lines = ["# Consent speaker check with noisy recordings (evaluation speakers)", "",
             *header, f"- {speakers} LibriSpeech evaluation speakers usable in every "
             f"condition; {speakers} genuine and {speakers * (speakers - 1)} impostor pairs "
             "per pairing of conditions", "",
             "## Summary", "",
             "| pairings | method | mean false rejects | worst | mean false accepts | worst "
             "| pairings with false accepts > 1 % |", "|---|---|---|---|---|---|---|"]
    for at_least, what in ((True, "both >= 10 dB"), (False, "either at 5 dB")):
        for method in SUMMARY_METHODS:
            s = summary(rows, method, at_least)
            lines.append(f"| {what} ({s['pairings']}) | {method} | {pct(s['mean_frr'])} | "
                         f"{pct(s['worst_frr'])} | {pct(s['mean_far'])} | "
                         f"{pct(s['worst_far'])} | {s['pairings_far_over_1pct']} |")
    lines += ["", "## Every pairing: false rejects / false accepts", "",
              "Median SNR estimates in brackets (the gate's estimator).", "",
              "| reference | consent | " + " | ".join(METHODS) + " |",
              "|---|---|" + "---|" * len(METHODS)]
    for r in rows:
        cells = [f"{pct(r[m]['frr'])} / {pct(r[m]['far'])}" for m in METHODS]
        lines.append(f"| {r['reference']} ({r['reference_snr_median']:.0f}) | {r['consent']} "
                     f"({r['consent_snr_median']:.0f}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech-dir", help="folder holding librispeech-clean/")
    parser.add_argument("--out", default=str(RESULTS), help="writes OUT.md and OUT.json")
    parser.add_argument("--limit", type=int, help="at most this many utterances")
    args = parser.parse_args()
    began, commit = time.monotonic(), sd.git_commit()  # the code measured, before edits

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    utterances = qd.speakers_of("evaluation", args.speech_dir)
    bank = qd.voice_bank(utterances)
    vectors = embed_all(utterances[:args.limit], bank, log)
    speakers = len(vectors["r:clean"][2])
    rows = measure(vectors)
    header = [f"- date: {sd.now()}; machine: {sd.machine()}; git: {commit}",
              f"- wall time: {time.monotonic() - began:.0f} s",
              "- command: `python " + " ".join(sys.argv) + "`"]
    sd.write_results(args.out, markdown(rows, speakers, header), {
        "header": header, "speakers": speakers, "rows": rows,
        "summary": {m: {str(a): summary(rows, m, a) for a in (True, False)}
                    for m in SUMMARY_METHODS}})


if __name__ == "__main__":
    main()
