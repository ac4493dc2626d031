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
  ``-norate`` without the rate factor (``+rate`` with it, where the effort leaves it
  out), ``-norange`` without the F0 range factor (``voxclone.clone.pitch_rate_match``),
  ``-preshift`` with the range and rate factors measured on the clone's renderings
  before the pitch shift (as before 3 Dec evening),
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
  enrollment's sentences; ``PitchRateSettings.rate_from_words``) and ``+peakrate`` from
  syllable peaks, ``+unmarked`` scores the renderings without their watermark (what the
  mark costs), and ``+samevoice`` keeps the voice of an earlier row (the same label
  without ``+samevoice``, ``+wordrate`` and ``+peakrate``) and measures only its rate
  factor again (``same_voice.py``), so that a ``balanced``/``best`` pair differs in
  that factor alone although their ascents stop at a time budget. The variants are
  defined in ``clone_variants.py``. Issue 3's targets: F0 median within 1 semitone, F0
  range ratio within +-20 %, speaking-rate ratio within +-10 %; the table gives the
  share of speakers meeting each.

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
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.fit import EFFORTS, PROBE_TEXT
from voxclone.clone.learned_probe import learned_probe
from voxclone.consent.voice_seal import seal_voice
from voxclone.errors import VoxcloneError
from voxclone.speaker import cosine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_parts
import speech_data as sd  # the shared benchmark helpers next to this file
from articulation import articulation_rate
from clone_quality_report import prosody_errors, prosody_shares, render, summarise
from clone_variants import (
    CHECK,
    MATCH,
    NEAREST,
    NOFORMANT,
    NOMAP,
    NOPITCH,
    NORATE,
    NOTONE,
    PEAK_RATE,
    PRESHIFT,
    RATE,
    SAME_VOICE,
    SHIPPED,
    SUFFIXES,
    UNMARKED,
    WIDE_RANGE,
    WORD_RATE,
    engine_of,
    marking,
    matching,
    parse_effort,
    same_voice_base,
    style_map_as,
)
from same_voice import MatchCall, recording_match, rerated

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


def nearest_pack(profile: voxclone.VoiceProfile) -> voxclone.VoiceProfile:
    """``profile`` with its conditioning replaced by the nearest single stock pack."""
    learned = learned_probe(PROBE_TEXT)
    if learned is None:
        raise SystemExit("the nearest-pack baseline needs src/voxclone/clone/data/")
    names = list(learned.pack_embeddings)
    scores = [float(learned.pack_embeddings[n] @ profile.embedding) for n in names]
    best = names[int(np.argmax(scores))]
    # a voice made by hand on purpose, so sealed here to speak (voxclone.consent.voice_seal)
    return seal_voice(dataclasses.replace(profile, conditioning=StyleConditioning({best: 1.0}),
                                          score=max(scores)))


def keep_clone(clone: Audio, path: Path) -> None:
    """Write a clone for ``--save-audio``. A failure stops the run: it is the disk's,
    not the clone's, and must not be recorded as a failed row."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(clone, path)
    except (OSError, VoxcloneError) as exc:
        raise SystemExit(f"--save-audio: cannot write {path}: {exc}") from None



@dataclass(frozen=True)
class Enrolled:
    """One row's voice of one speaker, how long it took, and its recorded match."""

    profile: voxclone.VoiceProfile
    enroll_s: float
    calls: list[MatchCall]


def enrolled(truth: Truth, effort: str, voices: dict[str, Enrolled]) -> Enrolled:
    """The row's voice of ``truth``'s speaker: enrolled, or for a :data:`SAME_VOICE`
    row, the earlier row's in ``voices`` with its rate factor measured again."""
    variant = parse_effort(effort)
    if variant.same_voice:
        kept = voices[same_voice_base(effort)]
        profile, seconds = rerated(kept.profile, kept.calls,
                                   functools.partial(matching, variant))
        return Enrolled(profile, kept.enroll_s + seconds, [])
    speaker = truth.split.utterance.speaker
    searched = contextlib.nullcontext() if variant.gradient else mock.patch(
        "voxclone.clone.fit.GRADIENT_EFFORTS", frozenset())
    began = time.perf_counter()
    with style_map_as(variant), matching(variant), searched, recording_match() as calls:
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
    return Enrolled(profile, time.perf_counter() - began, calls)


def clone_row(truth: Truth, effort: str, norm: sd.Normalisation,
              recognizer: sd.Recognizer, audio_dir: Path | None = None,
              voices: dict[str, Enrolled] | None = None) -> dict[str, Any]:
    """Enrol one speaker at one effort and measure the clone (with the variant's model:
    call it within :func:`engine_of`). ``voices`` holds the speaker's earlier rows'
    voices (for :data:`SAME_VOICE` rows); this row's is added. With ``audio_dir``, the
    clone's sentences, joined as they are embedded, are kept as
    ``audio_dir/<speaker>/<effort>.flac`` (24 kHz), to score later with another speaker
    model."""
    speaker = truth.split.utterance.speaker
    variant = parse_effort(effort)
    voices = {} if voices is None else voices
    voices[effort] = voice = enrolled(truth, effort, voices)
    profile, enroll_s = voice.profile, voice.enroll_s
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
                             f"(no rate factor), '{RATE}' (the rate factor at any effort), "
                             f"'{NOFORMANT}' (no formant ratio), "
                             f"'{PRESHIFT}' (range and rate measured before the shift), "
                             f"'{WIDE_RANGE}' (range clamp 0.5-2, noisy references widen), "
                             f"'{WORD_RATE}' / '{PEAK_RATE}' (the rate factor read from the "
                             "words / from syllable peaks), "
                             f"'{UNMARKED}' (scored without the watermark), "
                             f"'{SAME_VOICE}' (an earlier row's voice, its rate factor "
                             "measured again), "
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
    for at, label in enumerate(args.efforts):
        if parse_effort(label).same_voice and \
                same_voice_base(label) not in args.efforts[:at]:
            parser.error(f"{label} keeps the voice of {same_voice_base(label)}: list "
                         "that row before it")
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
        voices: dict[str, Enrolled] = {}
        if index == 1:
            sd.warm_up(split.reference, [parse_effort(e).effort for e in args.efforts])
        for effort in args.efforts:
            try:
                with engine_of(parse_effort(effort)):
                    row = clone_row(truth, effort, norm, recognizer, args.save_audio,
                                    voices)
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
