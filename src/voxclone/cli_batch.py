"""``voxclone batch``: render a whole script (CSV, JSONL or SRT), one file per line.

::

    voxclone batch SCRIPT -o OUTDIR [--format wav|flac|mp3|ogg] [--workers N]
                   [--ray ADDRESS|auto|local] [--voice NAME] [--script-format F]
                   [--voices-dir DIR]

SCRIPT ``-`` reads the script from standard input; ``--script-format`` is then required.

Exit status 0 when every line was rendered, 2 when some failed (they are listed, and in
the manifest with the reason) or the script is malformed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from voxclone.batch import BATCH_FORMATS, SCRIPT_FORMATS, BatchReport, render_script
from voxclone.errors import VoxcloneError

EXIT_OK, EXIT_LINES_FAILED = 0, 2
#: Failed lines listed on stderr; the manifest has them all.
SHOWN_FAILURES = 20


def add_batch_command(sub: Any, flags: argparse.ArgumentParser,
                      voices_dir: argparse.ArgumentParser) -> None:
    """Register the ``batch`` subcommand on ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "batch", parents=[flags, voices_dir], help="render a whole script, one file per line",
        description="Speak every line of SCRIPT (CSV or JSONL with voice, text and optional "
                    "id, speed, language and seconds; or SRT) into OUTDIR: one watermarked audio "
                    "file per line and manifest.jsonl. Running it again resumes: finished "
                    "lines are skipped, missing or damaged ones rendered again.")
    p.add_argument("script", metavar="SCRIPT",
                   help="a .csv, .jsonl or .srt file, or '-' for standard input (with "
                        "--script-format)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                   help="output directory (created if needed)")
    p.add_argument("--format", choices=BATCH_FORMATS, default="wav",
                   help="audio format of the files (default: wav)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes (default: one per core; 1 renders in this "
                        "process), or Ray actors with --ray")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="render on Ray: a cluster address, 'auto' (the cluster this machine "
                        "is in) or 'local' (a private instance here); needs "
                        "pip install 'voxclone[batch-ray]'")
    p.add_argument("--voice", metavar="NAME",
                   help="voice of SRT cues that do not start with 'NAME: '")
    p.add_argument("--fit-cues", action="store_true",
                   help="fit each SRT cue's speech into its timing (a dub): a line that "
                        "speaks longer is rendered faster, up to speed 2.0 (as a CSV/JSONL "
                        "line with 'seconds' always is)")
    p.add_argument("--track", metavar="FILE",
                   help="also write the lines of an SRT script into FILE, each at its "
                        "cue's start time: a dub track (wav, flac, mp3, ogg or opus)")
    p.add_argument("--script-format", choices=tuple(SCRIPT_FORMATS),
                   help="script format (default: from SCRIPT's extension; required "
                        "for '-')")
    p.set_defaults(handler=cmd_batch)


def cmd_batch(args: argparse.Namespace) -> int:
    """Run the job, print a summary, list the failed lines on stderr."""
    if args.output == "-":  # ('-' is standard output elsewhere: not a folder named '-')
        raise VoxcloneError("batch writes one file per line and manifest.jsonl into a "
                            "directory, which standard output ('-') cannot be; give a "
                            "directory with -o")
    report = render_script(args.script, args.output, format=args.format,
                           workers=args.workers, ray=args.ray, voices_dir=args.voices_dir,
                           default_voice=args.voice, script_format=args.script_format,
                           progress=not args.quiet, fit_cues=args.fit_cues,
                           track=args.track)
    if not args.quiet:
        print(summary(report))
    if report.track is not None and report.track.overrunning:
        print(f"voxclone: in the track, {len(report.track.overrunning)} lines run into the "
              f"next cue (mixed there): ids {', '.join(report.track.overrunning[:10])}",
              file=sys.stderr)
    overrun = [e for e in report.entries if e.warning]
    for entry in overrun[:SHOWN_FAILURES]:
        print(f"voxclone: line {entry.line} (id {entry.id}) {entry.warning}", file=sys.stderr)
    for entry in report.failed[:SHOWN_FAILURES]:
        print(f"voxclone: line {entry.line} (id {entry.id}) failed: {entry.error}",
              file=sys.stderr)
    if len(report.failed) > SHOWN_FAILURES:
        print(f"voxclone: ... and {len(report.failed) - SHOWN_FAILURES} more failed lines "
              f"(see {report.manifest})", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_LINES_FAILED


def summary(report: BatchReport) -> str:
    """A few lines saying what the job did."""
    total = len(report.entries)
    rate = 60.0 * report.rendered / report.seconds if report.seconds > 0 else 0.0
    return "\n".join([
        f"{total} lines: {report.rendered} rendered, {report.skipped} already done, "
        f"{len(report.failed)} failed",
        f"  {report.seconds:.1f} s ({rate:.1f} lines/min) on {report.executor}; "
        f"{report.audio_seconds:.1f} s of audio",
        f"  manifest: {report.manifest}",
        *([f"  track: {report.track.path} ({report.track.placed} lines, "
           f"{report.track.seconds:.1f} s" + (f"; {len(report.track.missing)} failed lines "
                                              "left silent" if report.track.missing else "")
           + ")"] if report.track is not None else []),
    ])
