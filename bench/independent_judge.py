"""Clone identity by a second judge: an MFCC GMM-UBM speaker model the fit never saw.

Scores the clones a ``clone_quality.py --save-audio DIR`` run kept, against the same
held-out speech, with :mod:`gmm_speaker` instead of GE2E, normalised the same way (0 =
the mean of a different speaker's reference, 1 = the mean of the speaker's own
reference, both scored against the speaker's held-out speech), and sets the two
judges side by side, effort by effort, with paired gains over a baseline row.

The background model is trained on the corpus's usable speakers outside the
benchmark's 48, so no scored speaker is in it.

    python bench/clone_quality.py --speakers 48 --part 1/6 --save-audio out/audio ...
    python bench/independent_judge.py --results out/part1of6.json --audio out/audio
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio import load_audio

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gmm_speaker
import speech_data as sd  # the shared benchmark helpers next to this file
from bench_parts import read_run
from gmm_speaker import COMPONENTS, Background, features

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "independent_judge"
#: The benchmark's speakers (clone_quality.py --speakers 48), kept out of the background.
BENCHMARK_SPEAKERS = 48


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_rows(paths: Sequence[Path]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """The rows, efforts and source trees of clone_quality result files."""
    rows: list[dict[str, Any]] = []
    efforts: list[str] = []
    trees: list[str] = []
    for path in paths:
        data = read_run(path)
        rows += data["rows"]
        meta = data["meta"]
        efforts += [e for e in meta["efforts"] if e not in efforts]
        trees.append(str(meta.get("source_tree", meta.get("git_commit", "?"))))
    return [r for r in rows if "error" not in r], efforts, trees


def top_share(matrix: np.ndarray) -> float:
    """Share of rows (speaker models) whose own reference (the diagonal) outscores
    every other speaker's."""
    n = len(matrix)
    return float(np.mean([matrix[i, i] > np.delete(matrix[i], i).max() for i in range(n)]))


def ge2e_same_top(utterances: Sequence[sd.Utterance], speakers: list[str]) -> float:
    """:func:`top_share` for GE2E on the same speakers, from the d-vectors clone_quality
    cached (NaN when it has not run at this code)."""
    path = sd.embedding_cache_path(utterances)
    if not path.is_file():
        return float("nan")
    with np.load(path) as data:
        index = {str(s): i for i, s in enumerate(data["speakers"])}
        order = [index[s] for s in speakers]
        refs, helds = data["refs"][order], data["helds"][order]
    return top_share(helds @ refs.T)


def corpus_features(utterances: Sequence[sd.Utterance],
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each usable speaker's reference and held-out frames (:func:`features`), cached
    in the bench cache under a key of the files, the split and this judge's code."""
    digest = hashlib.sha256(sd.embedding_cache_path(utterances).name.encode())
    digest.update(Path(gmm_speaker.__file__).read_bytes())
    path = sd.bench_cache_dir() / f"gmm-features-{digest.hexdigest()[:20]}.npz"
    if path.is_file():
        with np.load(path) as data:
            speakers = [k[4:] for k in data.files if k.startswith("ref_")]
            return ({s: data[f"ref_{s}"] for s in speakers},
                    {s: data[f"held_{s}"] for s in speakers})
    log(f"splitting and featurising {len(utterances)} utterances ...")
    refs, helds = {}, {}
    for utterance in utterances:
        split = sd.split_utterance(utterance)
        if split is not None:
            refs[utterance.speaker] = features(split.reference)
            helds[utterance.speaker] = features(split.heldout)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{f"ref_{s}": f for s, f in refs.items()},
             **{f"held_{s}": f for s, f in helds.items()})
    return refs, helds


def paired(rows: list[dict[str, Any]], key: str, effort: str, base: str) -> list[float]:
    """Per-speaker ``key`` of ``effort`` minus ``base``, over speakers that have both."""
    by = {(r["speaker"], r["effort"]): r[key] for r in rows if key in r}
    return [by[(s, effort)] - by[(s, base)] for s, e in by if e == effort
            and (s, base) in by]


