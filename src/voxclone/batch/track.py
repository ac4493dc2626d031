"""A dub track: the lines of an SRT script's batch job, each placed at its cue's start
time in one audio file, to lay under the picture.

Each line's file, as the job wrote it, is decoded and added into silence at its cue's
start, so lines that run into the next cue are mixed, not cut (the track names them).
The track is not marked again: it holds each line's own watermark, which ``voxclone
detect`` reads one by one where a line lasts 2 s or more (``detect_all``).
"""

from __future__ import annotations

import bisect
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxclone.audio import Audio, load_audio, write_audio
from voxclone.batch.manifest import ManifestEntry
from voxclone.batch.script import ScriptLine
from voxclone.batch.work import speech_seconds
from voxclone.errors import ScriptError

logger = logging.getLogger(__name__)

#: The track's sample rate (voxclone renders 24 kHz).
TRACK_RATE = 24_000


@dataclass(frozen=True)
class Track:
    """A dub track that was written.

    Attributes:
        path: the file.
        seconds: its length: the later of the last cue's end and the last line's.
        placed: how many lines it holds.
        missing: ids of lines with no audio (failed): silence where they belong.
        overrunning: ids of lines whose speech runs past the next cue's start (mixed
            with the next line there).
    """

    path: Path
    seconds: float
    placed: int
    missing: tuple[str, ...]
    overrunning: tuple[str, ...]


def check_placeable(lines: Sequence[ScriptLine], where: str) -> None:
    """Refuse a track for lines without a start time, before anything is rendered.

    Raises:
        ScriptError: a line has no cue timing (the script is CSV or JSONL).
    """
    unplaced = [line for line in lines if line.cue is None]
    if unplaced:
        raise ScriptError(f"{where}, line {unplaced[0].line}: a dub track places each line "
                          "at its SRT cue's start time, and this line has none; give an SRT "
                          "script, or leave out the track")


def write_track(lines: Sequence[ScriptLine], entries: Sequence[ManifestEntry], outdir: Path,
                path: str | os.PathLike[str]) -> Track:
    """Write the track of a finished job to ``path`` (its extension names the format:
    wav, flac, mp3, ogg or opus), 24 kHz mono.

    Args:
        lines: the script's lines, each with its ``cue``.
        entries: the job's manifest entries, one per line, in script order.
        outdir: the job's output directory (where the lines' files are).
        path: the track file, written atomically.

    Raises:
        AudioError: a line's file cannot be read, or the track cannot be written.
    """
    placed: list[tuple[float, str, np.ndarray]] = []  # (start s, id, samples)
    missing: list[str] = []
    for line, entry in zip(lines, entries, strict=True):
        if line.cue is None:
            raise ValueError(f"line {line.id} has no cue time")  # (check_placeable's job)
        if not entry.ok or entry.file is None:
            missing.append(line.id)
            continue
        samples = load_audio(outdir / entry.file).resample(TRACK_RATE).samples
        placed.append((line.cue[0], line.id, samples))
    last = max([0.0] + [line.cue[1] for line in lines if line.cue is not None]
               + [start + len(samples) / TRACK_RATE for start, _, samples in placed])
    track = np.zeros(round(last * TRACK_RATE) + 1, np.float32)
    starts = sorted(line.cue[0] for line in lines if line.cue is not None)
    overrunning = []
    for start, line_id, samples in placed:
        begin = round(start * TRACK_RATE)
        track[begin:begin + len(samples)] += samples
        following = bisect.bisect_right(starts, start)  # the next cue to start after it
        if following < len(starts) and \
                start + speech_seconds(Audio(samples, TRACK_RATE)) > starts[following]:
            overrunning.append(line_id)
    write_audio(Audio(np.clip(track, -1.0, 1.0), TRACK_RATE), path)
    result = Track(Path(path), len(track) / TRACK_RATE, len(placed), tuple(missing),
                   tuple(overrunning))
    logger.info("dub track %s: %d lines, %.1f s (%d missing, %d overrunning their cue)",
                result.path, result.placed, result.seconds, len(missing), len(overrunning))
    return result
