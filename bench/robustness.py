"""Clone similarity from degraded references: noise, babble and a phone line, vs clean.

On LibriSpeech *evaluation* speakers (``quality_data.partition``; the gate's thresholds
were chosen on the others), half female, half male, with ``clone_quality.py``'s
protocol: the reference is the first 6 s of speech of the utterance, the clone (three
fixed sentences) is scored against the rest of the utterance, and similarity is
normalised (0 = a different speaker, 1 = the same speaker) with constants measured in
this run over every usable evaluation utterance.

Each reference is degraded - white noise and babble (4 other evaluation speakers
talking at once) at 20, 10 and 5 dB SNR, a phone line (8 kHz, 300-3400 Hz) and three
synthetic rooms (``ROOMS``; ``--conditions`` runs a subset) - and
enrolled at effort ``fast`` (``--efforts`` names others; ``force=True``, so what the
gate refuses is measured too). Per condition and effort: the clone's normalised
similarity and its drop from the clean reference's clone at that effort (paired, same
speakers and seed), the degraded reference's own
similarity (as recorded, and as enrollment uses it: the gate's d-vector, with the
noise pull taken out by ``voxclone.speaker.noise_compensation``), and what
``voxclone.check`` says about it; and the clone's pitch and speaking rate against the
speaker's (the whole clean utterance's, as ``clone_quality.py`` scores them), with the
share of speakers within issue 3's targets. Conditions in ``--uncompensated`` are also enrolled
without that noise compensation (the baseline, same run); conditions in ``--denoise``
also after the gate's Wiener denoiser; in ``--all-voiced`` with the reference's pitch from
every voiced frame; in ``--widen-noisy`` with the noisy reference's F0 range allowed to
widen the clone's melody (the baselines of the loud-frame pitch and of the range kept
from widening); in ``--no-dereverb`` without taking the room's echo out; in
``--noise-match`` with the ascent also hearing its clones through the reference's
noise (``voxclone.quality.noise_profile``; off as coded); in ``--no-deep-filter`` with
the noise compensation from the noisy d-vector, as before it started from the
DeepFilterNet3-filtered one (and as where DeepFilterNet is not available).

Run from the repo root: ``python bench/robustness.py``; writes
``bench/results/robustness.{md,json}``. A long run (``balanced`` takes ~50 s per
enrollment) can be made in parts, ``--part I/N``, and merged: ``python
bench/robustness.py --merge OUT PART.json ...``. Each speaker's noises are drawn from
a generator seeded by the speaker, so a part draws what the whole run would.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import voxclone
from voxclone.audio import Audio, detect_speech, prosody
from voxclone.audio.prosody import prosody_stats
from voxclone.clone.fit import EFFORTS
from voxclone.quality import analyse, gate
from voxclone.quality.analyse import analyse_set
from voxclone.quality.denoise import wiener_denoise
from voxclone.quality.measures import spectrum
from voxclone.quality.report import SNR_FLOOR_DB, SNR_WARN_DB, judge
from voxclone.speaker import cosine, noise_compensation

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_parts
import clone_quality as cq
import clone_quality_report as cqr
import quality_data as qd
import speech_data as sd

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "robustness"
SNRS = (20, 10, 5)
#: Synthetic rooms (RT60 s, direct-to-reverberant dB; ``quality_data.reverberate``).
ROOMS = ((0.3, 10.0), (0.3, 4.0), (0.5, 4.0))
ROOM_SEED = 20261203
NOISE_SEED = 20261125
TARGET_DROP_AT_10_DB = 0.10


def log(message: str) -> None:
    print(message, flush=True)


def degradations(ref: Audio, babble_noise: np.ndarray,
                 rng: np.random.Generator) -> dict[str, Audio]:
    out = {"clean": ref}
    for snr in SNRS:
        out[f"white {snr} dB"] = qd.add_noise(ref, qd.white(len(ref), rng), snr, rng)
    for snr in SNRS:
        out[f"babble {snr} dB"] = qd.add_noise(ref, babble_noise, snr, rng)
    out["telephone"] = qd.telephone(ref)
    # every speaker in the same rooms, drawn apart from the speaker's noises
    rooms = np.random.default_rng(ROOM_SEED)
    for rt60, drr in ROOMS:
        out[f"room RT60 {rt60:.1f} s DRR {drr:+.0f} dB"] = qd.reverberate(ref, rt60, drr, rooms)
    return out


def evaluation_speakers(count: int, speech_dir: str | None) -> tuple[
        sd.Normalisation, dict[str, np.ndarray], list[sd.Utterance], dict[str, Audio]]:
    """(normalisation and held-out d-vectors over every usable evaluation utterance,
    ``count`` chosen speakers, the babble voice bank of the other evaluation speakers)."""
    pool = qd.speakers_of("evaluation", speech_dir)
    log(f"normalisation over {len(pool)} evaluation utterances ...")
    norm, heldout = sd.measure_normalisation(pool, voxclone.embed, log, cache=True)
    chosen = sd.choose_speakers(pool, set(heldout), count)
    return norm, heldout, chosen, qd.voice_bank([u for u in pool if u not in chosen])


def denoised(audio: Audio) -> Audio:
    """The gate's Wiener denoiser applied to a whole reference (16 kHz out)."""
    audio16k = audio.resample(16_000)
    return wiener_denoise(spectrum(audio16k, detect_speech(audio16k)))


