"""The ``voxclone`` command line: a thin argparse layer over :mod:`voxclone.api`.

Subcommands::

    voxclone challenge NAME                        (see voxclone.cli_consent)
    voxclone enroll NAME CLIP... --consent FILE --challenge ID [--effort E] [--force]
                   [--force-quality] [--match-prosody] [--no-tone-match]
                   [--no-pitch-match] [--[no-]rate-match] [--no-pause-match]
                   [--no-formant-match]
    voxclone check CLIP... [--json]                (see voxclone.cli_check)
    voxclone enroll NAME CLIP... --i-am-the-speaker ...
    voxclone consent show NAME / voxclone revoke NAME
    voxclone say NAME TEXT|- -o OUT|- [--format F] [--speed X] [--language L] [--stream]
                  [--check-words] [--sentence-pause S]          (see voxclone.cli_say)
    voxclone languages [--json]
    voxclone voices [--json]
    voxclone similarity A B
    voxclone demo [--out DIR] [--effort E]
    voxclone detect FILE...                        (see voxclone.cli_detect)
    voxclone batch SCRIPT -o OUTDIR [--workers N] [--ray ADDRESS]  (see voxclone.cli_batch)
    voxclone audit show|verify / owner add|list / key issue|list|revoke / serve
                                                   (see voxclone.cli_registry)

User mistakes (a :class:`~voxclone.errors.VoxcloneError` or ``ValueError`` from the
API) print ``voxclone: error: <message>`` to stderr and exit with status 2; anything
unexpected exits with 1, and an interrupt with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import voxclone
from voxclone import cli_check, cli_detect, cli_say
from voxclone.cli_batch import add_batch_command
from voxclone.cli_consent import add_consent_commands
from voxclone.cli_registry import add_registry_commands
from voxclone.cli_stdin import read_stdin_bytes, stdin_named
from voxclone.clone.fit import EFFORTS
from voxclone.clone.profile import VoiceProfile, VoiceStore, default_voices_dir
from voxclone.errors import VoiceNotFoundError, VoxcloneError
from voxclone.text.languages import LANGUAGES

logger = logging.getLogger(__name__)

#: Exit statuses.
EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

#: Cosine at or above which two clips are read as "very likely the same speaker".
VERY_LIKELY_SAME = 0.80
#: Cosine at or above which two clips are read as "probably the same speaker".
PROBABLY_SAME = 0.70

_STDIO = "-"

#: Below this similarity gain over the stock voice, the demo suggests more effort.
SMALL_GAIN = 0.02
_NEXT_EFFORT = {"stock": "fast", "fast": "balanced", "balanced": "best"}


def describe_similarity(score: float) -> str:
    """A plain-words reading of a speaker cosine similarity."""
    if score >= VERY_LIKELY_SAME:
        return "very likely the same speaker"
    if score >= PROBABLY_SAME:
        return "probably the same speaker"
    return "probably different speakers"


# --------------------------------------------------------------------------- parser


def _global_flags(*, suppress: bool) -> argparse.ArgumentParser:
    """``-q``/``-v`` as a parent parser, usable before or after the subcommand.

    Sub-parsers get ``SUPPRESS`` defaults, so a flag given before the subcommand is not
    reset by the sub-parser's default.
    """
    parent = argparse.ArgumentParser(add_help=False)
    default_q: Any = argparse.SUPPRESS if suppress else False
    default_v: Any = argparse.SUPPRESS if suppress else 0
    parent.add_argument("-q", "--quiet", action="store_true", default=default_q,
                        help="no progress or status messages, only errors")
    parent.add_argument("-v", "--verbose", action="count", default=default_v,
                        help="log progress details (-vv for debug output)")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``voxclone`` command."""
    parser = argparse.ArgumentParser(
        prog="voxclone",
        description="Offline voice cloning: enroll a voice from a few seconds of speech, "
                    "then speak any text in it.",
        parents=[_global_flags(suppress=False)],
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {voxclone.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    flags = _global_flags(suppress=True)

    voices_dir = argparse.ArgumentParser(add_help=False)
    voices_dir.add_argument("--voices-dir", metavar="DIR",
                            help=f"where voices are stored (default: {default_voices_dir()})")

    p = sub.add_parser("enroll", parents=[flags, voices_dir],
                       help="clone a voice from one or more recordings",
                       description="Clone a voice from recordings of one speaker "
                                   "(WAV, FLAC, OGG or MP3; '-' reads standard input).")
    p.add_argument("name", metavar="NAME", help="name to store the voice under")
    p.add_argument("clips", metavar="CLIP", nargs="+", help="reference recording(s)")
    p.add_argument("--effort", choices=EFFORTS, default="balanced",
                   help="stock: instant; fast: a few s; balanced: under 1 min (default); "
                        "best: under 5 min")
    p.add_argument("--force", action="store_true", help="replace a voice of the same name")
    p.add_argument("--force-quality", action="store_true",
                   help="enroll even if the quality check refuses the clips (logged)")
    p.add_argument("--match-prosody", action="store_true",
                   help="move the voice's own pitch toward the speaker's in the style "
                        "(experimental: less intelligible; a few seconds more)")
    p.add_argument("--no-tone-match", action="store_true",
                   help="do not give the clone its speaker's overall tone (equaliser)")
    p.add_argument("--no-pitch-match", action="store_true",
                   help="keep the engine's pitch level and range instead of matching "
                        "the speaker's")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--rate-match", dest="rate_match", action="store_true", default=None,
                      help="match the speaker's speaking rate at every effort (by default "
                           "at balanced and best; at fast it adds ~0.5 s)")
    rate.add_argument("--no-rate-match", dest="rate_match", action="store_false",
                      help="keep the engine's speaking rate instead of the speaker's")
    p.add_argument("--no-formant-match", action="store_true",
                   help="keep the engine's formants (vocal-tract length) instead of "
                        "moving them toward the speaker's")
    p.add_argument("--no-pause-match", action="store_true",
                   help="pause as LibriSpeech readers do (0.51 s) between sentences, not as "
                        "the speaker does")
    p.add_argument("--consent", metavar="FILE",
                   help="the speaker reading the challenge from `voxclone challenge NAME`")
    p.add_argument("--challenge", metavar="ID", help="the id of that challenge")
    p.add_argument("--i-am-the-speaker", action="store_true",
                   help="enroll without a consent recording because the clips are your own "
                        "voice (logged, and recorded in the consent record)")
    p.set_defaults(handler=cmd_enroll)

    cli_say.add_parser(sub, flags, voices_dir)

    p = sub.add_parser("languages", parents=[flags], help="list the languages voices speak")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=cmd_languages)

    p = sub.add_parser("voices", parents=[flags, voices_dir], help="list the stored voices")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=cmd_voices)

    p = sub.add_parser("similarity", parents=[flags, voices_dir],
                       help="how likely two recordings or voices are the same speaker",
                       description="Compare two speakers; A and B are each an audio file "
                                   "or the name of a stored voice.")
    p.add_argument("a", metavar="A", help="audio file or voice name")
    p.add_argument("b", metavar="B", help="audio file or voice name")
    p.set_defaults(handler=cmd_similarity)

    cli_detect.add_parser(sub, flags)
    add_registry_commands(sub, flags)
    cli_check.add_parser(sub, flags)

    p = sub.add_parser("demo", parents=[flags],
                       help="clone a built-in voice end to end (needs voxclone[demo])",
                       description="Record a reference with Piper's 'joe' voice, clone it, "
                                   "and show how close the clone comes.")
    p.add_argument("--out", default="voxclone-demo", metavar="DIR",
                   help="where to write the demo's audio and voice (default: ./voxclone-demo)")
    p.add_argument("--effort", choices=EFFORTS, default="fast", help="default: fast")
    p.set_defaults(handler=cmd_demo)
    add_consent_commands(sub, flags, voices_dir)
    add_batch_command(sub, flags, voices_dir)
    return parser


