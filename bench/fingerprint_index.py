"""What a fingerprint lookup costs per call as the store grows: the index read whole
each time (as ``detect`` did until 6 Dec) against the index kept between calls
(``voxclone.fingerprint.cached_index``).

Run from the repo root (a few minutes on 2 cores)::

    python bench/fingerprint_index.py [--hours 10,100] [--out bench/results/fingerprint_index]

* Stored: fingerprints of ``--utterances`` LibriSpeech utterances, repeated with a
  quarter of each copy's bits flipped (``fingerprint.py``'s ten hours are made the same
  way) to each of ``--hours`` of speech, in a SQLite database as synthesis stores them.
* The stored rows are stamped as made over the last 30 days; new ones now.
* Per size, medians of 5: reading the index whole (``load_index``, the baseline); the
  kept index when nothing changed (the database's sums of the rows' ids and sizes tell);
  after one new 5 s synthesis, and after 100, merged in; after a row was removed, read
  again.
* A lookup: ``detect``'s index plus the search of a 1 s clip of a stored utterance, and
  of a 1 s clip that is not stored (searched at all five speeds), each way.
* Memory: the bytes of the index's arrays, which the kept index holds.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fingerprint as fpb
import speech_data as sd

from voxclone.audio import load_audio
from voxclone.fingerprint import (
    DEFAULT_CONFIG,
    Fingerprint,
    FingerprintIndex,
    cached_index,
    fingerprint,
    load_index,
    search_clip,
)
from voxclone.fingerprint.store import fingerprint_row
from voxclone.registry.database import open_database
from voxclone.registry.schema import fingerprints

RATE = DEFAULT_CONFIG.rate
#: The stored syntheses are stamped as made over this many days, as a store's are.
STORED_OVER_DAYS = 30.0


def median_s(action: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def held_bytes(index: FingerprintIndex) -> int:
    return sum(getattr(index, name).nbytes
               for name in ("ids", "starts", "words", "active", "_order", "_bucket"))


def store(url: str, items: list[tuple[int, Fingerprint]], *, over_days: float = 0.0) -> None:
    """``items`` stored as synthesis stores them, 2000 rows an insert; stamped as made
    evenly over the last ``over_days`` (0: now)."""
    rows = [fingerprint_row(sid, fp) for sid, fp in items]
    if over_days:
        start = datetime.now(timezone.utc) - timedelta(days=over_days)
        step = timedelta(days=over_days) / max(1, len(rows))
        for number, row in enumerate(rows):
            row["created_at"] = (start + number * step).isoformat()
    with open_database(url).begin() as connection:
        for first in range(0, len(rows), 2000):
            connection.execute(insert(fingerprints), rows[first:first + 2000])


def one_size(hours: float, stored: list[tuple[int, Fingerprint]], probe: np.ndarray,
             stranger: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """The figures of one store of ``hours`` of speech."""
    big = fpb.repeated(stored, hours, rng)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/fp.db"
        store(url, big, over_days=STORED_OVER_DAYS)
        engine = open_database(url)
        index = load_index(engine)
        out: dict[str, Any] = {"hours": index.frames * 0.016 / 3600,
                               "syntheses": len(index.ids), "index_mb": held_bytes(index) / 1e6}
        out["read_whole_s"] = median_s(lambda: load_index(engine))
        cached_index(engine)
        out["kept_unchanged_s"] = median_s(lambda: cached_index(engine))
        made = iter(range(10**7, 10**8))
        five_s = stored[0][1]

        def after(count: int) -> float:
            # each timing its own new rows, so every call merges
            times = []
            for _ in range(5):
                store(url, [(next(made), five_s) for _ in range(count)])
                began = time.perf_counter()
                cached_index(engine)
                times.append(time.perf_counter() - began)
            return statistics.median(times)

        out["kept_after_1_new_s"] = after(1)
        out["kept_after_100_new_s"] = after(100)
        gone = iter(big)

        def removed() -> None:
            with engine.begin() as connection:
                connection.execute(delete(fingerprints).where(
                    fingerprints.c.synthesis_id == next(gone)[0]))
        times = []
        for _ in range(5):
            removed()
            began = time.perf_counter()
            cached_index(engine)
            times.append(time.perf_counter() - began)
        out["kept_after_removal_s"] = statistics.median(times)
        kept = cached_index(engine)
        for name, clip in (("stored", probe), ("not_stored", stranger)):
            out[f"search_{name}_s"] = median_s(lambda c=clip: search_clip(kept, c, RATE))
            out[f"detect_{name}_before_s"] = median_s(
                lambda c=clip: search_clip(load_index(engine), c, RATE))
            out[f"detect_{name}_now_s"] = median_s(
                lambda c=clip: search_clip(cached_index(engine), c, RATE))
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default="bench/results/fingerprint_index")
    parser.add_argument("--hours", default="10,100")
    parser.add_argument("--utterances", type=int, default=120)
    args = parser.parse_args()
    started = time.perf_counter()
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    rng = np.random.default_rng(0)
    stored = []
    for number, utterance in enumerate(utterances[:args.utterances], 1):
        audio = load_audio(utterance.path).resample(RATE)
        stored.append((number, fingerprint(audio.samples, RATE)))
    probe = load_audio(utterances[0].path).resample(RATE).samples[2 * RATE:3 * RATE]
    stranger = load_audio(utterances[-1].path).resample(RATE).samples[2 * RATE:3 * RATE]
    rows = [one_size(float(h), stored, probe, stranger, rng) for h in args.hours.split(",")]
    meta = sd.run_meta(started, command="python bench/fingerprint_index.py " +
                       " ".join(sys.argv[1:]), utterances=args.utterances)
    ms = 1000.0
    lines = [
        "# Fingerprint lookups: the index read whole per call, or kept between calls", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- wall time: {meta['wall_s']:.0f} s; command: `{meta['command']}`",
        f"- stored: {args.utterances} LibriSpeech utterances repeated (a quarter of each "
        "copy's bits flipped) to each size; medians of 5; a 1 s clip looked up", "",
        "| stored | syntheses | index held | read whole (baseline) | kept, unchanged | "
        "kept, +1 new | kept, +100 new | kept, 1 removed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['hours']:.1f} h | {row['syntheses']} | {row['index_mb']:.0f} MB | "
            f"{row['read_whole_s'] * ms:.0f} ms | {row['kept_unchanged_s'] * ms:.1f} ms | "
            f"{row['kept_after_1_new_s'] * ms:.1f} ms | "
            f"{row['kept_after_100_new_s'] * ms:.1f} ms | "
            f"{row['kept_after_removal_s'] * ms:.0f} ms |")
    lines += ["", "A `detect` of a 1 s clip by fingerprint, index and search (the search "
              "alone in brackets):", "",
              "| stored | clip | before: read whole | now: kept | ratio |",
              "| --- | --- | --- | --- | --- |"]
    for row in rows:
        for name, label in (("stored", "stored"), ("not_stored", "not stored (5 speeds)")):
            before, now = row[f"detect_{name}_before_s"], row[f"detect_{name}_now_s"]
            lines.append(f"| {row['hours']:.1f} h | {label} | {before * ms:.0f} ms | "
                         f"{now * ms:.0f} ms ({row[f'search_{name}_s'] * ms:.0f}) | "
                         f"{before / now:.1f}x |")
    sd.write_results(args.out, "\n".join(lines) + "\n", {"meta": meta, "rows": rows})


if __name__ == "__main__":
    main()
