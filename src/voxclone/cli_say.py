"""``voxclone say``: speak text in a stored voice, to a file or standard output."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

import voxclone
from voxclone.audio import SUPPORTED_OUTPUT, encode_audio, write_audio
from voxclone.audio.encoding import output_format
from voxclone.cli_stdin import stdin_text
from voxclone.errors import AudioFormatError, VoxcloneError
from voxclone.progress import share_bar
from voxclone.synthesis import render, render_stream

logger = logging.getLogger(__name__)

_STDIO = "-"
#: Output formats that are headerless PCM, so they can be streamed chunk by chunk.
STREAMABLE_FORMATS = ("pcm", "raw")
#: Formats whose files hold the same bytes, or the same container (Opus in an .ogg).
_SAME_FILE = {("raw", "pcm"), ("pcm", "raw"), ("ogg", "opus")}
#: `say` shows a progress bar for texts longer than this (characters; ~10 s of speech).
SAY_BAR_CHARS = 200


def add_parser(sub: Any, flags: argparse.ArgumentParser,
               voices_dir: argparse.ArgumentParser) -> None:
    """Register the ``say`` subcommand on ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("say", parents=[flags, voices_dir], help="speak text in a voice",
                       description="Speak TEXT in the voice NAME ('-' reads the text "
                                   "from standard input).")
    p.add_argument("name", metavar="NAME", help="a stored voice")
    p.add_argument("text", metavar="TEXT",
                   help="the text to speak, or '-' for standard input; SSML breaks are "
                        "pauses: 'Wait. <break time=\"1.5s\"/> Now!'")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file, or '-' for standard output")
    p.add_argument("--format", choices=SUPPORTED_OUTPUT,
                   help="audio format (default: from OUT's extension; wav for '-'); "
                        "pcm/raw is headerless 16-bit little-endian mono 24 kHz")
    p.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.5-2.0")
    p.add_argument("--language", metavar="L",
                   help="the text's language: es, fr, it, pt-br, hi, ja, zh, en-us, en-gb "
                        "(default: hi/ja/zh detected from the script, else en-us); "
                        "see `voxclone languages`")
    p.add_argument("--stream", action="store_true",
                   help="write each sentence to standard output as soon as it is ready "
                        "(needs pcm or raw: -o - --format pcm; a .pcm/.raw file is "
                        "written whole)")
    p.add_argument("--follow", action="store_true",
                   help="with TEXT '-': speak standard input as it arrives (another "
                        "program's output piped in), each sentence as soon as it has "
                        "ended, written to standard output as it is rendered (-o - "
                        "--format pcm); one synthesis, one mark")
    p.add_argument("--check-words", action="store_true",
                   help="listen to each English sentence (speech recognition) and render "
                        "it again if it came out garbled; about 40%% slower")
    p.add_argument("--sentence-pause", type=float, metavar="S",
                   help="seconds of silence between sentences, 0-3 (default: the voice's "
                        "own pause)")
    p.set_defaults(handler=cmd_say)


