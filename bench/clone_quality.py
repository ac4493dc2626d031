"""Clone quality on real speech: similarity, pitch, tempo, intelligibility and speed.

Protocol (DESIGN.md, "Evaluation protocol"), on LibriSpeech utterances, one per speaker:

* Split: the *reference* is the start of the utterance up to where the VAD
  (``detect_speech``) has found 6 s of speech; the *held-out* part is the rest. A clone
  is made from the reference only and scored against the held-out part only.
* Normalisation: over every usable utterance in ``index.csv`` (held-out part with at
  least 3 s of speech), with the same embedding (``voxclone.embed``), ``same_mean`` is
  the mean of cos(ref_i, held_i) and ``diff_mean`` the mean of cos(ref_i, held_j),
  i != j. Normalised similarity = (cos - diff_mean) / (same_mean - diff_mean): 0 is "a
  different speaker", 1 is "the same speaker, another recording". Measured every run.
* Per speaker (half female, half male, a fixed hash order among utterances >= 12 s)
  and effort: ``enroll`` is timed; three fixed sentences are synthesised and timed
  (real-time factor = compute s / audio s); the clone is the three concatenated.
  - similarity: cos(embed(clone), embed(held-out)), raw and normalised;
  - pitch: |12 log2(clone F0 median / speaker F0 median)| semitones, and the ratio of
    5-95 % F0 ranges in semitones, speaker statistics from the whole utterance;
  - tempo: clone syllable rate / speaker syllable rate (intensity peaks); and, since
    that reading follows only a third of a clone's tempo on these sentences
    (``bench/results/rate_response.md``), the articulation rate read from the words
    (``articulation.py``: syllables of the sentences the clone spoke, or of
    PocketSphinx's transcript of the speaker's utterance, over the same speech time),
    clone over speaker, with the clone's syllables from the sentence ("tempo") and from
    its transcript too ("tempo, both by ASR", the same reading as the speaker's);
  - intelligibility: PocketSphinx word error rate on each sentence (total errors /
    total words), and its ratio to the WER of Piper's stock "joe" voice on the same
    sentences (``JOE_TAKES`` takes of each: Piper varies from take to take).

* Variants of an effort, as rows of the table: ``<effort>-nomap`` enrolls without the
  learned style map (``voxclone.clone.style_map``), ``-notone`` without the tone match
  (``voxclone.clone.tone_match``), ``-nopitch`` without the pitch shift and
  ``-norate`` without the rate factor, ``-norange`` without the F0 range factor
  (``voxclone.clone.pitch_rate_match``), ``-preshift`` with the range and rate factors
  measured on the clone's renderings before the pitch shift (as before 3 Dec evening),
  ``-noformant`` without the formant ratio (``voxclone.clone.formant_match``),
  ``+widerange`` with the F0 range factor clamped to 0.5-2 and widened by noisy
  references too (tried on 7 Dec, not kept);
  ``-nodrift`` without the map's drift (the mean ascent step added to the map's style at
  ``fast`` and ``balanced``, ``train/style_drift.py``), ``+driftstart`` with it at every
  effort (``best`` then ascends from the drifted style too; not the default);
  ``<effort>-nomap-notone-nopitch-norate-noformant`` is the package issue's method (pack
  mixture, then refinement). ``+match`` turns on the opt-in style-based pitch and rate match
  (``match_prosody=True``), ``+check`` the self-check of synthesis by speech
  recognition (``check_words=True``), ``+shipped`` enrolls and speaks with the shipped
  Kokoro model instead of voxclone's static int8 rewrite of it (issue 8), ``-search``
  refines a ``balanced``/``best`` voice by the random search instead of the gradient
  ascent (``voxclone.clone.gradient_fit``), ``+moretexts`` measures the pitch and
  rate match on ``voxclone.clone.fit.MORE_PROSODY_TEXTS`` too, ``+wordrate`` reads the
  rate factor from the words (a transcript of the reference, the syllables of
  enrollment's sentences; ``PitchRateSettings.rate_from_words``), ``+unmarked`` scores
  the renderings without their watermark (what the mark costs). Issue 3's
  targets: F0 median within 1 semitone, F0 range ratio within +-20 %, speaking-rate
  ratio within +-10 %; the table gives the share of speakers meeting each.

Run from the repo root: ``python bench/clone_quality.py [--quick]``; writes
``<out>.md`` (tables) and ``<out>.json`` (per-speaker rows).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.audio import Audio, write_audio
from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone import fit
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.fit import EFFORTS, learned_probe
from voxclone.clone.pitch_rate_match import PitchRateMatch, match_pitch_rate
from voxclone.consent.voice_seal import seal_voice
from voxclone.engines.kokoro import KokoroEngine, stock_packs
from voxclone.engines.session import SessionConfig
from voxclone.errors import VoxcloneError
from voxclone.pipeline import Synthesizer
from voxclone.speaker import cosine
from voxclone.watermark import default_watermark

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_parts
import speech_data as sd  # the shared benchmark helpers next to this file
from articulation import articulation_rate
from clone_quality_report import prosody_errors, prosody_shares, render, summarise

#: New sentences (not voxclone's internal probe), each about 2-4 s when spoken.
SENTENCES = (
    "Could you pick up some bread and milk on your way home?",
    "The meeting has been moved to Thursday afternoon.",
    "We waited outside the station for almost an hour.",
)
GAP_S = 0.25  # silence between the sentences when they are joined into one clip
DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "clone_quality"


def log(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class Truth:
    """What a clone of one speaker is scored against."""

    split: sd.Split
    heldout_embedding: np.ndarray
    prosody: ProsodyStats  # of the whole utterance
    #: articulation rates (syllables a second) of the whole utterance and of the
    #: reference, from PocketSphinx's transcripts (NaN: not measured)
    tempo: float = float("nan")
    reference_tempo: float = float("nan")


def truth_of(split: sd.Split, heldout: np.ndarray, recognizer: sd.Recognizer) -> Truth:
    """What a clone of ``split``'s speaker is scored against."""
    return Truth(split, heldout, prosody_stats(split.audio),
                 articulation_rate(split.audio, recognizer.transcribe(split.audio)),
                 articulation_rate(split.reference, recognizer.transcribe(split.reference)))


