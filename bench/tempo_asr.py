"""How fast the speaker's tempo can be read from the words: PocketSphinx settings against
the time they take and the tempo they read.

The rate factor read from the words (``PitchRateSettings.rate_from_words``) transcribes
the 6 s reference with PocketSphinx's defaults, ~1.3 s on this machine: more than
``fast``'s 3 s enrollment has left. The tempo needs only the transcript's syllable
count, not its words, so a quicker search may do. For each benchmark speaker's
reference (``clone_quality.py``'s split and speakers), each setting below transcribes
it; the tempo is its syllables over the reference's speech time above the noise, as
enrollment reads it. The table gives each setting's time (median, the slowest; one
decoder per setting, loaded before the clock starts, and its load time) and its tempo
against the defaults' (median ratio, the share within 3 % and 5 %) and against the whole
utterance's tempo by the defaults (the share within 10 %, as ``clone_quality.py``'s
"the reference itself" row).

Timings need the machine to itself. Run from the repo root:
``python bench/tempo_asr.py [--speakers 48]``.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import voxclone
from voxclone.asr.recognizer import (
    ASR_SAMPLE_RATE,
    PAD_S,
    QUICK_SEARCH,
    pcm16,
    peak_normalized,
)
from voxclone.audio import Audio
from voxclone.audio.prosody import articulation_rate
from voxclone.text.syllables import count_syllables

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "tempo_asr"

#: PocketSphinx's speed settings (its documentation's "tuning speed" knobs).
ONE_PASS = {"fwdflat": False, "bestpath": False}
#: Fed to the decoder in blocks of this many seconds (``"chunk_s"``; not a decoder
#: setting): each block returns the interpreter's lock to other threads, so the
#: transcript can run beside enrollment's other work; the cepstral mean is then
#: estimated as it goes rather than over the whole clip.
CHUNK_S = 0.25
SETTINGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "one pass (no fwdflat, no bestpath)": ONE_PASS,
    "one pass, fed in 0.25 s blocks": {**ONE_PASS, "chunk_s": CHUNK_S},
    "one pass, maxhmmpf 10000": {**ONE_PASS, "maxhmmpf": 10000},
    "voxclone's QUICK_SEARCH": dict(QUICK_SEARCH),
    "one pass, narrow beams": {**ONE_PASS, "beam": 1e-30, "wbeam": 1e-20, "pbeam": 1e-30,
                               "maxhmmpf": 3000},
    "one pass, narrow beams, every 2nd frame": {**ONE_PASS, "beam": 1e-30, "wbeam": 1e-20,
                                                "pbeam": 1e-30, "maxhmmpf": 3000, "ds": 2},
    "phones (allphone)": {"allphone": "en-us-phone.lm.bin", "lm": None},
}

#: The vowels of PocketSphinx's (CMU) phone set: one a syllable.
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW",
                    "OY", "UH", "UW"})


def decoder(setting: dict[str, Any]) -> Any:
    import pocketsphinx

    changed = {k: v for k, v in setting.items() if k != "chunk_s"}
    if "allphone" in changed:
        changed["allphone"] = str(Path(pocketsphinx.get_model_path()) / "en-us" /
                                  changed["allphone"])
    return pocketsphinx.Decoder(loglevel="FATAL", **changed)


def syllables_heard(ps: Any, audio: Audio, setting: dict[str, Any]) -> int:
    """Syllables in what ``ps`` hears in ``audio``, prepared as voxclone's recognizer
    prepares it (16 kHz, peak-normalised, padded)."""
    pad = np.zeros(round(PAD_S * ASR_SAMPLE_RATE), dtype=np.float32)
    samples = peak_normalized(audio.resample(ASR_SAMPLE_RATE).samples)
    pcm = pcm16(np.concatenate([pad, samples, pad]))
    ps.start_utt()
    if "chunk_s" in setting:
        block = 2 * round(setting["chunk_s"] * ASR_SAMPLE_RATE)  # bytes: 16-bit samples
        for start in range(0, len(pcm), block):
            ps.process_raw(pcm[start:start + block], full_utt=False)
    else:
        ps.process_raw(pcm, full_utt=True)
    ps.end_utt()
    hyp = ps.hyp()
    text = hyp.hypstr if hyp is not None else ""
    if "allphone" in setting:
        return sum(p in VOWELS for p in text.split())
    return count_syllables(text)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    value = call()
    return value, time.perf_counter() - began


def summarise(name: str, rows: Sequence[dict[str, Any]], load_s: float) -> dict[str, Any]:
    seconds = [r["seconds"][name] for r in rows]
    to_default = [r["tempo"][name] / r["tempo"]["defaults"] for r in rows
                  if np.isfinite(r["tempo"][name]) and np.isfinite(r["tempo"]["defaults"])]
    to_whole = [r["tempo"][name] / r["whole"] for r in rows
                if np.isfinite(r["tempo"][name]) and np.isfinite(r["whole"])]

    def within(values: Sequence[float], limit: float) -> float:
        return sum(abs(v - 1) <= limit for v in values) / len(rows)

    return {"setting": name, "median_s": statistics.median(seconds),
            "max_s": max(seconds), "load_s": load_s,
            "ratio_median": statistics.median(to_default) if to_default else float("nan"),
            "within_3pct": within(to_default, 0.03), "within_5pct": within(to_default, 0.05),
            "whole_within_10pct": within(to_whole, 0.10),
            "unread": len(rows) - len(to_default)}


def render(meta: dict[str, Any], summary: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# The speaker's tempo from PocketSphinx's words: time against agreement", "",
        f"{meta['date']}, {meta['machine']}, commit {meta['git_commit']}; "
        f"{meta['speakers']} speakers' 6 s references (clone_quality.py's split); "
        f"{meta['wall_s'] / 60:.1f} min.", "",
        "| setting | s a reference (median) | slowest | decoder load s | tempo / defaults' "
        "(median) | within 3 % of the defaults' | within 5 % | within 10 % of the whole "
        "utterance's | unread |",
        "|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        lines.append(
            f"| {s['setting']} | {s['median_s']:.2f} | {s['max_s']:.2f} | {s['load_s']:.2f} "
            f"| {s['ratio_median']:.3f} | {s['within_3pct']:.0%} | {s['within_5pct']:.0%} "
            f"| {s['whole_within_10pct']:.0%} | {s['unread']} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = sd.speaker_parser(__doc__, speakers=48, out=DEFAULT_OUT).parse_args(argv)
    started = time.perf_counter()
    folder = sd.corpus_dir(args.speech_dir)
    utterances = sd.read_index(folder)
    _, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    chosen = sd.choose_speakers(utterances, set(heldout), args.speakers)
    decoders, loads = {}, {}
    for name, setting in SETTINGS.items():
        decoders[name], loads[name] = timed(functools.partial(decoder, setting))
    rows = []
    for index, utterance in enumerate(chosen, 1):
        split = sd.split_utterance(utterance)
        if split is None:
            raise SystemExit(f"{utterance.speaker}: no usable split")
        reference = split.reference
        whole = articulation_rate(split.audio, syllables_heard(
            decoders["defaults"], split.audio, {}))
        row: dict[str, Any] = {"speaker": utterance.speaker, "whole": whole,
                               "tempo": {}, "seconds": {}}
        for name, ps in decoders.items():
            heard, seconds = timed(functools.partial(
                syllables_heard, ps, reference, SETTINGS[name]))
            row["seconds"][name] = seconds
            row["tempo"][name] = articulation_rate(reference, heard, above_noise=True)
        rows.append(row)
        print(f"[{index}/{len(chosen)}] {utterance.speaker}: " + ", ".join(
            f"{row['tempo'][n]:.2f}/{row['seconds'][n]:.2f}s" for n in SETTINGS), flush=True)
    summary = [summarise(name, rows, loads[name]) for name in SETTINGS]
    meta = sd.run_meta(started, speakers=len(chosen), settings=SETTINGS)
    sd.write_results(args.out, render(meta, summary), {"meta": meta, "summary": summary,
                                                        "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