def cmd_say(args: argparse.Namespace) -> int:
    """``voxclone say``: speak text in a stored voice, to a file or standard output."""
    if args.follow and (args.text != _STDIO or args.output != _STDIO):
        raise VoxcloneError("--follow speaks standard input to standard output as it "
                            "arrives: give '-' as TEXT and -o - --format pcm")
    fmt = chosen_format(args.output, args.format, stream=args.stream or args.follow)
    to_stdout = args.output == _STDIO
    if to_stdout and sys.stdout.isatty():
        raise VoxcloneError("refusing to write audio to a terminal; redirect standard "
                            "output (e.g. `| aplay`) or give -o FILE")
    if args.follow:
        return _say_following(args, fmt)
    text = sys.stdin.read() if args.text == _STDIO else args.text
    if not to_stdout:  # before the render (and its audit entry), not after
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise VoxcloneError(f"cannot write {args.output}: the folder {folder} does not "
                                "exist; create it or give another -o path")
    if args.stream and to_stdout:
        seconds = 0.0
        out = sys.stdout.buffer
        for chunk in voxclone.synthesize_stream(text, args.name, speed=args.speed,
                                                language=args.language,
                                                voices_dir=args.voices_dir,
                                                check_words=args.check_words,
                                                sentence_pause=args.sentence_pause):
            out.write(encode_audio(chunk, fmt))
            out.flush()
            seconds += chunk.duration
    else:
        if args.stream:
            logger.info("--stream only applies to standard output; writing %s whole",
                        args.output)
        # a bar for texts that take a while (a few sentences speak in a second or two)
        with share_bar(f"speaking {args.name}",
                       enabled=not args.quiet and len(text) > SAY_BAR_CHARS) as progress:
            audio, record = render(text, args.name, speed=args.speed,
                                   language=args.language, voices_dir=args.voices_dir,
                                   check_words=args.check_words,
                                   sentence_pause=args.sentence_pause, progress=progress)
        write_audio(audio, args.output, format=fmt)
        seconds = audio.duration
        logger.info("synthesis %s (the watermark's payload)", record.hex_id)
    where = "standard output" if to_stdout else args.output
    if not args.quiet:
        print(f"wrote {seconds:.1f} s of watermarked audio to {where}", file=sys.stderr)
    return 0


def _say_following(args: argparse.Namespace, fmt: str) -> int:
    """``say NAME - --follow``: standard input spoken as it arrives, each sentence as
    soon as the text after it shows it has ended, as one synthesis (one audit entry,
    one mark); the voice is checked before any text is read."""
    record, chunks = render_stream(stdin_text(), args.name, speed=args.speed,
                                   language=args.language, voices_dir=args.voices_dir,
                                   check_words=args.check_words,
                                   sentence_pause=args.sentence_pause)
    out = sys.stdout.buffer
    seconds = 0.0
    for chunk in chunks:
        out.write(encode_audio(chunk, fmt))
        out.flush()
        seconds += chunk.duration
    logger.info("synthesis %s (the watermark's payload)", record.hex_id)
    if not args.quiet:
        print(f"wrote {seconds:.1f} s of watermarked audio to standard output",
              file=sys.stderr)
    return 0


def chosen_format(output: str, format: str | None, *, stream: bool = False) -> str:
    """The format ``say`` writes to ``output`` (``-`` for standard output): ``format``,
    else the extension's (WAV for standard output), checked before anything is spoken.

    Raises:
        VoxcloneError: ``output`` is a directory or names no format voxclone writes,
            ``format`` contradicts its extension (a ``.wav`` holding headerless PCM
            could not be played or checked), or ``stream`` asks for a format that is
            not headerless PCM.
    """
    if output == _STDIO:
        fmt = format or "wav"
    else:
        if output.endswith(("/", os.sep)) or os.path.isdir(output):
            example = os.path.join(output, "speech.wav")
            raise VoxcloneError(f"-o {output} names a directory; name a file in it, "
                                f"e.g. -o {example}")
        try:
            fmt = output_format(output)
        except AudioFormatError:
            if format is None:
                raise
            fmt = format  # an extension voxclone does not write: --format says what to
        if format is not None and format != fmt and (fmt, format) not in _SAME_FILE:
            raise VoxcloneError(f"--format {format} contradicts the extension of {output} "
                                f"({fmt}); name the file .{format}, or drop --format to "
                                f"write {fmt}")
        fmt = format or fmt
    if stream and fmt not in STREAMABLE_FORMATS:
        if output == _STDIO:
            raise VoxcloneError(f"--stream writes headerless PCM sentence by sentence, and "
                                f"standard output would get {fmt.upper()}: add --format pcm "
                                "(16-bit little-endian mono 24 kHz, e.g. `| aplay -f "
                                "S16_LE -r 24000`), or drop --stream to write it whole")
        raise VoxcloneError(f"--stream needs pcm or raw, and {output} is {fmt.upper()}; "
                            "drop --stream (a file is written whole) or name it .pcm")
    return fmt
