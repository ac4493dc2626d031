"""Learn ``fast``'s drift: the step a short gradient ascent takes from the style map for
real speakers, on average.

The style map (``train/style_map.py``) is learned on Kokoro's own renderings, where the
d-vectors sit apart from real speakers'. ``balanced`` closes part of that gap by
gradient ascent (:mod:`voxclone.clone.gradient_fit`); ``fast`` has no time for it. But
part of each speaker's ascent is the same for every real voice: this script measures
it and ships it, so ``fast`` starts where the ascent would begin to go (and
``balanced`` ascends from there, :data:`voxclone.clone.fit.DRIFT_EFFORTS`).

For each calibration speaker (the LibriSpeech utterances under 12 s that
``train/style_map.py`` calibrates on, none of them a benchmark speaker) it takes the
map's style as ``fast`` would (no drift), ascends ``--steps`` steps from it, and keeps
the move. The mean move over the speakers is the drift. Its gain is chosen by halves:
each speaker's ``fast`` style plus ``gain`` times the mean move of the *other* half of
the speakers, scored by the GE2E cosine to the speaker of a sentence the ascent never
heard, at the speaker's pitch (as the pitch match will speak it).

    nice -n 10 python train/style_drift.py   # ~25 min on two cores

Adds ``fast_drift`` (and its gain) to ``src/voxclone/clone/data/style_map.npz``; run it
again after ``train/style_map.py``, which writes that file anew.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

from voxclone.clone import gradient_fit
from voxclone.clone.fit import PROBE_TEXT, VoiceFitter
from voxclone.clone.style_map import load_style_map
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.speaker import default_encoder
from voxclone.speaker.encoder import GE2EEncoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from style_map import OUT, Speaker, real_speakers  # the sibling script

#: Scored by the halves: a sentence the ascent never renders.
HELD_OUT_TEXT = "She sells fresh vegetables at the market every Saturday morning."
GAINS = (1.0, 2.0, 3.0)


def moves(fitter: VoiceFitter, speakers: list[Speaker],
          steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each speaker's ``fast`` style (probe row, ``(n, 256)``), the ascent's move from it
    (``(n, 256)``), and whether the map gave ``fast`` its start (``(n,)`` bool: where
    the nearest pack did, there is no move and the speaker takes no part)."""
    style_map = load_style_map(PROBE_TEXT)
    if style_map is None:
        raise SystemExit("no style map to drift from: run train/style_map.py first")
    n = len(fitter.probe_ids)
    starts, moved, from_map = [], [], []
    if not isinstance(fitter.encoder, GE2EEncoder):
        raise SystemExit("the ascent needs the GE2E encoder")
    # fast's own start, as enrollment makes it, but from the plain map: a drift shipped
    # by an earlier run must not move the start it is measured from.
    with mock.patch("voxclone.clone.fit.load_style_map",
                    return_value=style_map.without_drift()):
        for number, speaker in enumerate(speakers, 1):
            began = time.monotonic()
            fast = fitter.fit(speaker.embedding, "fast", prosody=speaker.prosody)
            start = fast.conditioning.style(fitter.packs, n)
            mapped = np.allclose(start, style_map.predict(speaker.embedding, speaker.prosody),
                                 atol=1e-5)
            step = np.zeros(256)
            if mapped:
                result = gradient_fit.ascend(
                    fast.conditioning, fast.score, speaker.embedding, packs=fitter.packs,
                    probe_ids=fitter.probe_ids, scale=fitter.scale, encoder=fitter.encoder,
                    evaluate=fitter.evaluate, budget_s=float("inf"), max_steps=steps)
                step = result.conditioning.style(fitter.packs, n) - start
            starts.append(start)
            moved.append(step)
            from_map.append(mapped)
            print(f"{number}/{len(speakers)} {speaker.name}: fast {fast.score:.3f}"
                  f"{'' if mapped else ' (nearest pack)'}, moved {np.linalg.norm(step):.3f} "
                  f"({time.monotonic() - began:.0f} s)", flush=True)
    return np.stack(starts), np.stack(moved), np.asarray(from_map)


def choose_gain(fitter: VoiceFitter, speakers: list[Speaker], starts: np.ndarray,
                moved: np.ndarray, used: np.ndarray) -> float:
    """The gain of :data:`GAINS` whose other-half drift (the mean of the ``used``
    speakers' moves) brings the held-out sentence closest to the ``used`` speakers;
    prints the table (gain 0 is ``fast`` without drift). The others are left out: their
    ``fast`` start without the drift is a stock pack, which the drift does not move."""
    ids = fitter.token_ids(HELD_OUT_TEXT)
    half = np.arange(len(speakers)) % 2

    def cosines(gain: float) -> np.ndarray:
        found = []
        for i, speaker in enumerate(speakers):
            if not used[i]:
                continue
            other = moved[used & (half != half[i])].mean(axis=0)
            style = (starts[i] + gain * other).astype(np.float32)
            pitch = speaker.prosody.f0_median  # type: ignore[union-attr]  # filtered
            embedding = fitter.evaluate_at_pitch(style, at_pitch=pitch, ids=ids)
            found.append(float(embedding @ speaker.embedding))
        return np.asarray(found)

    base = cosines(0.0)
    print(f"\n| gain | held-out cosine | gain over no drift (mean +- se) | closer |\n"
          f"|---|---|---|---|\n| 0 | {base.mean():.4f} | | |")
    best = (0.0, 0.0)
    for gain in GAINS:
        found = cosines(gain)
        d = found - base
        print(f"| {gain:g} | {found.mean():.4f} | {d.mean():+.4f} +- "
              f"{d.std(ddof=1) / np.sqrt(len(d)):.4f} | {np.sum(d > 0)}/{len(d)} |", flush=True)
        if d.mean() > best[1]:
            best = (gain, float(d.mean()))
    return best[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=7,
                        help="ascent steps per speaker (balanced takes 12-17)")
    parser.add_argument("--speech-dir", type=Path, default=None,
                        help="folder holding librispeech-clean/ (default ../shared/speech)")
    parser.add_argument("--out", type=Path, default=OUT / "style_map.npz")
    args = parser.parse_args()
    fitter = VoiceFitter(default_engine(), default_encoder(), stock_packs())
    # The halves score at the speaker's pitch: speakers without a measurable one are left out.
    speakers = [sp for sp in real_speakers(fitter, args.speech_dir) if sp.prosody is not None]
    print(f"{len(speakers)} calibration speakers (utterances under 12 s)")
    starts, moved, used = moves(fitter, speakers, args.steps)
    gain = choose_gain(fitter, speakers, starts, moved, used)
    drift = gain * moved[used].mean(axis=0)
    print(f"\ngain {gain:g} over {int(used.sum())} speakers: "
          f"drift norm {np.linalg.norm(drift):.3f}")
    with np.load(args.out) as data:
        kept = {k: data[k] for k in data.files}
    kept.update(fast_drift=drift.astype(np.float32), fast_drift_gain=np.array(gain),
                fast_drift_speakers=np.array(int(used.sum())))
    np.savez_compressed(args.out, **kept)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
