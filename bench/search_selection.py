"""Does a second sentence pick a better voice among a `balanced` search's bests?

The refinement at `balanced` optimises the d-vector of one probe sentence, and its
enrollment score rises more than the similarity on new sentences does
(``bench/results/clone_quality.json``: +0.054 against +0.025 over `fast`). If that is
over-fitting the probe, scoring the search's last few improvements on a second
sentence (``voxclone.clone.fit.RATE_TEXT``, shifted to the speaker's pitch as the
search's own evaluations are) should pick one that generalises better than the last.

For each speaker (chosen and cut as ``clone_quality.py`` does) this enrolls at
`balanced`, records every evaluation of the search, takes the last ``--candidates``
improvements, and for each one measures: the probe's cosine to the target (the
search's score), the second sentence's, and the normalised similarity of the clone
speaking ``clone_quality.SENTENCES`` to the held-out speech (the profile's pitch,
rate and tone, with the candidate's conditioning). Selection rules are compared with
the search's own choice (the last improvement), speaker by speaker.

With ``--effort best`` (four more minutes of search) it asks whether the longer search
over-fits the probe: each speaker's candidates then also hold the improvement where a
`balanced` search would have stopped (its ``--balanced-evaluations``), and the rule
"stop as `balanced` does" is compared with the last.

    python bench/search_selection.py [--speakers 16] [--candidates 6] [--effort best]

writes ``bench/results/search_selection[_best].{md,json}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
import voxclone.clone.fit as fit
from voxclone.consent.voice_seal import seal_voice
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.speaker import cosine, default_encoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
from clone_quality import SENTENCES, join  # the same sentences as the quality bench

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "search_selection"

Candidate = dict[str, float]


def regular(candidates: list[Candidate]) -> list[Candidate]:
    """The last improvements alone, without an earlier one added as where `balanced`
    would have stopped (``extra``)."""
    return [c for c in candidates if not c.get("extra")]


#: Rule name -> the candidate it picks (candidates in search order, the last is the
#: search's own choice).
RULES: dict[str, Callable[[list[Candidate]], Candidate]] = {
    "last improvement (shipped)": lambda c: regular(c)[-1],
    "best second sentence": lambda c: max(regular(c), key=lambda x: x["second"]),
    "best probe + second sentence":
        lambda c: max(regular(c), key=lambda x: x["probe"] + x["second"]),
    "best second sentence, last 3": lambda c: max(regular(c)[-3:], key=lambda x: x["second"]),
    "earliest candidate": lambda c: regular(c)[0],
    "where `balanced` stops": lambda c: next((x for x in c if x.get("balanced_stop")),
                                             regular(c)[-1]),
    "oracle (best held-out, not a rule)": lambda c: max(c, key=lambda x: x["similarity"]),
}


class SearchRecorder:
    """Wraps ``VoiceFitter.fit`` and ``refine`` to keep every evaluation of one fit."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray]] = []
        self.fitted: dict[str, Any] = {}
        self._refine = fit.refine
        self._fit = fit.VoiceFitter.fit

    def refine(self, target: np.ndarray, start: Any, start_embedding: np.ndarray,
               base: np.ndarray, scale: np.ndarray, evaluate: Callable[..., np.ndarray],
               **kwargs: Any) -> Any:
        self.calls = []

        def recorded(style: np.ndarray) -> np.ndarray:
            embedding = evaluate(style)
            self.calls.append((np.array(style), np.array(embedding)))
            return embedding

        self.fitted.update(target=target, start=start, base=base,
                           start_score=float(start_embedding @ target))
        return self._refine(target, start, start_embedding, base, scale, recorded, **kwargs)

    def patches(self) -> tuple[Any, Any]:
        """Context managers that put the recorder in ``fit`` and ``refine``."""
        original = self._fit

        def recording_fit(fitter: fit.VoiceFitter, target: np.ndarray, effort: fit.Effort,
                          **kwargs: Any) -> Any:
            self.fitted["at_pitch"] = kwargs.get("at_pitch")
            return original(fitter, target, effort, **kwargs)

        return (mock.patch.object(fit.VoiceFitter, "fit", recording_fit),
                mock.patch.object(fit, "refine", self.refine))

    def improvements(self) -> list[int]:
        """Indices of the evaluations that beat every earlier one (and the start)."""
        best, found = self.fitted["start_score"], []
        for i, (_, embedding) in enumerate(self.calls):
            score = float(embedding @ self.fitted["target"])
            if score > best:
                best, found = score, [*found, i]
        return found


def second_sentence_score(scorer: fit.VoiceFitter, conditioning: Any, target: np.ndarray,
                          at_pitch: float | None) -> float:
    """Cosine to ``target`` of ``RATE_TEXT`` spoken with ``conditioning``, scored as the
    search scores the probe (shifted to the speaker's median F0 ``at_pitch``)."""
    scorer.probe_ids = scorer.rate_ids  # this fitter scores the second sentence only
    style = conditioning.style(scorer.packs, len(scorer.rate_ids))
    embedding = scorer.evaluate(style) if at_pitch is None else \
        scorer.evaluate_at_pitch(style, at_pitch=at_pitch)
    return float(embedding @ target)