@dataclass(frozen=True)
class Variant:
    """How a condition's reference is enrolled: as the code does (all defaults), or
    with one of its noise measures undone (a same-run baseline).

    Attributes:
        suffix: added to the condition's name.
        denoise: the gate denoises the reference (``quality.gate.DENOISE_BELOW_DB``
            above any SNR) or never does (``None``), whatever the code's default.
        compensate: False enrolls the d-vector as the encoder gives it, without the
            noise compensation.
        all_voiced: True measures the reference's pitch on every voiced frame, as
            before noisy clips were measured on their loud frames only.
        widen_noisy: True lets a noisy reference's F0 range widen the clone's melody,
            as before 3 Dec (``PitchRateSettings.widen_for_noisy``).
        formants: False enrolls without the formant match (``match_formants=False``).
        dereverb: False never takes a room's echo out (``quality.gate.DEREVERB_FROM_S``).
        noise_match: True keeps the noise profile of a reference under the gate's noise
            warning, so the gradient ascent also hears its clones through the
            reference's noise (``quality.gate.NOISE_MATCH_BELOW_DB``, off as coded).
        deep_filter: False compensates a noisy d-vector from itself, not from its
            DeepFilterNet3-filtered one (the fallback model).
        heard_pitch: True measures a noisy reference's pitch level through its noise,
            not on DeepFilterNet3's output (as before 6 Dec).
        filtered_floor: True starts the correction from DeepFilterNet3's d-vector only
            under the gate's noise floor (15 dB; ``noise_compensation.FILTERED_BELOW_DB``),
            not all the way up to its noise warning (25 dB) as shipped (tried on 7 Dec
            and not kept; ``bench/results/robustness_deep_filter_floor.md``, run while it
            was the code's, has the two the other way round).
    """

    suffix: str = ""
    denoise: bool = False
    compensate: bool = True
    all_voiced: bool = False
    widen_noisy: bool = False
    formants: bool = True
    dereverb: bool = True
    noise_match: bool = False
    deep_filter: bool = True
    heard_pitch: bool = False
    filtered_floor: bool = False


AS_CODED = Variant()


@dataclass(frozen=True)
class Baseline:
    """A command-line option naming the conditions also enrolled as ``variant``."""

    flag: str
    variant: Variant
    default: str  # comma-separated conditions
    help: str  # what "comma-separated conditions also run ..." goes on to say


BASELINES = (
    Baseline("--uncompensated", Variant(", uncompensated", compensate=False),
             "clean,white 10 dB,babble 20 dB,babble 10 dB",
             "without the noise compensation of the d-vector"),
    Baseline("--denoise", Variant(" + denoise", denoise=True), "", "after denoising"),
    Baseline("--all-voiced", Variant(", pitch of every voiced frame", all_voiced=True),
             "babble 10 dB", "with the reference's pitch measured on every voiced frame "
             "(the baseline of the loud-frame pitch of noisy references)"),
    Baseline("--widen-noisy", Variant(", range widened", widen_noisy=True),
             "white 10 dB,babble 10 dB",
             "with a noisy reference's F0 range allowed to widen the clone's"),
    Baseline("--no-formant", Variant(", no formant match", formants=False),
             "clean,white 10 dB,babble 10 dB", "without the formant match"),
    Baseline("--no-dereverb", Variant(", not dereverberated", dereverb=False),
             ",".join(f"room RT60 {rt:.1f} s DRR {drr:+.0f} dB" for rt, drr in ROOMS),
             "without the dereverberation"),
    Baseline("--noise-match", Variant(", noise match", noise_match=True), "",
             "with the ascent also hearing the clones through the reference's noise "
             "(balanced, best)"),
    Baseline("--no-deep-filter", Variant(", no DeepFilterNet", deep_filter=False), "",
             "with the noise compensation from the noisy d-vector, not the "
             "DeepFilterNet3-filtered one"),
    Baseline("--filtered-floor",
             Variant(", DeepFilterNet's d-vector under 15 dB", filtered_floor=True), "",
             "with the correction starting from DeepFilterNet3's d-vector only under the "
             "gate's noise floor (15 dB), not up to its noise warning (25 dB)"),
    Baseline("--heard-pitch", Variant(", pitch level as heard", heard_pitch=True), "",
             "with a noisy reference's pitch level measured through its noise, not on "
             "DeepFilterNet3's output"),
)