# --------------------------------------------------------------------------- commands


def _status(args: argparse.Namespace, message: str, *, stream: TextIO | None = None) -> None:
    """Print a status message unless ``--quiet``; to stdout unless ``stream`` is given."""
    if not args.quiet:
        print(message, file=stream or sys.stdout)


def cmd_enroll(args: argparse.Namespace) -> int:
    """``voxclone enroll``: clone a voice and store it."""
    if args.clips.count(_STDIO) > 1:
        raise VoxcloneError("standard input ('-') can be given only once as a CLIP")
    if args.consent == _STDIO and _STDIO in args.clips:
        raise VoxcloneError("standard input ('-') can be either a CLIP or the --consent "
                            "recording, not both")
    clips: list[str | bytes] = [read_stdin_bytes() if c == _STDIO else c for c in args.clips]
    consent = read_stdin_bytes() if args.consent == _STDIO else args.consent
    with stdin_named():
        profile = voxclone.enroll(
            args.name, clips, consent=consent, challenge=args.challenge,
            i_am_the_speaker=args.i_am_the_speaker, effort=args.effort,
            voices_dir=args.voices_dir, overwrite=args.force, progress=not args.quiet,
            force=args.force_quality, match_prosody=args.match_prosody,
            match_tone=not args.no_tone_match, match_pitch=not args.no_pitch_match,
            match_rate=args.rate_match, match_pauses=not args.no_pause_match,
            match_formants=not args.no_formant_match,
        )
    path = VoiceStore(args.voices_dir).path(profile.name)
    count = len(profile.sources)
    consent_note = ("WAIVED (--i-am-the-speaker)" if args.i_am_the_speaker else
                    f"verified (see `voxclone consent show {profile.name}`)")
    _status(args, f"enrolled voice {profile.name!r}\n"
                  f"  speech:     {profile.speech_seconds:.1f} s from {count} "
                  f"clip{'s' if count != 1 else ''}\n"
                  f"  similarity: {profile.score:.3f} ({describe_similarity(profile.score)})\n"
                  f"  effort:     {profile.effort}\n"
                  f"  consent:    {consent_note}\n"
                  f"  stored in:  {path}"
                  + (f"\n  warnings:   {len(profile.warnings)} (above; kept with the voice, "
                     "see `voxclone voices --json`)" if profile.warnings else ""))
    return EXIT_OK


