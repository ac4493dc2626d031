"""A long benchmark run in parts: which speakers a part takes, and whether parts merge.

A run of 48 speakers at effort ``best`` takes ~4 h on this project's machine, longer
than a session; ``--part I/N`` runs one block of speakers, and the parts' json files
merge into the table one run would have written (``clone_quality_report.py --merge``,
``robustness.py --merge``) when they measured the same code with the same protocol.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speech_data import Utterance


def speaker_part(chosen: Sequence[Utterance], part: str) -> list[Utterance]:
    """Part ``"I/N"`` of ``speech_data.choose_speakers``' list: the I-th of N contiguous
    blocks of each gender's speakers, so every part keeps the half-female split. Part
    1/8 of 48 speakers is the 6 speakers of a 6-speaker run.

    Raises:
        SystemExit: ``part`` is not ``I/N`` with 1 <= I <= N, or holds no speaker.
    """
    try:
        index, parts = (int(x) for x in part.split("/"))
    except ValueError:
        raise SystemExit(f"--part must look like 2/3, not {part!r}") from None
    if not 1 <= index <= parts:
        raise SystemExit(f"--part {part}: the part must be between 1 and {parts}")
    picked: list[Utterance] = []
    for gender in ("F", "M"):
        mine = [u for u in chosen if u.gender == gender]
        picked += mine[len(mine) * (index - 1) // parts: len(mine) * index // parts]
    if not picked:
        raise SystemExit(f"--part {part} holds none of the {len(chosen)} speakers; "
                         "use fewer parts")
    return picked


def check_mergeable(runs: Sequence[dict[str, Any]], same: Sequence[str],
                    speakers_key: str, *, same_source: bool = True) -> list[str]:
    """The speakers of ``runs`` (each a run's json, with a ``meta``) in order, once
    checked that the runs can be merged: every ``meta[key]`` for ``key`` in ``same`` is
    equal (``source_tree`` among them: the same committed ``src/``), every part is of
    one split (the N of ``meta["part"]``, ``"I/N"``), and no speaker
    (``meta[speakers_key]``, a list) is in two runs. ``same_source=False`` lets the
    parts' committed ``src/`` differ (the caller vouches that the measured path did not
    change, and lists the trees); none may be uncommitted.

    Raises:
        SystemExit: no runs; they differ in one of ``same``; they measured uncommitted
            code; they are parts of different splits; or they share a speaker.
    """
    if not runs:
        raise SystemExit("nothing to merge")
    first = runs[0]["meta"]
    for key in ("source_tree", *same) if same_source else same:
        if any(run["meta"].get(key) != first.get(key) for run in runs):
            raise SystemExit(f"the parts differ in {key}; only runs of the same code and "
                             "protocol can be merged")
    if any(str(run["meta"].get("source_tree")).endswith("+dirty") for run in runs):
        raise SystemExit("a part measured uncommitted code in src/; commit, then run the "
                         "parts again")
    splits = {str(run["meta"].get("part")).partition("/")[2] for run in runs}
    if len(splits) > 1:
        raise SystemExit("the parts come from different splits (--part I/N with N "
                         f"{', '.join(sorted(splits))}); merge parts of one split")
    speakers = [s for run in runs for s in run["meta"][speakers_key]]
    if len(set(speakers)) != len(speakers):
        raise SystemExit("the parts share speakers; merge parts of one split (--part I/N)")
    return speakers


def merged_meta(runs: Sequence[dict[str, Any]], *joined: str) -> dict[str, Any]:
    """The first run's ``meta`` with what differs between parts put together: ``date``,
    ``machine``, ``git_commit`` and each key of ``joined`` listed once each (comma
    separated), the parts' ``part`` values, and ``wall_s`` summed."""
    metas = [run["meta"] for run in runs]

    def listed(key: str) -> str:
        return ", ".join(dict.fromkeys(str(m.get(key)) for m in metas))

    return {**metas[0], **{key: listed(key) for key in ("date", "machine", "git_commit",
                                                         *joined)},
            "part": ", ".join(str(m["part"]) for m in metas if m.get("part")) or None,
            "wall_s": sum(m["wall_s"] for m in metas)}


def read_run(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A benchmark run's .json (with its ``meta`` and ``rows``), as a part writes it.

    Raises:
        SystemExit: the file is missing, unreadable, or not such a run, named.
    """
    try:
        run = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SystemExit(f"cannot read {path} as a benchmark run: {exc}") from None
    if not isinstance(run, dict) or not {"meta", "rows"} <= run.keys():
        raise SystemExit(f"{path} is not a benchmark run's .json (no meta and rows); "
                         "pass the .json files the parts wrote")
    return run