@contextlib.contextmanager
def compensation_as(variant: Variant) -> Iterator[None]:
    """The gate compensates noisy d-vectors as ``variant`` says within: as coded, from
    the noisy d-vector (``deep_filter=False``: the analysis neither runs DeepFilterNet
    nor asks for it, so the fallback model applies), from DeepFilterNet's d-vector only
    under 15 dB (``filtered_floor``), or not at all (``compensate=False``)."""
    saved = analyse.compensate_noise, analyse.uses_filtered, analyse.filtered_pitch_level
    saved_floor = noise_compensation.FILTERED_BELOW_DB
    if variant.filtered_floor:
        noise_compensation.FILTERED_BELOW_DB = SNR_FLOOR_DB
    if not variant.compensate:
        analyse.compensate_noise = lambda embedding, snr_db, encoder=None, **_: embedding
    if not (variant.compensate and variant.deep_filter):
        analyse.uses_filtered = lambda snr_db, encoder=None: False
    if variant.heard_pitch:
        analyse.filtered_pitch_level = lambda filtering, name: None
    try:
        yield
    finally:
        (analyse.compensate_noise, analyse.uses_filtered,
         analyse.filtered_pitch_level) = saved
        noise_compensation.FILTERED_BELOW_DB = saved_floor


@contextlib.contextmanager
def dereverb_as(variant: Variant) -> Iterator[None]:
    """The gate dereverberates as ``variant`` says (as coded, or never) within."""
    saved = gate.DEREVERB_FROM_S
    gate.DEREVERB_FROM_S = saved if variant.dereverb else None
    try:
        yield
    finally:
        gate.DEREVERB_FROM_S = saved


def clone_similarity(reference: Audio, held: np.ndarray, norm: sd.Normalisation,
                     name: str, variant: Variant = AS_CODED,
                     effort: str = "fast") -> tuple[float, float, Audio]:
    """(normalised similarity of a clone of ``reference`` enrolled at ``effort`` as
    ``variant`` says, enroll seconds, the clone)."""
    saved = gate.DENOISE_BELOW_DB
    saved_range = prosody._NOISY_RANGE_DB
    saved_match = gate.NOISE_MATCH_BELOW_DB
    if variant.noise_match:
        gate.NOISE_MATCH_BELOW_DB = SNR_WARN_DB
    if variant.all_voiced:
        prosody._NOISY_RANGE_DB = -np.inf
    gate.DENOISE_BELOW_DB = 1e9 if variant.denoise else None
    try:
        began = time.perf_counter()
        widening = sd.pitch_rate_settings(
            **({"widen_for_noisy": True} if variant.widen_noisy else {}))
        with dereverb_as(variant), compensation_as(variant), widening:
            profile = voxclone.enroll(name, reference, effort=effort, save=False,
                                      i_am_the_speaker=True, force=True,
                                      match_formants=variant.formants)
        enroll_s = time.perf_counter() - began
    finally:
        gate.DENOISE_BELOW_DB = saved
        prosody._NOISY_RANGE_DB = saved_range
        gate.NOISE_MATCH_BELOW_DB = saved_match
    clone = cq.join([voxclone.synthesize(text, profile) for text in cq.SENTENCES])
    return norm.normalise(cosine(voxclone.embed(clone), held)), enroll_s, clone


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per effort and condition, in the rows' order; the drop is from the
    clean reference's clone at the same effort."""
    def key(row: dict[str, Any]) -> tuple[str, str]:
        return row.get("effort", "fast"), row["condition"]

    clean = {(key(r)[0], r["speaker"]): r for r in rows if r["condition"] == "clean"}
    table = []
    for effort, name in dict.fromkeys(map(key, rows)):
        sel = [r for r in rows if key(r) == (effort, name)]
        verdicts = [r["verdict"] for r in sel]
        drops = [clean[effort, r["speaker"]]["clone"] - r["clone"] for r in sel]
        table.append({
            "effort": effort, "condition": name, "n": len(sel),
            "clone": statistics.fmean(r["clone"] for r in sel),
            "clone_drop": statistics.fmean(drops),
            # Clones differ a lot from speaker to speaker (by +-0.2 from one reference
            # to a slightly different one): the mean drop's standard error says how far
            # it is from the target.
            "clone_drop_se": sd.standard_error(drops),
            **cqr.prosody_shares(sel),
            "reference": statistics.fmean(r["reference"] for r in sel),
            "enrolled": statistics.fmean(r["enrolled"] for r in sel),
            "snr_db": statistics.median(r["snr_db"] for r in sel),
            "enroll_s": statistics.median(r["enroll_s"] for r in sel),
            "verdicts": {v: verdicts.count(v) for v in dict.fromkeys(verdicts)},
        })
    return table


