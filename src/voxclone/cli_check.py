"""``voxclone check``: is a recording good enough to clone from, and what to fix."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from voxclone.cli_stdin import read_stdin_bytes, stdin_named
from voxclone.errors import VoxcloneError
from voxclone.quality import QualityReport, check
from voxclone.quality.report import ClipVerdict

_STDIO = "-"
#: Exit status when anything (a clip, or the set) is refused.
EXIT_REFUSED = 1


def add_parser(sub: Any, flags: argparse.ArgumentParser) -> None:
    """Register the ``check`` subcommand on ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("check", parents=[flags],
                       help="check reference recordings before cloning from them",
                       description="Measure reference recordings (speech, noise, clipping, "
                                   "phone-line sound, a room's echo, a second speaker, clips "
                                   "of different people) and say, per clip, good / usable "
                                   "with warnings / refused, with what to fix. Exit status 1 "
                                   "when something is refused.")
    p.add_argument("clips", metavar="CLIP", nargs="+",
                   help="recording(s) of one speaker; '-' reads standard input")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_check)


def _measures(c: ClipVerdict) -> str:
    if c.snr_db is None:
        return f"{c.total_seconds:.1f} s, no speech"
    # rounded down, as the refusal "only 2.9 s of speech (at least 3 s...)" is
    parts = [f"{math.floor(c.speech_seconds * 10) / 10:.1f} s of speech in "
             f"{c.total_seconds:.1f} s "
             f"({c.speech_ratio:.0%})", f"SNR {c.snr_db:.0f} dB",
             f"loudness {c.loudness_lufs:.0f} LUFS",
             f"up to {(c.bandwidth_hz or 0) / 1000:.1f} kHz",
             f"clipped {c.clipped_fraction or 0:.2%}"]
    if c.reverb_s is not None:
        parts.append("echo: very strong" if math.isinf(c.reverb_s)
                     else f"echo {c.reverb_s:.2f} s")
    if c.two_speaker_score is not None and c.two_speaker_threshold is not None:
        parts.append(f"two-voice score {c.two_speaker_score:+.1f} "
                     f"(two voices above {c.two_speaker_threshold:.1f})")
    if c.cosine_to_others is not None:
        parts.append(f"like the other clips {c.cosine_to_others:.2f}")
    if c.denoised:
        parts.append("denoised for enrollment")
    if c.dereverberated:
        parts.append("echo taken out for enrollment")
    return ", ".join(parts)


def describe(report: QualityReport) -> str:
    """The report as plain text: one block per clip, then the set, then the verdict."""
    lines = []
    for c in report.clips:
        state = c.verdict.upper() + (" (left out)" if c.excluded else "")
        lines.append(f"{c.name}: {state}")
        lines.append(f"  {_measures(c)}")
        lines += [f"  - {p.message}\n    -> {p.advice}" for p in c.problems]
    for p in report.problems:
        lines.append(f"all clips: {p.message}\n    -> {p.advice}")
    lines.append(f"verdict: {report.verdict} ({report.speech_seconds:.1f} s of usable speech)")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    """Print the quality report; exit 1 when a clip or the set is refused."""
    if args.clips.count(_STDIO) > 1:
        raise VoxcloneError("standard input ('-') can be given only once")
    sources: list[str | bytes] = [read_stdin_bytes() if c == _STDIO else c
                                  for c in args.clips]
    with stdin_named():
        report = check(sources)
    print(json.dumps(report.as_dict(), indent=2) if args.json else describe(report))
    return EXIT_REFUSED if report.any_refused else 0