def render(meta: dict[str, Any], rows: list[dict[str, Any]], efforts: list[str],
           base: str) -> str:
    lines = [
        "# Clone identity by a second judge (MFCC GMM-UBM)", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- clones from {', '.join(meta['results'])} (src trees "
        f"{', '.join(sorted(set(meta['source_trees'])))})",
        f"- judge: {meta['components']}-component diagonal GMM-UBM on MFCC 1-19 + deltas "
        f"(per-clip mean and variance normalised), trained on {meta['ubm_speakers']} "
        f"speakers outside the benchmark's {BENCHMARK_SPEAKERS}; speaker models "
        "MAP-adapted (means, relevance 16) on each speaker's held-out speech",
        f"- normalisation over {meta['norm_speakers']} speakers: own reference "
        f"{meta['same_mean']:.3f}, other speakers' references {meta['diff_mean']:.3f} "
        f"(mean log-likelihood ratio per frame); an own reference outscored every "
        f"other speaker's for {meta['same_top']:.0%} of speakers (GE2E: "
        f"{meta['same_top_ge2e']:.0%})",
        f"- wall time {meta['wall_s']:.0f} s", "",
        f"| effort | speakers | GE2E similarity | GMM similarity | GE2E vs {base} | "
        f"GMM vs {base} | GMM closer than {base} | r (GE2E, GMM) over speakers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for effort in efforts:
        mine = [r for r in rows if r["effort"] == effort and "gmm_similarity" in r]
        if not mine:
            continue
        ge2e = [r["similarity"] for r in mine]
        gmm = [r["gmm_similarity"] for r in mine]
        r_value = float(np.corrcoef(ge2e, gmm)[0, 1]) if len(mine) > 2 else float("nan")
        gains = paired(rows, "gmm_similarity", effort, base)
        closer = f"{sum(g > 0 for g in gains)}/{len(gains)}" if effort != base else ""
        lines.append(
            f"| {effort} | {len(mine)} | {statistics.fmean(ge2e):.3f} | "
            f"{statistics.fmean(gmm):.3f} | "
            f"{sd.mean_se(paired(rows, 'similarity', effort, base)) if effort != base else ''}"
            f" | {sd.mean_se(gains) if effort != base else ''} | {closer} | {r_value:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--results", type=Path, nargs="+", required=True,
                        help="clone_quality.py .json files whose clones were kept")
    parser.add_argument("--audio", type=Path, required=True,
                        help="the folder clone_quality.py --save-audio wrote")
    parser.add_argument("--base", default="fast", help="the row gains are paired against")
    parser.add_argument("--components", type=int, default=COMPONENTS)
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows, efforts, trees = load_rows(args.results)
    if args.base not in efforts:
        raise SystemExit(f"--base {args.base} is not among the rows ({', '.join(efforts)})")

    folder = sd.corpus_dir(args.speech_dir)
    utterances = sd.read_index(folder)
    refs, helds = corpus_features(utterances)
    bench = [u.speaker for u in sd.choose_speakers(utterances, set(refs), BENCHMARK_SPEAKERS)]
    outside = [s for s in refs if s not in bench]
    log(f"background model on {len(outside)} speakers ...")
    ubm = Background.train([np.vstack([refs[s], helds[s]]) for s in outside],
                           components=args.components)
    models = {s: ubm.adapt(helds[s]) for s in bench}
    matrix = np.array([[ubm.score(models[m], refs[r]) for r in bench] for m in bench])
    n = len(bench)
    same = float(np.trace(matrix) / n)
    diff = float((matrix.sum() - np.trace(matrix)) / (n * (n - 1)))
    same_top = top_share(matrix)
    same_top_ge2e = ge2e_same_top(utterances, bench)

    for row in rows:
        path = args.audio / row["speaker"] / f"{row['effort']}.flac"
        if row["speaker"] not in models or not path.is_file():
            continue
        try:
            frames = features(load_audio(str(path)))
        except ValueError as exc:  # a clone with almost no speech: left unscored, said
            log(f"{path}: {exc}")
            continue
        score = ubm.score(models[row["speaker"]], frames)
        row["gmm_score"] = score
        row["gmm_similarity"] = (score - diff) / (same - diff)
    scored = sum("gmm_similarity" in r for r in rows)
    if not scored:
        raise SystemExit(f"no clone audio found under {args.audio} for these rows")
    meta = sd.run_meta(started, results=[str(p) for p in args.results],
                       source_trees=trees, components=args.components,
                       ubm_speakers=len(outside), norm_speakers=n, same_mean=same,
                       diff_mean=diff, same_top=same_top, same_top_ge2e=same_top_ge2e,
                       scored_rows=scored)
    sd.write_results(args.out, render(meta, rows, efforts, args.base),
                     {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