def join(clips: Sequence[Audio]) -> Audio:
    """Concatenate clips of one sample rate with ``GAP_S`` of silence between them."""
    rate = clips[0].sample_rate
    gap = np.zeros(round(GAP_S * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for clip in clips:
        parts.extend([clip.samples, gap])
    return Audio(np.concatenate(parts[:-1]), rate)


#: Baseline: the single stock pack whose probe speech is closest to the speaker.
NEAREST = "nearest-pack"
#: Suffix of an effort enrolled without the learned style map (the package issue's method).
NOMAP = "-nomap"
#: Suffix of an effort whose style map has no drift (``StyleMap.fast_drift``, which
#: ``fast`` and ``balanced`` add, ``fit.DRIFT_EFFORTS``).
NODRIFT = "-nodrift"
#: Suffix of an effort whose map's style takes the drift at every effort, not only fast.
DRIFT_START = "+driftstart"
#: Suffix of an effort enrolled without the tone match (``match_tone=False``).
NOTONE = "-notone"
#: Suffix of an effort enrolled without the pitch shift (``match_pitch=False``).
NOPITCH = "-nopitch"
#: Suffix of an effort enrolled without the rate factor (``match_rate=False``).
NORATE = "-norate"
#: Suffix of an effort enrolled with the pitch shift but without the F0 range factor.
NORANGE = "-norange"
#: Suffix of an effort enrolled without the formant ratio (``match_formants=False``).
NOFORMANT = "-noformant"
#: Suffix of an effort whose F0 range and rate factors are measured on the clone's
#: renderings before the pitch shift rather than after it (the earlier way).
PRESHIFT = "-preshift"
#: Suffix of an effort enrolled with the opt-in pitch and rate match in the style.
MATCH = "+match"
#: Suffix of a row whose sentences are synthesised with the self-check
#: (``check_words=True``).
CHECK = "+check"
#: Suffix of a row enrolled and synthesised with the shipped Kokoro model (dynamic int8)
#: instead of its static int8 rewrite (``voxclone.engines.static_int8``).
SHIPPED = "+shipped"
#: Suffix of a ``balanced``/``best`` row refined by the random search instead of the
#: gradient ascent (``voxclone.clone.gradient_fit``), as before 4 Dec evening.
SEARCH = "-search"
#: Suffix of a row whose pitch and rate match also measures the clone on
#: ``voxclone.clone.fit.MORE_PROSODY_TEXTS``.
MORE_TEXTS = "+moretexts"
#: Suffix of a row whose F0 range factor is clamped to 0.5-2 (not 0.67-1.5) and may
#: be widened by a noisy reference too (``bench/range_match.py``; not the default).
WIDE_RANGE = "+widerange"
#: The range match's settings of :data:`WIDE_RANGE`.
WIDE_RANGE_SETTINGS = {"range_bounds": (0.5, 2.0), "widen_for_noisy": True}
#: Suffix of a row whose rate factor is read from the words
#: (``PitchRateSettings.rate_from_words``: a transcript of the reference, the syllables
#: of enrollment's sentences; not the default).
WORD_RATE = "+wordrate"
#: Suffix of a row whose clones are scored without their watermark (the same renderings,
#: unmarked): what the mark costs the similarity.
UNMARKED = "+unmarked"
SUFFIXES = (NOMAP, NODRIFT, DRIFT_START, NOTONE, NOPITCH, NORATE, NORANGE, NOFORMANT,
            PRESHIFT, MATCH, CHECK, SHIPPED, SEARCH, MORE_TEXTS, WIDE_RANGE, WORD_RATE,
            UNMARKED)


@dataclass(frozen=True)
class Variant:
    """How a row enrolls: effort, learned map, tone, pitch and rate matches, and the
    opt-in style-based pitch and rate match."""

    effort: str
    use_map: bool = True
    match_tone: bool = True
    match_prosody: bool = False
    match_pitch: bool = True
    match_rate: bool = True
    check_words: bool = False
    match_range: bool = True
    shipped_model: bool = False
    match_formants: bool = True
    measure_shifted: bool = True
    gradient: bool = True
    more_texts: bool = False
    wide_range: bool = False
    word_rate: bool = False
    marked: bool = True
    drift: bool = True
    drift_start: bool = False


def parse_effort(label: str) -> Variant:
    """The :class:`Variant` of a row label such as ``fast-nomap-notone+match`` (the
    suffixes in any order)."""
    if label == NEAREST:
        return Variant("stock", use_map=False, match_tone=False, match_pitch=False,
                       match_rate=False, match_range=False, match_formants=False)
    base, found = label, set()
    while any(base.endswith(x) for x in SUFFIXES):
        suffix = next(x for x in SUFFIXES if base.endswith(x))
        found.add(suffix)
        base = base.removesuffix(suffix)
    return Variant(base, use_map=NOMAP not in found, match_tone=NOTONE not in found,
                   match_prosody=MATCH in found, match_pitch=NOPITCH not in found,
                   match_rate=NORATE not in found, check_words=CHECK in found,
                   match_range=NORANGE not in found, shipped_model=SHIPPED in found,
                   match_formants=NOFORMANT not in found,
                   measure_shifted=PRESHIFT not in found, gradient=SEARCH not in found,
                   more_texts=MORE_TEXTS in found, wide_range=WIDE_RANGE in found,
                   word_rate=WORD_RATE in found,
                   marked=UNMARKED not in found, drift=NODRIFT not in found,
                   drift_start=DRIFT_START in found)


@functools.lru_cache(maxsize=1)
def shipped_engine() -> KokoroEngine:
    return KokoroEngine(config=SessionConfig(static_int8=False))


def engine_of(variant: Variant) -> contextlib.AbstractContextManager[Any]:
    """Within it, enrollment and synthesis use the variant's model."""
    if not variant.shipped_model:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch("voxclone.api.default_engine", shipped_engine))
    synthesizer = Synthesizer(shipped_engine(), stock_packs())
    stack.enter_context(mock.patch("voxclone.synthesis._synthesizer", lambda: synthesizer))
    return stack


class Unmarked:
    """The installation's watermark, except that it leaves the audio as it is."""

    def __init__(self) -> None:
        self.name = default_watermark().name

    def embed(self, samples: np.ndarray, sample_rate: int, payload: int,
              **_: Any) -> np.ndarray:
        return np.asarray(samples, dtype=np.float32)


def marking(variant: Variant) -> contextlib.AbstractContextManager[Any]:
    """Within it, synthesis marks its audio as the variant says (as shipped, or not)."""
    return contextlib.nullcontext() if variant.marked else mock.patch(
        "voxclone.synthesis.default_watermark", Unmarked)


def nearest_pack(profile: voxclone.VoiceProfile) -> voxclone.VoiceProfile:
    """``profile`` with its conditioning replaced by the nearest single stock pack."""
    learned = learned_probe()
    if learned is None:
        raise SystemExit("the nearest-pack baseline needs src/voxclone/clone/data/")
    names = list(learned.pack_embeddings)
    scores = [float(learned.pack_embeddings[n] @ profile.embedding) for n in names]
    best = names[int(np.argmax(scores))]
    # a voice made by hand on purpose, so sealed here to speak (voxclone.consent.voice_seal)
    return seal_voice(dataclasses.replace(profile, conditioning=StyleConditioning({best: 1.0}),
                                          score=max(scores)))


def unshifted_match(*args: Any, shifted: Any = None, **kwargs: Any) -> PitchRateMatch:
    """``match_pitch_rate`` measuring the range and rate before the pitch shift."""
    return match_pitch_rate(*args, **kwargs)


def keep_clone(clone: Audio, path: Path) -> None:
    """Write a clone for ``--save-audio``. A failure stops the run: it is the disk's,
    not the clone's, and must not be recorded as a failed row."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(clone, path)
    except (OSError, VoxcloneError) as exc:
        raise SystemExit(f"--save-audio: cannot write {path}: {exc}") from None


def style_map_as(variant: Variant) -> contextlib.AbstractContextManager[Any]:
    """Within it, enrollment uses the style map as ``variant`` says: none (``-nomap``), or
    the shipped one with its drift at the efforts the public API adds it
    (``fit.DRIFT_EFFORTS``), at none (``-nodrift``) or at every effort (``+driftstart``)."""
    if not variant.use_map:
        return mock.patch("voxclone.clone.fit.load_style_map", return_value=None)
    if variant.drift_start:
        return mock.patch.object(fit, "DRIFT_EFFORTS", frozenset(EFFORTS))
    if not variant.drift:
        return mock.patch.object(fit, "DRIFT_EFFORTS", frozenset())
    return contextlib.nullcontext()


def clone_row(truth: Truth, effort: str, norm: sd.Normalisation,
              recognizer: sd.Recognizer, audio_dir: Path | None = None) -> dict[str, Any]:
    """Enrol one speaker at one effort and measure the clone (with the variant's model:
    call it within :func:`engine_of`). With ``audio_dir``, the clone's sentences, joined
    as they are embedded, are kept as ``audio_dir/<speaker>/<effort>.flac`` (24 kHz), to
    score later with another speaker model."""
    speaker = truth.split.utterance.speaker
    variant = parse_effort(effort)
    hidden = style_map_as(variant)
    changed = ({} if variant.match_range else {"match_range": False}) | \
        (WIDE_RANGE_SETTINGS if variant.wide_range else {}) | \
        ({"rate_from_words": True} if variant.word_rate else {})
    narrow = sd.pitch_rate_settings(**changed)
    unshifted = contextlib.nullcontext() if variant.measure_shifted else mock.patch(
        "voxclone.clone.fit.match_pitch_rate", unshifted_match)
    searched = contextlib.nullcontext() if variant.gradient else mock.patch(
        "voxclone.clone.fit.GRADIENT_EFFORTS", frozenset())
    texts = mock.patch.dict(fit.PROSODY_TEXTS, {variant.effort: fit.MORE_PROSODY_TEXTS}) \
        if variant.more_texts else contextlib.nullcontext()
    began = time.perf_counter()
    with hidden, narrow, unshifted, searched, texts:
        profile = voxclone.enroll(f"bench-{speaker}", truth.split.reference,
                                  effort=variant.effort,  # type: ignore[arg-type]
                                  save=False, match_prosody=variant.match_prosody,
                                  match_tone=variant.match_tone,
                                  match_pitch=variant.match_pitch,
                                  match_rate=variant.match_rate,
                                  match_formants=variant.match_formants,
                                  i_am_the_speaker=True,  # public benchmark speech
                                  force=True)  # every speaker is measured, gate or not
    if effort == NEAREST:
        profile = nearest_pack(profile)
    enroll_s = time.perf_counter() - began
    clips, compute_s = [], 0.0
    for text in SENTENCES:
        began = time.perf_counter()
        with marking(variant):
            clips.append(voxclone.synthesize(text, profile,
                                             check_words=variant.check_words))
        compute_s += time.perf_counter() - began
    clone = join(clips)
    if audio_dir is not None:
        keep_clone(clone, audio_dir / speaker / f"{effort}.flac")
    raw = cosine(voxclone.embed(clone), truth.heldout_embedding)
    stats, real = prosody_stats(clone), truth.prosody
    transcripts = [sd.score_transcript(recognizer, t, c) for t, c in zip(SENTENCES, clips,
                                                                          strict=True)]
    return {
        "speaker": speaker, "gender": truth.split.utterance.gender, "effort": effort,
        "cosine": raw, "similarity": norm.normalise(raw), "enroll_score": profile.score,
        "f0_median_hz": stats.f0_median, "speaker_f0_median_hz": real.f0_median,
        **prosody_errors(stats, real),
        "tempo_ratio": articulation_rate(clone, " ".join(SENTENCES)) / truth.tempo,
        "tempo_asr_ratio": articulation_rate(clone, " ".join(t.heard for t in transcripts))
        / truth.tempo,
        "rate_factor": profile.rate,
        "pitch_range_factor": profile.pitch_range,
        "formant_ratio": profile.formant_ratio,
        "asr_errors": sum(t.errors for t in transcripts),
        "asr_words": sum(t.words for t in transcripts),
        "transcripts": [t.as_dict() for t in transcripts],
        "enroll_s": enroll_s,
        "rtf": compute_s / sum(c.duration for c in clips),
        "audio_s": clone.duration,
    }


def reference_row(truth: Truth) -> dict[str, Any]:
    """The speaker's own reference scored on pitch and tempo as a clone would be: the
    share of speakers a perfect copy of the reference's statistics would bring within
    the targets."""
    return {**prosody_errors(prosody_stats(truth.split.reference), truth.prosody),
            "tempo_ratio": truth.reference_tempo / truth.tempo}


#: Baselines first: the nearest pack, then the package issue's method (no map, no tone).
#: The package issue's method: the pack mixture and its refinement, nothing after.
PACKAGE_ISSUE = f"{NOMAP}{NOTONE}{NOPITCH}{NORATE}{NOFORMANT}"
DEFAULT_ROWS = (f"{NEAREST},fast{PACKAGE_ISSUE},fast{NOPITCH}{NORATE},fast{NOFORMANT},fast,"
                f"balanced{PACKAGE_ISSUE},balanced")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=24,
                        help="speakers to clone, half female, half male (default 24)")
    parser.add_argument("--efforts", default=DEFAULT_ROWS,
                        help="comma-separated rows: an enroll effort, optionally with "
                             f"'{NOMAP}' (without the learned map), '{NOTONE}' (without "
                             f"the tone match), '{NOPITCH}' (no pitch shift), '{NORATE}' "
                             f"(no rate factor), '{NOFORMANT}' (no formant ratio), "
                             f"'{PRESHIFT}' (range and rate measured before the shift), "
                             f"'{WIDE_RANGE}' (range clamp 0.5-2, noisy references widen), "
                             f"'{WORD_RATE}' (the rate factor read from the words), "
                             f"'{UNMARKED}' (scored without the watermark), "
                             f"'{MATCH}' (style-based pitch and rate "
                             f"match), '{CHECK}' (synthesis checked by ear) and/or "
                             f"'{SHIPPED}' (the shipped model, not the static int8 one), or "
                             f"{NEAREST} (default {DEFAULT_ROWS})")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="output path without extension; writes .md and .json")
    parser.add_argument("--speech-dir", default=None,
                        help=f"speech folder (default {sd.DEFAULT_SPEECH_DIR})")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for the speaker encoder and VAD (default: "
                             "torch's own; 1 is much faster on a busy machine)")
    parser.add_argument("--part", default=None,
                        help="run part I/N of the speakers (e.g. 1/3: the first third of "
                             "each gender), to merge later with clone_quality_report.py "
                             "--merge")
    parser.add_argument("--save-audio", type=Path, default=None, metavar="DIR",
                        help="keep each clone's sentences as DIR/<speaker>/<effort>.flac")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 speakers, efforts stock,fast")
    args = parser.parse_args(argv)
    if args.quick:
        args.speakers, args.efforts = 2, f"{NEAREST},stock,fast"
    args.efforts = [e.strip() for e in args.efforts.split(",") if e.strip()]
    unknown = [e for e in args.efforts if parse_effort(e).effort not in EFFORTS]
    if unknown or not args.efforts or args.speakers < 1:
        parser.error(f"efforts must be among {', '.join(EFFORTS)} (with "
                     f"{', '.join(SUFFIXES)}) or {NEAREST}; speakers >= 1")
    return args


#: Takes of each sentence by the stock voice: Piper samples its prosody, so one take
#: of three sentences gave 0 to 4 errors in 29 words from run to run.
JOE_TAKES = 24


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sd.show_ascents()
    started, source = time.perf_counter(), sd.source_tree()
    threads = sd.set_torch_threads(args.threads)
    folder = sd.corpus_dir(args.speech_dir)
    utterances = sd.read_index(folder)
    log(f"clone_quality: {args.speakers} speakers, efforts {','.join(args.efforts)}, "
        f"torch threads {threads}, data {folder}")

    log(f"measuring normalisation on all {len(utterances)} utterances ...")
    norm, heldout = sd.measure_normalisation(utterances, voxclone.embed, log,
                                             cache=True)
    log(f"same_mean {norm.same_mean:.3f}  diff_mean {norm.diff_mean:.3f}  "
        f"({norm.speakers} usable)")
    chosen = sd.choose_speakers(utterances, set(heldout), args.speakers)
    if args.part:
        chosen = bench_parts.speaker_part(chosen, args.part)

    recognizer = sd.Recognizer()
    joe = sd.stock_voice_wer(recognizer, SENTENCES, JOE_TAKES)
    log(f"stock voice joe: WER {joe['wer']:.1%}")

    rows: list[dict[str, Any]] = []
    own: list[dict[str, Any]] = []
    for index, utterance in enumerate(chosen, 1):
        split = sd.split_utterance(utterance)
        assert split is not None  # chosen among usable utterances
        truth = truth_of(split, heldout[utterance.speaker], recognizer)
        own.append(reference_row(truth))
        if index == 1:
            sd.warm_up(split.reference, [parse_effort(e).effort for e in args.efforts])
        for effort in args.efforts:
            try:
                with engine_of(parse_effort(effort)):
                    row = clone_row(truth, effort, norm, recognizer, args.save_audio)
            except VoxcloneError as exc:
                row = {"speaker": utterance.speaker, "gender": utterance.gender,
                       "effort": effort, "error": str(exc)}
                log(f"[{index}/{len(chosen)}] {utterance.speaker} {effort}: FAILED {exc}")
            else:
                log(f"[{index}/{len(chosen)}] {utterance.speaker} ({utterance.gender}) "
                    f"{effort}: sim {row['similarity']:.3f} (cos {row['cosine']:.3f}) "
                    f"F0 err {row['f0_error_st']:.2f} st, rate x{row['rate_ratio']:.2f}, "
                    f"ASR {row['asr_errors']}/{row['asr_words']}, enroll "
                    f"{row['enroll_s']:.1f} s, RTF {row['rtf']:.2f}")
            rows.append(row)

    summary = [summarise(rows, effort, joe["wer"]) for effort in args.efforts]
    meta = {
        "date": sd.now(), "machine": sd.machine(), "torch_threads": threads,
        "git_commit": sd.git_commit(), "source_tree": source,
        "part": args.part, "voxclone_version": voxclone.__version__, "data": str(folder),
        "speakers": [u.speaker for u in chosen], "efforts": args.efforts,
        "sentences": list(SENTENCES), "reference_speech_s": sd.REFERENCE_SPEECH_S,
        "normalisation": {"same_mean": norm.same_mean, "diff_mean": norm.diff_mean,
                          "speakers": norm.speakers},
        "joe": joe, "reference_itself": prosody_shares(own),
        "wall_s": time.perf_counter() - started,
    }
    log("")
    sd.write_results(args.out, render(meta, summary, rows, SENTENCES),
                     {"meta": meta, "summary": summary, "rows": rows})
    log(f"wrote {args.out}.md and {args.out}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
