"""``voxclone detect``: read voxclone's watermark back from audio files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import voxclone
from voxclone.cli_stdin import read_stdin_bytes, stdin_named
from voxclone.errors import VoxcloneError
from voxclone.synthesis import MIN_DETECT_SECONDS

_STDIO = "-"


def add_parser(sub: Any, flags: argparse.ArgumentParser) -> None:
    """Register the ``detect`` subcommand on ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("detect", parents=[flags],
                       help="find voxclone's watermark in audio files",
                       description="Check whether audio files were synthesised by this "
                                   "voxclone installation, and by which synthesis "
                                   "(WAV, FLAC, OGG or MP3; '-' reads standard input).")
    p.add_argument("files", metavar="FILE", nargs="+", help="audio file(s) to check")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.set_defaults(handler=cmd_detect)


def cmd_detect(args: argparse.Namespace) -> int:
    """Print, for each file, whether it carries the watermark and what it points to.

    An unreadable file is reported on stderr and the others are still checked; the
    exit status is then 2.
    """
    if args.files.count(_STDIO) > 1:
        raise VoxcloneError("standard input ('-') can be given only once")
    status = 0
    for name in args.files:
        source: str | bytes = read_stdin_bytes() if name == _STDIO else name
        try:
            with stdin_named():
                result = voxclone.detect(source)
        except VoxcloneError as exc:
            print(f"voxclone: error: {exc}", file=sys.stderr)
            status = 2
            continue
        record = (voxclone.find_synthesis(result.payload)
                  if result.found and result.payload is not None else None)
        if args.json:
            print(json.dumps({
                "file": name, "found": result.found,
                "payload": f"{result.payload:08x}" if result.payload is not None else None,
                "false_positive_probability": result.false_positive_probability,
                "start_s": result.start_s, "end_s": result.end_s, "speed": result.speed,
                "too_short": result.too_short,
                "synthesis": None if record is None else {
                    "voice": record.voice, "created": record.created,
                    "seconds": record.seconds, "text_sha256": record.text_sha256,
                    "language": record.language},
            }))
            continue
        if not result.found or result.payload is None:
            print(f"{name}: no voxclone watermark of this installation found"
                  + (f" (but the clip is under {MIN_DETECT_SECONDS:.0f} s: too short to "
                     "be sure)" if result.too_short else ""))
            continue
        where = f"{result.start_s:.2f}-{result.end_s:.2f} s"
        speed = "" if result.speed == 1.0 else f", played at {result.speed:.2f}x speed"
        origin = (f"voice {record.voice!r}, {record.created}" if record is not None
                  else "no record of it in this installation's synthesis log")
        print(f"{name}: watermarked - synthesis {result.payload:08x} ({origin}); "
              f"found at {where}{speed}; false-positive probability "
              f"{result.false_positive_probability:.1e}")
    return status
