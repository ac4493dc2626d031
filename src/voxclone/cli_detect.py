"""``voxclone detect``: read voxclone's watermark back from audio files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import voxclone
from voxclone.audio.inputs import as_audio
from voxclone.cli_stdin import read_stdin_bytes, stdin_named
from voxclone.errors import VoxcloneError
from voxclone.provenance import SynthesisRecord
from voxclone.synthesis import MAX_DETECT_SECONDS, MIN_DETECT_SECONDS
from voxclone.watermark import Detection

_STDIO = "-"


def add_parser(sub: Any, flags: argparse.ArgumentParser) -> None:
    """Register the ``detect`` subcommand on ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("detect", parents=[flags],
                       help="find voxclone's watermark in audio files",
                       description="Check whether audio files were synthesised by this "
                                   "voxclone installation, and by which synthesis - every "
                                   "one, in a file joining several (WAV, FLAC, OGG or "
                                   "MP3; '-' reads standard input).")
    p.add_argument("files", metavar="FILE", nargs="+", help="audio file(s) to check")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.set_defaults(handler=cmd_detect)


def cmd_detect(args: argparse.Namespace) -> int:
    """Print, for each file, every watermark it carries (one line, or one JSON object,
    per file; one line per mark) and the synthesis each names.

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
                audio = as_audio(source, max_seconds=MAX_DETECT_SECONDS, name="the clip")
                marks = voxclone.detect_all(audio)
        except VoxcloneError as exc:
            print(f"voxclone: error: {exc}", file=sys.stderr)
            status = 2
            continue
        too_short = not marks and audio.duration < MIN_DETECT_SECONDS
        records = [voxclone.find_synthesis(m.payload) if m.payload is not None else None
                   for m in marks]
        if args.json:
            described = [_mark_json(m, r) for m, r in zip(marks, records, strict=True)]
            first = described[0] if described else {
                "payload": None, "false_positive_probability": 1.0, "start_s": None,
                "end_s": None, "speed": 1.0, "synthesis": None}
            print(json.dumps({"file": name, "found": bool(marks), **first,
                              "too_short": too_short, "marks": described}))
            continue
        if not marks:
            print(f"{name}: no voxclone watermark of this installation found"
                  + (f" (but the clip is under {MIN_DETECT_SECONDS:.0f} s: too short to "
                     "be sure)" if too_short else ""))
        for number, (mark, record) in enumerate(zip(marks, records, strict=True), 1):
            where = f"{mark.start_s:.2f}-{mark.end_s:.2f} s"
            speed = "" if mark.speed == 1.0 else f", played at {mark.speed:.2f}x speed"
            origin = (f"voice {record.voice!r}, {record.created}" if record is not None
                      else "no record of it in this installation's synthesis log")
            count = f"; mark {number} of {len(marks)}" if len(marks) > 1 else ""
            print(f"{name}: watermarked - synthesis {mark.payload:08x} ({origin}); "
                  f"found at {where}{speed}; false-positive probability "
                  f"{mark.false_positive_probability:.1e}{count}")
    return status


def _mark_json(mark: Detection, record: SynthesisRecord | None) -> dict[str, Any]:
    """One mark's fields in ``--json`` output."""
    return {
        "payload": f"{mark.payload:08x}" if mark.payload is not None else None,
        "false_positive_probability": mark.false_positive_probability,
        "start_s": mark.start_s, "end_s": mark.end_s, "speed": mark.speed,
        "synthesis": None if record is None else {
            "voice": record.voice, "created": record.created,
            "seconds": record.seconds, "text_sha256": record.text_sha256,
            "language": record.language},
    }
