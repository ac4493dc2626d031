"""Learn the static int8 scales of the Kokoro model (``voxclone.engines.static_int8``).

The rewrite needs, per convolution, the gains that equalise its output channels and the
ranges of its input and (equalised) output. Both are measured on *calibration
renderings*, fed to the model exactly as voxclone feeds it:

* ``--speakers`` calibration speakers (half female, half male; LibriSpeech utterances
  under 12 s, so never among ``bench/clone_quality.py``'s speakers, nor among the
  evaluation speakers of the quality benchmarks) are enrolled at the fast effort from
  one utterance each, with the shipped model, and each speaks ``TEXTS`` (none of them a
  benchmark sentence); every model call of the enrollment and the synthesis is kept;
* each stock voice speaks the first two ``TEXTS``.

Gains: each convolution's per-channel peak ``|y|`` over the renderings of the fp32 copy
(the shipped weights, dequantised), divided by its largest. Ranges: min and max of each
convolution's input and equalised output over the same renderings of the equalised
copy (ONNX Runtime's MinMax calibration).

    python train/int8_scales.py     # about 10 minutes; writes the .npz

Run it again (and commit its output) when the Kokoro model changes.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.engines import kokoro
from voxclone.engines.session import SessionConfig
from voxclone.engines.snake_table import find_snakes
from voxclone.engines.static_int8 import (
    SCALES_FILE,
    Int8Scales,
    dequantise,
    equalise,
    load_onnx,
)
from voxclone.text import normalize_text, phonemize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import quality_data as qd  # noqa: E402
import speech_data as sd  # noqa: E402

OUT = ROOT / "src" / "voxclone" / "engines" / "data" / SCALES_FILE
TEXTS = (
    "Bright yellow boats drift past the old harbor.",
    "She said the children would be home by seven, after the game.",
    "A gentle breeze carried the scent of rain across the fields, and everyone hurried "
    "inside.",
    "Is it true that the library closes early on Fridays?",
    "Twenty-five people signed up, but only nine came on the day.",
)
#: Utterances at least this long may be ``bench/clone_quality.py`` speakers.
BENCH_MIN_SECONDS = 12.0

Feed = dict[str, np.ndarray]


def calibration_utterances(count: int, speech_dir: str | None) -> list[sd.Utterance]:
    """One utterance (6-12 s) of each of ``count`` calibration speakers, half female."""
    chosen: dict[str, sd.Utterance] = {}
    for utterance in sorted(qd.speakers_of("calibration", speech_dir),
                            key=lambda u: hashlib.sha256(u.speaker.encode()).hexdigest()):
        if 6.0 <= utterance.seconds < BENCH_MIN_SECONDS:
            chosen.setdefault(utterance.speaker, utterance)
    by_gender = {g: [u for u in chosen.values() if u.gender == g] for g in "FM"}
    return by_gender["F"][: count - count // 2] + by_gender["M"][: count // 2]


def record_feeds(engine: kokoro.KokoroEngine, speakers: Sequence[sd.Utterance]) -> list[Feed]:
    """Every model input of enrolling ``speakers`` and synthesising ``TEXTS`` with them,
    and of the stock voices speaking two of ``TEXTS``."""
    feeds: list[Feed] = []
    render = engine.render

    def recording(ids: Sequence[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        feeds.append({"tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                      "style": np.asarray(style, np.float32).reshape(1, 256),
                      "speed": np.array([speed], dtype=np.float32)})
        return render(ids, style, speed)

    engine.render = recording  # type: ignore[method-assign]
    for index, utterance in enumerate(speakers, 1):
        voice = voxclone.enroll(f"int8-{utterance.speaker}", str(utterance.path),
                                effort="fast", save=False, i_am_the_speaker=True, force=True)
        for text in TEXTS:
            voxclone.synthesize(text, voice)
        print(f"[{index}/{len(speakers)}] {utterance.speaker} ({utterance.gender}): "
              f"{len(feeds)} model calls so far", flush=True)
    for pack in kokoro.stock_packs().values():
        for text in TEXTS[:2]:
            ids = kokoro.tokenize(phonemize(normalize_text(text)))
            recording(ids, pack[len(ids) - 1])
    engine.render = render  # type: ignore[method-assign]
    return feeds


def observe(model: Any, reducers: dict[str, Any], feeds: Sequence[Feed]) -> dict[str, Any]:
    """Run ``model`` with ``reducers``' tensors as extra outputs; fold each tensor ``y``
    into ``reducers[tensor](old, y)``."""
    onnx = load_onnx()
    import onnxruntime as ort

    outputs = {o.name for o in model.graph.output}
    for name in reducers:
        if name not in outputs:
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    wanted = list(reducers)
    seen: dict[str, Any] = {}
    for index, feed in enumerate(feeds, 1):
        for name, y in zip(wanted, session.run(wanted, feed), strict=True):
            seen[name] = reducers[name](seen.get(name), np.asarray(y))
        if index % 20 == 0:
            print(f"  {index}/{len(feeds)} renderings", flush=True)
    return seen


def peak(old: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    new = np.max(np.abs(y), axis=tuple(i for i in range(y.ndim) if i != 1))
    return new if old is None else np.maximum(old, new)


def span(old: tuple[float, float] | None, y: np.ndarray) -> tuple[float, float]:
    low, high = float(y.min()), float(y.max())
    return (low, high) if old is None else (min(old[0], low), max(old[1], high))


def channel_span(old: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """Per-channel (axis 1) min and max, ``(2, channels)``."""
    axes = tuple(i for i in range(y.ndim) if i != 1)
    new = np.stack([y.min(axis=axes), y.max(axis=axes)])
    return new if old is None else np.stack([np.minimum(old[0], new[0]),
                                             np.maximum(old[1], new[1])])


def learn(source: Path, sha256: str, feeds: Sequence[Feed]) -> Int8Scales:
    onnx = load_onnx()
    model = onnx.load(str(source))
    convs = dequantise(model)
    nodes = {n.name: n for n in model.graph.node}
    print(f"{len(convs)} convolutions; measuring channel peaks", flush=True)
    peaks = observe(copy.deepcopy(model), {nodes[c].output[0]: peak for c in convs}, feeds)
    gains = {}
    for conv in convs:
        channel = np.maximum(peaks[nodes[conv].output[0]], 1e-6)
        gains[conv] = (channel / channel.max()).astype(np.float32)
    equalise(model, gains)
    nodes = {n.name: n for n in model.graph.node}
    print("measuring the equalised ranges", flush=True)
    snakes = find_snakes(model.graph)
    reducers = {t: span for c in convs for t in (nodes[c].input[0], nodes[c].output[0])}
    if {snake.x for snake in snakes} & set(reducers):
        raise SystemExit("a Snake's input is also a convolution's: the ranges would clash")
    reducers.update({snake.x: channel_span for snake in snakes})
    spans = observe(model, reducers, feeds)
    ranges = {c: (*spans[nodes[c].input[0]], *spans[nodes[c].output[0]]) for c in convs}
    return Int8Scales(sha256, gains, ranges,
                      {snake.name: spans[snake.x].astype(np.float32) for snake in snakes})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=16)
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    engine = kokoro.KokoroEngine(config=SessionConfig(static_int8=False))
    speakers = calibration_utterances(args.speakers, args.speech_dir)
    with mock.patch.object(kokoro, "_shared_engine", lambda: engine):  # the shipped model
        feeds = record_feeds(engine, speakers)
    print(f"{len(feeds)} calibration renderings ({time.perf_counter() - began:.0f} s)")
    scales = learn(kokoro.assemble_model(), kokoro._expected_sha256(), feeds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scales.save(args.out)
    print(f"wrote {args.out} ({len(scales.gains)} convolutions, {len(speakers)} speakers, "
          f"{len(feeds)} renderings) in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