def cmd_languages(args: argparse.Namespace) -> int:
    """``voxclone languages``: the codes ``say --language`` accepts."""
    rows = [{"code": lang.code, "name": lang.name} for lang in LANGUAGES.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print("\n".join(f"{row['code']:<7} {row['name']}" for row in rows))
    return EXIT_OK


def _voice_row(profile: VoiceProfile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "effort": profile.effort,
        "speech_seconds": round(profile.speech_seconds, 2),
        "similarity": round(float(profile.score), 4),
        "created": profile.created,
        "engine": profile.engine,
        "warnings": list(profile.warnings),
    }


def cmd_voices(args: argparse.Namespace) -> int:
    """``voxclone voices``: list the stored voices as a table or JSON."""
    rows = [_voice_row(p) for p in voxclone.list_voices(voices_dir=args.voices_dir)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        where = args.voices_dir or default_voices_dir()
        _status(args, f"no voices in {where}; create one with `voxclone enroll NAME CLIP`",
                stream=sys.stderr)
        return EXIT_OK
    table = [("NAME", "EFFORT", "SPEECH", "SIMILARITY", "CREATED")] + [
        (r["name"], r["effort"], f"{r['speech_seconds']:.1f} s", f"{r['similarity']:.3f}",
         r["created"][:16].replace("T", " "))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _speaker(arg: str, voices_dir: str | None) -> str | VoiceProfile:
    """An existing file (or '-') as a clip path, otherwise a stored voice."""
    if arg == _STDIO or os.path.exists(arg):
        return arg
    try:
        return voxclone.load_voice(arg, voices_dir=voices_dir)
    except (VoiceNotFoundError, ValueError) as exc:
        raise VoxcloneError(
            f"{arg!r} is neither an existing audio file nor a stored voice; "
            "check the path, or list the voices with `voxclone voices`"
        ) from exc


def cmd_similarity(args: argparse.Namespace) -> int:
    """``voxclone similarity``: cosine similarity of two speakers, with a reading."""
    if args.a == _STDIO and args.b == _STDIO:
        raise VoxcloneError("standard input ('-') can be only one of A and B")
    score = voxclone.similarity(_speaker(args.a, args.voices_dir),
                                _speaker(args.b, args.voices_dir))
    print(f"{score:.3f}  {describe_similarity(score)}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """``voxclone demo``: clone Piper's joe voice end to end and report the result."""
    from voxclone.demo import run_demo

    def step(message: str) -> None:
        _status(args, message, stream=sys.stderr)

    result = run_demo(args.out, effort=args.effort, progress=not args.quiet, log=step)
    gain = result.clone_similarity - result.stock_similarity
    rows = [
        (f"clone ({result.effort})", result.clone_similarity),
        ("nearest stock voice", result.stock_similarity),
    ]
    lines = [
        f"reference (the person): {result.reference_path} ({result.reference_seconds:.1f} s)",
        f"consent (verified):     {result.consent_path} "
        f"(voxclone consent show {result.voice_name} --voices-dir {result.voice_path.parent})",
        f"clone:                  {result.clone_path}",
        f"nearest stock voice:    {result.stock_path}",
        f"similarity to a held-out recording of the person ({result.held_out_path}):",
        *(f"  {label + ':':<22}{score:.3f}  {describe_similarity(score)}"
          for label, score in rows),
        f"  {'gain from cloning:':<21}{gain:+.3f}",
        f"  (the person vs. themself, other sentences: {result.ceiling_similarity:.3f})",
        *([f"  (little gain at effort {result.effort} on this machine; try --effort "
           f"{_NEXT_EFFORT[result.effort]})"]
          if gain < SMALL_GAIN and result.effort in _NEXT_EFFORT else []),
        _watermark_line(result.clone_path),
        f"voice stored in {result.voice_path}",
        f"try: voxclone say {result.voice_name} \"Hello there.\" -o hello.wav "
        f"--voices-dir {result.voice_path.parent}",
    ]
    print("\n".join(lines))
    return EXIT_OK


# --------------------------------------------------------------------------- entry point


def _watermark_line(path: os.PathLike[str] | str) -> str:
    found = voxclone.detect(str(path))
    if not found.found or found.payload is None:
        return f"watermark: NOT found in {path}"
    return (f"watermark: found in {path} (synthesis {found.payload:08x}; "
            f"check any file with `voxclone detect FILE`)")


def _setup_logging(quiet: bool, verbose: int) -> None:
    level = logging.ERROR if quiet else (
        logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="voxclone: %(levelname)s: %(name)s: %(message)s")
    logging.getLogger("voxclone").setLevel(level)
    # alembic logs every plugin and migration step at INFO: only for -vv
    logging.getLogger("alembic").setLevel(level if verbose >= 2 else max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``voxclone`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    _setup_logging(args.quiet, args.verbose)
    try:
        result: int = args.handler(args)
        return result
    except (VoxcloneError, ValueError) as exc:
        logger.debug("user error", exc_info=True)
        print(f"voxclone: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("voxclone: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `voxclone say ... -o - | head -c 100`
        with contextlib.suppress(OSError, ValueError):  # silence the flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_UNEXPECTED
    except Exception as exc:
        logger.debug("unexpected error", exc_info=True)
        print(f"voxclone: unexpected error: {type(exc).__name__}: {exc} "
              "(run with -vv for a traceback)", file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
