"""Learn how Kokoro's style vector moves pitch and tempo (a linear model).

Renders voxclone's probe sentence with random styles around the stock packs (the
same sampling as ``train/style_response.py``), measures each rendering with
:func:`voxclone.audio.prosody.prosody_stats`, and fits a ridge regression from the
offset of the prosody dimensions (128-255, in pack-spread units; the rest of the
style varies too, as noise) to three log measures: F0 median, width of the
5-95 % F0 range in semitones, and syllable rate. Enrollment uses it to step a
clone's pitch toward the speaker's.

No human speech is used, so no benchmark speaker is seen in training.

    nice -n 10 python train/prosody_response.py --minutes 6

writes ``src/voxclone/clone/data/prosody_response.npz`` (a few kB).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from voxclone.audio import Audio
from voxclone.audio.prosody import prosody_stats
from voxclone.clone.fit import PROBE_TEXT, VoiceFitter
from voxclone.clone.prosody_match import OUTPUTS, PROSODY_DIMS
from voxclone.engines.kokoro import cache_dir, default_engine, stock_packs
from voxclone.errors import NoSpeechError
from voxclone.speaker import default_encoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from style_response import choose_ridge, collect, ridge, training_args  # the sibling script

OUT = Path(__file__).resolve().parents[1] / "src" / "voxclone" / "clone" / "data"
SAMPLES = cache_dir() / "train" / "prosody_response_samples.npz"


def measure(fitter: VoiceFitter, style: np.ndarray) -> np.ndarray | None:
    """``OUTPUTS`` of the probe rendered with ``style``, or None if it has no pitch."""
    wav = fitter.engine.render(fitter.probe_ids, style)
    try:
        stats = prosody_stats(Audio(wav, fitter.engine.sample_rate))
    except NoSpeechError:
        return None
    if stats.syllable_rate <= 0 or stats.f0_p95 <= stats.f0_p5:
        return None
    return np.log([stats.f0_median, stats.f0_range_semitones, stats.syllable_rate])


def main() -> None:
    args = training_args(__doc__, minutes=6.0, max_samples=1000, samples=SAMPLES,
                         out=OUT / "prosody_response.npz")

    fitter = VoiceFitter(default_engine(), default_encoder(), stock_packs())
    styles, measured = collect(fitter, lambda style: measure(fitter, style), args.samples,
                               "measures", minutes=args.minutes,
                               max_samples=args.max_samples, seed=args.seed + 1000)

    s = styles.astype(np.float64)
    y_all = measured.astype(np.float64)
    s0, y0 = s.mean(axis=0), y_all.mean(axis=0)
    x = ((s - s0) / fitter.scale)[:, PROSODY_DIMS]
    y = y_all - y0
    response = np.zeros((x.shape[1], len(OUTPUTS)))
    r2 = np.zeros(len(OUTPUTS))
    for k in range(len(OUTPUTS)):
        lam, r2[k] = choose_ridge(x, y[:, k : k + 1])
        response[:, k] = ridge(x, y[:, k : k + 1], lam)[:, 0]
        print(f"{OUTPUTS[k]}: ridge {lam:g}, cross-validated R^2 {r2[k]:.3f}, "
              f"spread {y[:, k].std():.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        response=response.astype(np.float32),
        outputs=np.array(OUTPUTS),
        probe_sha256=np.array(hashlib.sha256(PROBE_TEXT.encode()).hexdigest()),
        samples=np.array(len(x)),
        heldout_r2=r2.astype(np.float32),
    )
    print(f"{len(x)} samples; wrote {args.out}")


if __name__ == "__main__":
    main()
