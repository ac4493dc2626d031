"""``voxclone detect``: read voxclone's watermark back from audio files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import voxclone
from voxclone.audio.decoding import RAW_FORMATS, RAW_SAMPLE_RATE, load_audio
from voxclone.audio.inputs import RATE_BOUNDS, as_audio
from voxclone.cli_stdin import read_stdin_bytes, stdin_named
from voxclone.detection import (
    LOW_BITRATE_KBPS,
    MAX_DETECT_SECONDS,
    MIN_DETECT_SECONDS,
    mark_json,
    not_found,
)
from voxclone.errors import VoxcloneError
from voxclone.watermark import Detection

_STDIO = "-"

#: Exit statuses, as ``grep``'s: a mark in at least one file; in none; an unreadable file.
EXIT_FOUND, EXIT_NONE_FOUND, EXIT_ERROR = 0, 1, 2

EPILOG = ("Exit status (as grep's): 0 when at least one FILE carries a watermark of this "
          "installation, 1 when none does (a clip too short to be sure, or a file coded "
          "at too low a bitrate, counts as none), "
          "2 when a FILE could not be read (the others are still checked) or the command "
          "is wrong.")


def add_parser(sub: Any, flags: argparse.ArgumentParser) -> None:
    """Register the ``detect`` subcommand on ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("detect", parents=[flags],
                       help="find voxclone's watermark in audio files",
                       description="Check whether audio files were synthesised by this "
                                   "voxclone installation, and by which synthesis - every "
                                   "one, in a file joining several (WAV, FLAC, OGG, "
                                   "MP3, or voxclone's headerless .pcm/.raw; '-' reads "
                                   "standard input).",
                       epilog=EPILOG)
    p.add_argument("files", metavar="FILE", nargs="+", help="audio file(s) to check")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.add_argument("--format", choices=RAW_FORMATS,
                   help="read every FILE (standard input too) as headerless 16-bit "
                        "little-endian mono PCM, as `say --format pcm` writes it "
                        "(default: by the extension; .pcm and .raw files are read so)")
    p.add_argument("--rate", type=_rate, default=RAW_SAMPLE_RATE, metavar="HZ",
                   help=f"sample rate of headerless PCM (default: {RAW_SAMPLE_RATE}, "
                        "voxclone's)")
    p.set_defaults(handler=cmd_detect)


def _rate(text: str) -> int:
    """``--rate``'s value: a whole number of Hz a recording can have."""
    low, high = RATE_BOUNDS
    try:
        rate = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of Hz") from None
    if not low <= rate <= high:
        raise argparse.ArgumentTypeError(f"{rate} Hz is not a recording's rate "
                                         f"({low}-{high})")
    return rate


def cmd_detect(args: argparse.Namespace) -> int:
    """Print, for each file, every watermark it carries (one line, or one JSON object,
    per file; one line per mark) and the synthesis each names.

    Returns :data:`EXIT_FOUND` when a file carries a mark, else :data:`EXIT_NONE_FOUND`;
    an unreadable file is reported on stderr and the others are still checked, and the
    status is then :data:`EXIT_ERROR` (as ``grep``'s).
    """
    if args.files.count(_STDIO) > 1:
        raise VoxcloneError("standard input ('-') can be given only once")
    found = error = False
    for name in args.files:
        source: str | bytes = read_stdin_bytes() if name == _STDIO else name
        try:
            with stdin_named():
                decoded = load_audio(source, max_seconds=MAX_DETECT_SECONDS,
                                     format=args.format, raw_rate=args.rate)
                audio = as_audio(decoded, max_seconds=MAX_DETECT_SECONDS, name="the clip")
                marks = voxclone.detect_all(audio)
        except VoxcloneError as exc:
            print(f"voxclone: error: {exc}", file=sys.stderr)
            error = True
            continue
        found = found or bool(marks)
        # (headerless PCM has no coding to read)
        nothing = Detection(found=False) if marks else \
            not_found(None if args.format else source, audio.duration)
        records = [voxclone.find_synthesis(m.payload) if m.payload is not None else None
                   for m in marks]
        if args.json:
            described = [mark_json(m, r) for m, r in zip(marks, records, strict=True)]
            first = described[0] if described else mark_json(nothing, None)
            print(json.dumps({"file": name, "found": bool(marks), **first,
                              "too_short": nothing.too_short,
                              "low_bitrate": nothing.low_bitrate, "marks": described}))
            continue
        if not marks:
            print(f"{name}: no voxclone watermark of this installation found"
                  + (f" (but the clip is under {MIN_DETECT_SECONDS:.0f} s: too short to "
                     "be sure)" if nothing.too_short else "")
                  + (f" (but the file is {nothing.low_bitrate}: under "
                     f"{LOW_BITRATE_KBPS:.0f} kbit/s the mark is often lost, from short "
                     "clips most, so this does not show that the speech is not "
                     "voxclone's)" if nothing.low_bitrate else ""))
        for number, (mark, record) in enumerate(zip(marks, records, strict=True), 1):
            where = f"{mark.start_s:.2f}-{mark.end_s:.2f} s"
            speed = "" if mark.speed == 1.0 else f", played at {mark.speed:.2f}x speed"
            origin = (f"voice {record.voice!r}, {record.created}" if record is not None
                      else "no record of it in this installation's synthesis log")
            count = f"; mark {number} of {len(marks)}" if len(marks) > 1 else ""
            how = "watermarked" if mark.matched_by == "watermark" else \
                "no readable watermark, but it matches the fingerprint of"
            print(f"{name}: {how} - synthesis {mark.payload:08x} ({origin}); "
                  f"found at {where}{speed}; false-positive probability "
                  f"{mark.false_positive_probability:.1e}{count}")
    return EXIT_ERROR if error else EXIT_FOUND if found else EXIT_NONE_FOUND