def candidate_rows(recorder: SearchRecorder, scorer: fit.VoiceFitter,
                   profile: voxclone.VoiceProfile, heldout: np.ndarray,
                   norm: sd.Normalisation, count: int,
                   balanced_evaluations: int | None = None) -> list[Candidate]:
    """The last ``count`` improvements of the search, each measured three ways; with
    ``balanced_evaluations``, also the last improvement within that many evaluations
    (marked ``balanced_stop``), where a `balanced` search would have stopped."""
    fitted = recorder.fitted
    improvements = recorder.improvements()
    last = improvements[-count:]
    chosen = last
    stop = None
    if balanced_evaluations is not None:
        early = [i for i in improvements if i < balanced_evaluations]
        stop = early[-1] if early else None
        if stop is not None and stop not in chosen:
            chosen = [stop, *chosen]
    rows = []
    for index in chosen:
        style, embedding = recorder.calls[index]
        conditioning = fitted["start"].with_delta((style - fitted["base"]).astype(np.float32))
        second = second_sentence_score(scorer, conditioning, fitted["target"],
                                       fitted["at_pitch"])
        voice = seal_voice(dataclasses.replace(profile, conditioning=conditioning))
        clone = join([voxclone.synthesize(text, voice) for text in SENTENCES])
        raw = cosine(voxclone.embed(clone), heldout)
        rows.append({"evaluation": index, "probe": float(embedding @ fitted["target"]),
                     "second": second, "similarity": norm.normalise(raw),
                     "balanced_stop": index == stop,
                     "extra": index not in last})
    return rows


def summarise(speakers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per rule: mean similarity and its paired difference to the shipped choice."""
    shipped = np.array([regular(s["candidates"])[-1]["similarity"] for s in speakers])
    out = []
    for name, rule in RULES.items():
        chosen = np.array([rule(s["candidates"])["similarity"] for s in speakers])
        diff = chosen - shipped
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        out.append({"rule": name, "similarity": float(chosen.mean()),
                    "difference": float(diff.mean()), "se": se})
    return out


def within_speaker_correlation(speakers: Sequence[dict[str, Any]], key: str) -> float:
    """Mean over speakers of the correlation of ``key`` with held-out similarity."""
    values = [np.corrcoef([c[key] for c in s["candidates"]],
                          [c["similarity"] for c in s["candidates"]])[0, 1]
              for s in speakers if len(s["candidates"]) > 2]
    return float(np.nanmean(values)) if values else float("nan")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=16)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--effort", choices=("balanced", "best"), default="balanced")
    parser.add_argument("--balanced-evaluations", type=int, default=22,
                        help="with --effort best: evaluations a `balanced` search makes "
                        "(its median in bench/results/search_selection.md)")
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    out = args.out or str(DEFAULT_OUT) + ("_best" if args.effort == "best" else "")
    stop_at = args.balanced_evaluations if args.effort == "best" else None
    began = time.perf_counter()
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    norm, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    chosen = sd.choose_speakers(utterances, set(heldout), args.speakers)
    recorder = SearchRecorder()
    speakers: list[dict[str, Any]] = []
    for number, utterance in enumerate(chosen, 1):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        fit_patch, refine_patch = recorder.patches()
        with fit_patch, refine_patch:
            profile = voxclone.enroll(f"bench-{utterance.speaker}", split.reference,
                                      effort=args.effort, save=False, force=True,
                                      i_am_the_speaker=True)  # public benchmark speech
        scorer = fit.VoiceFitter(default_engine(), default_encoder(), stock_packs())
        rows = candidate_rows(recorder, scorer, profile, heldout[utterance.speaker], norm,
                              args.candidates, stop_at)
        if not rows:  # the search found nothing better than its start
            print(f"[{number}/{len(chosen)}] {utterance.speaker}: no improvement, skipped")
            continue
        speakers.append({"speaker": utterance.speaker, "gender": utterance.gender,
                         "evaluations": len(recorder.calls), "candidates": rows})
        print(f"[{number}/{len(chosen)}] {utterance.speaker}: {len(recorder.calls)} "
              "evaluations; " + " | ".join(
                  f"probe {c['probe']:.3f} second {c['second']:.3f} sim {c['similarity']:.3f}"
                  for c in rows), flush=True)
    summary = summarise(speakers)
    meta = {"date": sd.now(), "machine": sd.machine(), "git_commit": sd.git_commit(),
            "effort": args.effort, "balanced_evaluations": stop_at,
            "speakers": len(speakers), "candidates": args.candidates,
            "evaluations_median": float(np.median([s["evaluations"] for s in speakers])),
            "correlation_probe": within_speaker_correlation(speakers, "probe"),
            "correlation_second": within_speaker_correlation(speakers, "second"),
            "wall_s": time.perf_counter() - began}
    lines = [
        f"# Choosing among a `{args.effort}` search's last improvements", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {meta['speakers']} speakers of clone_quality.py (half female); "
        f"the last {args.candidates} improvements of each search; "
        f"{meta['evaluations_median']:.0f} evaluations per search (median)"
        + (f"; `balanced` stops within {stop_at}" if stop_at else ""),
        f"- within a speaker, held-out similarity correlates {meta['correlation_probe']:.2f} "
        f"with the probe's score and {meta['correlation_second']:.2f} with the second "
        "sentence's (mean over speakers)",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| rule | similarity (mean) | vs shipped (paired, +- s.e.) |", "|---|---|---|",
        *(f"| {r['rule']} | {r['similarity']:.3f} | {r['difference']:+.3f} +- {r['se']:.3f} |"
          for r in summary),
    ]
    text = "\n".join(lines) + "\n"
    sd.write_results(out, text, {"meta": meta, "summary": summary, "speakers": speakers})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
