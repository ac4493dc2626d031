"""Learn how Kokoro's style vector moves the GE2E speaker embedding (a linear model).

Renders voxclone's probe sentence with random styles around the stock packs (random
pack mixtures plus random offsets), embeds each rendering with the GE2E encoder, and
fits a ridge regression ``embedding - e0 ~ (style - s0) / scale @ B``. The enrollment
search uses ``B`` as its prior: from the first step it knows which style directions
move the voice toward a target speaker, instead of spending its budget exploring.

No human speech is used, so no benchmark speaker is seen in training.

    python train/style_response.py --minutes 12

Renderings are kept in the user cache, so a later run adds to them.

writes ``src/voxclone/clone/data/style_response.npz`` (about 0.3 MB), which also holds
the probe's embeddings for the stock packs, so that enrollment need not render them.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.clone.fit import PROBE_TEXT, VoiceFitter
from voxclone.engines.kokoro import cache_dir, default_engine, stock_packs
from voxclone.speaker import default_encoder

OUT = Path(__file__).resolve().parents[1] / "src" / "voxclone" / "clone" / "data"
SAMPLES = cache_dir() / "train" / "style_response_samples.npz"


def sample_style(fitter: VoiceFitter, rng: np.random.Generator) -> np.ndarray:
    """One random style (256,) for the probe: a pack mixture plus a random offset."""
    rows = fitter.pack_rows()
    weights = rng.dirichlet(np.full(len(rows), 0.4))
    base = sum(w * row for w, row in zip(weights, rows.values(), strict=True))
    radius = rng.uniform(0.0, 1.2) * np.sqrt(base.size)
    direction = rng.standard_normal(base.size)
    z = direction * (radius / np.linalg.norm(direction))
    return np.asarray(base + z * fitter.scale, dtype=np.float32)


def main() -> None:
    args = training_args(__doc__, minutes=12.0, max_samples=2000, samples=SAMPLES,
                         out=OUT / "style_response.npz")

    fitter = VoiceFitter(default_engine(), default_encoder(), stock_packs())
    pack_names = list(fitter.packs)
    pack_embeddings = np.stack([fitter.evaluate(row) for row in fitter.pack_rows().values()])
    styles, embeddings = collect(fitter, fitter.evaluate, args.samples, "embeddings",
                                 minutes=args.minutes, max_samples=args.max_samples,
                                 seed=args.seed)

    s = styles.astype(np.float64)
    e = embeddings.astype(np.float64)
    s0, e0 = s.mean(axis=0), e.mean(axis=0)
    x = (s - s0) / fitter.scale
    y = e - e0
    lam, r2 = choose_ridge(x, y)
    b = ridge(x, y, lam)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        response=b.astype(np.float32),
        style_mean=s0.astype(np.float32),
        embedding_mean=e0.astype(np.float32),
        probe_sha256=np.array(hashlib.sha256(PROBE_TEXT.encode()).hexdigest()),
        pack_names=np.array(pack_names),
        pack_embeddings=pack_embeddings.astype(np.float32),
        samples=np.array(len(x)),
        heldout_r2=np.array(r2),
    )
    print(f"{len(x)} samples; ridge {lam:g}; cross-validated R^2 {r2:.3f}; wrote {args.out}")


def training_args(doc: str | None, *, minutes: float, max_samples: int, samples: Path,
                  out: Path) -> argparse.Namespace:
    """Command-line options of a training script that renders random styles."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=minutes,
                        help="time to spend rendering")
    parser.add_argument("--max-samples", type=int, default=max_samples)
    parser.add_argument("--samples", type=Path, default=samples,
                        help="renderings are kept here and reused by later runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=out)
    return parser.parse_args()


def collect(fitter: VoiceFitter, measure: Callable[[np.ndarray], np.ndarray | None],
            path: Path, key: str, *, minutes: float, max_samples: int,
            seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random probe styles (:func:`sample_style`) and ``measure`` of each, ``(n, 256)``
    and ``(n, ...)``, added for ``minutes`` to those kept in ``path`` under ``key``
    (saved every 25, so an interrupted run loses little). ``measure`` may return None
    to drop a style."""
    styles: list[np.ndarray] = []
    measures: list[np.ndarray] = []
    if path.exists():
        with np.load(path) as old:
            styles, measures = list(old["styles"]), list(old[key])
        print(f"reusing {len(styles)} renderings from {path}")
    rng = np.random.default_rng(seed + len(styles))
    began = time.monotonic()

    def save() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"styles": np.stack(styles), key: np.stack(measures)}
        np.savez(path, **arrays)

    while time.monotonic() - began < minutes * 60 and len(styles) < max_samples:
        style = sample_style(fitter, rng)
        measured = measure(style)
        if measured is None:
            continue
        styles.append(style)
        measures.append(measured)
        if len(styles) % 25 == 0:
            print(f"{len(styles)} renderings, {time.monotonic() - began:.0f} s", flush=True)
            save()
    save()
    return np.stack(styles), np.stack(measures)


def choose_ridge(x: np.ndarray, y: np.ndarray, folds: int = 5) -> tuple[float, float]:
    """The ridge strength with the best k-fold held-out R^2, and that R^2."""
    order = np.random.default_rng(0).permutation(len(x))
    best = (0.0, -np.inf)
    for lam in (1e1, 3e1, 1e2, 3e2, 1e3, 3e3, 1e4):
        residual = total = 0.0
        for k in range(folds):
            test = order[k::folds]
            train = np.setdiff1d(order, test)
            b = ridge(x[train], y[train], lam)
            residual += float(((y[test] - x[test] @ b) ** 2).sum())
            total += float((y[test] ** 2).sum())
        r2 = 1.0 - residual / total
        if r2 > best[1]:
            best = (lam, r2)
    return best


def ridge(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Ridge regression coefficients (features x outputs)."""
    return np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ y)


if __name__ == "__main__":
    main()
