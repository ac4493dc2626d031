"""The frame of a benchmark that enrolls each of clone_quality's speakers once, as
shipped, and reads how the voice speaks sets of sentences (``sentence_spread.py``,
``rate_response.py``): its command line, the loop over speakers, the results, and
``--render``, which rewrites a run's table from its stored rows."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import clone_quality as cq
import speech_data as sd
from bench_parts import read_run
from prosody_texts import speakers

import voxclone
from voxclone.audio import Audio

Rows = list[dict[str, Any]]
Analyse = Callable[[Rows], Rows]
Render = Callable[[dict[str, Any], Rows], str]


def voice_run_parser(doc: str | None, *, speakers: int,
                     out: str | os.PathLike[str]) -> argparse.ArgumentParser:
    """The command line (``speech_data.speaker_parser``), with ``--effort`` (as shipped;
    default ``fast``) and ``--render JSON`` (see :func:`rerender`)."""
    parser = sd.speaker_parser(doc, speakers=speakers, out=out)
    parser.add_argument("--effort", default="fast", choices=("fast", "balanced", "best"))
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="rewrite the tables of a run's .json from its rows (to --out)")
    return parser


def rerender(args: argparse.Namespace, analyse: Analyse, render: Render) -> bool:
    """With ``--render JSON``, rewrite that run's table from its rows to ``--out``
    (a table's layout may change after a run; its rows stay); False without it."""
    if not args.render:
        return False
    run = read_run(args.render)
    table = analyse(run["rows"])
    sd.write_results(args.out, render(run["meta"], table), {**run, "table": table})
    return True


def shipped_voice(split: sd.Split, effort: str) -> voxclone.VoiceProfile:
    """The speaker enrolled from the reference at ``effort``, as shipped (not saved)."""
    return voxclone.enroll("bench", split.reference, effort=effort,  # type: ignore[arg-type]
                           save=False, i_am_the_speaker=True,  # public benchmark speech
                           force=True)  # every speaker is read, gate or not


def spoken(texts: Sequence[str], voice: voxclone.VoiceProfile) -> Audio:
    """``texts`` spoken with ``voice`` as synthesis speaks them, joined as
    clone_quality joins its sentences."""
    return cq.join([voxclone.synthesize(text, voice) for text in texts])


def run_voices(args: argparse.Namespace, voice_row: Callable[[sd.Split, str], dict[str, Any]],
               progress: Callable[[dict[str, Any]], str], analyse: Analyse, render: Render,
               **fields: Any) -> int:
    """Read ``args.speakers`` of clone_quality's speakers with ``voice_row`` (a split and
    the effort give the speaker's row), telling ``progress(row)`` as each is done; then
    write the table and rows to ``args.out``, the run's header holding ``fields``."""
    started = time.perf_counter()
    rows: Rows = []
    splits = speakers(args.speakers, True, args.speech_dir)
    for index, split in enumerate(splits, 1):
        rows.append(voice_row(split, args.effort))
        print(f"[{index}/{len(splits)}] {rows[-1]['speaker']}: {progress(rows[-1])}",
              file=sys.stderr, flush=True)
    table = analyse(rows)
    meta = sd.run_meta(started, speakers=len(rows), effort=args.effort, **fields)
    sd.write_results(args.out, render(meta, table), {"meta": meta, "table": table,
                                                     "rows": rows})
    return 0