def render(meta: dict[str, Any], table: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Robustness: clone similarity from degraded references", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}"
        + (f" (src trees {meta['source_tree']})" if "," in str(meta.get("source_tree"))
           else ""),
        f"- {meta['speakers']} LibriSpeech evaluation speakers (half female, half male)"
        + (f", run in parts {meta['part']}" if meta.get("part") else "")
        + f"; effort {', '.join(meta.get('efforts', ['fast']))}, seed 0, `force=True`; "
        "reference = first 6 s of speech",
        f"- normalisation over {meta['normalisation']['speakers']} evaluation utterances: "
        f"same_mean {meta['normalisation']['same_mean']:.3f}, diff_mean "
        f"{meta['normalisation']['diff_mean']:.3f}",
        f"- target: drop at 10 dB <= {TARGET_DROP_AT_10_DB:.2f}; wall time "
        f"{meta['wall_s']:.0f} s", "",
        "- drop: mean over speakers +- its standard error; clone F0 / range / rate: share "
        "of speakers whose clone's median F0 is within 1 semitone of theirs, F0 range "
        "within 20 %, syllable rate within 10 %", "",
        "| effort | reference | clone similarity | drop vs clean | reference's own "
        "similarity | enrolled d-vector's similarity | clone F0 within 1 st | clone F0 "
        "range within 20% | clone rate within 10% | gate's SNR estimate (median) | gate "
        "verdicts | enrollment (median) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        verdicts = ", ".join(f"{k} {v}" for k, v in r["verdicts"].items())
        lines.append(f"| {r['effort']} | {r['condition']} | {r['clone']:.3f} | "
                     f"{r['clone_drop']:+.3f} "
                     f"+- {r['clone_drop_se']:.3f} | {r['reference']:.3f} | "
                     f"{r['enrolled']:.3f} | {r['f0_within_1st']:.0%} | "
                     f"{r['f0_range_within_20pct']:.0%} | {r['rate_within_10pct']:.0%} | "
                     f"{r['snr_db']:.1f} dB | {verdicts} | {r['enroll_s']:.1f} s |")
    return "\n".join(lines) + "\n"


def merge(runs: Sequence[dict[str, Any]], *, same_source: bool = True) -> dict[str, Any]:
    """One run's json made of parts' (``--part I/N``): their rows together and the table
    recomputed from them. ``same_source=False`` (``--src-changed``) merges parts of
    different committed ``src/`` trees, listed in the header.

    Raises:
        SystemExit: the parts measured different code, efforts, conditions, sentences or
            normalisation, come from different splits, or share a speaker.
    """
    speakers = bench_parts.check_mergeable(
        runs, ("efforts", "conditions", "sentences", "normalisation"), "speaker_ids",
        same_source=same_source)
    rows = [row for run in runs for row in run["rows"]]
    meta = {**bench_parts.merged_meta(runs, "source_tree"), "speakers": len(speakers),
            "speaker_ids": speakers}
    return {"meta": meta, "summary": summarise(rows), "rows": rows}


def main(argv: Sequence[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=18, out=DEFAULT_OUT)
    options = {b: parser.add_argument(b.flag, default=b.default,
                                      help=f"comma-separated conditions also run {b.help}")
               for b in BASELINES}
    parser.add_argument("--conditions", default="",
                        help="comma-separated conditions to run (default: all)")
    parser.add_argument("--efforts", default="fast",
                        help="comma-separated efforts each reference is enrolled at "
                             f"(of {', '.join(EFFORTS)}; default fast)")
    parser.add_argument("--part", default=None,
                        help="run part I/N of the speakers (merge the parts with --merge)")
    parser.add_argument("--merge", default=None, metavar="OUT",
                        help="merge the parts' .json files named after the options into "
                             "OUT.md and OUT.json, and run nothing")
    parser.add_argument("parts", nargs="*", help="with --merge: the parts' .json files")
    parser.add_argument("--src-changed", action="store_true",
                        help="with --merge: the parts measured different committed src/ "
                             "trees whose measured path is the same (say why in the notes)")
    args = parser.parse_args(argv)
    if args.merge or args.parts:
        if not (args.merge and args.parts):
            parser.error("--merge OUT needs the parts' .json files, and they need --merge")
        data = merge([bench_parts.read_run(path) for path in args.parts],
                     same_source=not args.src_changed)
        sd.write_results(args.merge, render(data["meta"], data["summary"]), data)
        return 0
    only = {c.strip() for c in args.conditions.split(",") if c.strip()}
    if only and "clean" not in only:
        parser.error("--conditions must include clean: every drop is measured from it")
    efforts = [e.strip() for e in args.efforts.split(",") if e.strip()]
    if not efforts or not set(efforts) <= set(EFFORTS):
        parser.error(f"--efforts must name some of {', '.join(EFFORTS)}, not "
                     f"{args.efforts!r}")
    sd.show_ascents()
    started = time.perf_counter()
    norm, heldout, chosen, bank = evaluation_speakers(args.speakers, args.speech_dir)
    if args.part:
        chosen = bench_parts.speaker_part(chosen, args.part)
    lists = {b: {c.strip() for c in getattr(args, option.dest).split(",") if c.strip()}
             for b, option in options.items()}
    rows: list[dict[str, Any]] = []
    for index, utterance in enumerate(chosen, 1):
        split = sd.split_utterance(utterance)
        assert split is not None  # chosen among usable utterances
        held = heldout[utterance.speaker]
        truth = prosody_stats(split.audio)
        if index == 1:
            sd.warm_up(split.reference, efforts)
        rng = np.random.default_rng((NOISE_SEED, zlib.crc32(utterance.speaker.encode())))
        noise = qd.babble(qd.babble_voices(bank, utterance.speaker, rng),
                          split.audio.sample_rate, rng)
        conditions: list[tuple[str, Audio, Variant]] = []
        for name, audio in degradations(split.reference, noise, rng).items():
            if only and name not in only:
                continue
            conditions.append((name, audio, AS_CODED))
            conditions.extend((name + b.variant.suffix, audio, b.variant)
                              for b in BASELINES if name in lists[b])
        if index == 1:
            # The baselines' defaults add enrollments; say what this run will cost.
            log(f"{len(conditions)} references x {len(efforts)} efforts per speaker: "
                + "; ".join(name for name, _, _ in conditions))
        for name, reference, variant in conditions:
            # What voxclone.check reports, from the same analysis whose d-vector
            # enrollment uses (one analysis, not two).
            with dereverb_as(variant), compensation_as(variant):
                analysis = gate.analyse([reference], ["reference"])[0]
            report = judge([analysis], analyse_set([analysis]))
            own = voxclone.embed(denoised(reference) if variant.denoise else reference)
            enrolled = own if analysis.embedding is None or variant.denoise \
                or not variant.compensate else analysis.embedding
            # Of the reference, the same at every effort.
            measured = {"reference": norm.normalise(cosine(own, held)),
                        "enrolled": norm.normalise(cosine(enrolled, held)),
                        "snr_db": report.clips[0].snr_db, "verdict": report.verdict}
            for effort in efforts:
                clone, enroll_s, clone_audio = clone_similarity(
                    reference, held, norm, f"robust-{utterance.speaker}", variant, effort)
                rows.append({
                    "speaker": utterance.speaker, "gender": utterance.gender,
                    "effort": effort, "condition": name, "clone": clone,
                    "enroll_s": enroll_s, **measured,
                    **cqr.prosody_errors(prosody_stats(clone_audio), truth),
                })
                log(f"[{index}/{len(chosen)}] {utterance.speaker} {name} @ {effort}: "
                    f"clone {clone:.3f}, reference {measured['reference']:.3f}, gate "
                    f"{report.verdict} (SNR {measured['snr_db']:.1f} dB), enroll "
                    f"{enroll_s:.1f} s")
    table = summarise(rows)
    meta = sd.run_meta(started, speakers=len(chosen), part=args.part,
                       speaker_ids=[u.speaker for u in chosen], efforts=efforts,
                       source_tree=sd.source_tree(),
                       conditions=list(dict.fromkeys(r["condition"] for r in rows)),
                       sentences=list(cq.SENTENCES),
                       normalisation={"same_mean": norm.same_mean,
                                      "diff_mean": norm.diff_mean, "speakers": norm.speakers})
    sd.write_results(args.out, render(meta, table),
                     {"meta": meta, "summary": table, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
