"""Static int8 convolutions for Kokoro: speed and fidelity against the shipped model.

Issue 8: 65 % of Kokoro's inference is its dynamically quantised ``ConvInteger`` (uint8 x
uint8), and ONNX Runtime's ``QLinearConv`` (uint8 x int8, static scales) runs the same
convolution about 2x faster on this AVX2 CPU. voxclone runs the static int8 rewrite of
the verified model (``voxclone.engines.static_int8``, scales learned on English clone
renderings by ``train/int8_scales.py``). This compares, with the shipped model (its
cached optimised graph):

* fp32 copy: the shipped weights dequantised, fp32 convolutions (what 8 bits cost);
* static int8: the model voxclone runs by default.

The comparison renders 6 sentences (none used in calibration) with the 5 stock voices
and their equal mixture. Per model: real-time factor (median of ``--runs`` interleaved
runs of two sentences, and its ratio to the shipped model's in the same run), GE2E
cosine between its rendering and the shipped model's of the same sentence and voice,
log-mel L1 distance to it, and PocketSphinx word errors. Run from the repo root:
``python bench/static_int8.py``; writes ``bench/results/static_int8.*``. Takes about 8
minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import librosa
import numpy as np

from voxclone.audio import Audio
from voxclone.engines.kokoro import KokoroEngine, assemble_model, stock_packs, tokenize
from voxclone.engines.session import SessionConfig
from voxclone.engines.static_int8 import dequantise, load_onnx
from voxclone.speaker import default_encoder
from voxclone.text import normalize_text, phonemize

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd

EVALUATION = [
    "It was the best of times, it was the worst of times, and nobody in the village "
    "could say which.",
    "Please remember to lock the back door before you leave the house tonight.",
    "The museum opens at nine, but the queue usually starts an hour earlier.",
    "Fresh snow covered the mountain road, so the bus arrived very late.",
    "He counted twelve red apples, four green pears and a single ripe banana.",
    "Thank you for calling; every one of our agents is busy right now.",
]
RATE = 24_000


def ids_of(text: str) -> list[int]:
    return tokenize(phonemize(normalize_text(text)))


def evaluation_voices(packs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The stock packs and the mixture of all of them (a clone's style is a mixture plus
    an offset)."""
    return {**packs, "mixture of all": np.mean(list(packs.values()), axis=0)}


def log_mel(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(librosa.feature.melspectrogram(y=x, sr=RATE, n_mels=80) + 1e-5))


def fp32_copy(folder: Path) -> Path:
    """The shipped model with every convolution dequantised to fp32, in ``folder``."""
    onnx = load_onnx()
    model = onnx.load(str(assemble_model()))
    dequantise(model)
    path = folder / "fp32.onnx"
    onnx.save(model, str(path))
    return path


def measure(engines: dict[str, KokoroEngine], voices: dict[str, np.ndarray],
            runs: int) -> dict[str, dict[str, Any]]:
    encoder = default_encoder()
    recognizer = sd.Recognizer()
    shipped = engines["shipped"]
    rows: dict[str, dict[str, Any]] = {}
    reference: dict[tuple[str, int], np.ndarray] = {}
    for name, engine in engines.items():
        cosines, distances, errors, words = [], [], 0, 0
        for voice, pack in voices.items():
            for i, text in enumerate(EVALUATION):
                ids = ids_of(text)
                audio = engine.render(ids, pack[len(ids) - 1])
                if engine is shipped:
                    reference[voice, i] = audio
                ref = reference[voice, i]
                n = min(len(audio), len(ref))
                cosines.append(float(encoder.embed(Audio(audio, RATE))
                                     @ encoder.embed(Audio(ref, RATE))))
                distances.append(float(np.mean(np.abs(log_mel(audio[:n]) - log_mel(ref[:n])))))
                heard = sd.score_transcript(recognizer, text, Audio(audio, RATE))
                errors, words = errors + heard.errors, words + heard.words
        rows[name] = {"cosine_median": statistics.median(cosines), "cosine_min": min(cosines),
                      "log_mel_l1_median": statistics.median(distances),
                      "word_errors": errors, "words": words}
    timed = [ids_of(t) for t in EVALUATION[:2]]
    style = voices["mixture of all"]
    seconds = sum(len(shipped.render(ids, style[len(ids) - 1])) for ids in timed) / RATE
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(runs):  # interleaved, so a busy moment hits every model alike
        for name, engine in engines.items():
            began = time.perf_counter()
            for ids in timed:
                engine.render(ids, style[len(ids) - 1])
            times[name].append(time.perf_counter() - began)
    base = statistics.median(times["shipped"])
    for name, row in rows.items():
        row.update(rtf=statistics.median(times[name]) / seconds,
                   ratio=statistics.median(times[name]) / base, times_s=times[name])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per model")
    parser.add_argument("--out", default=str(sd.REPO_ROOT / "bench" / "results" /
                                             "static_int8"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    packs = stock_packs()
    config = SessionConfig()
    with tempfile.TemporaryDirectory(prefix="voxclone-int8-") as scratch:
        engines = {"shipped": KokoroEngine(config=SessionConfig(static_int8=False)),
                   "fp32 copy": KokoroEngine(fp32_copy(Path(scratch))),
                   "static int8 (voxclone's default)": KokoroEngine(config=config)}
        voices = evaluation_voices(packs)
        rows = measure(engines, voices, args.runs)
    meta = sd.run_meta(started, runs=args.runs, threads=config.thread_count)
    lines = [
        "# Static int8 convolutions for Kokoro", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}; "
        f"{meta['threads']} threads", f"- wall time {meta['wall_s']:.0f} s",
        f"- fidelity: {len(EVALUATION)} sentences x {len(voices)} voices "
        f"({', '.join(voices)}), "
        "each rendering compared with the shipped model's of the same sentence and voice; "
        f"speed: two sentences, median of {args.runs} interleaved runs", "",
        "| model | RTF | time vs shipped | GE2E cosine to shipped (median / min) | "
        "log-mel L1 to shipped | word errors (PocketSphinx) |", "|---|---|---|---|---|---|",
        *(f"| {name} | {r['rtf']:.3f} | {r['ratio']:.2f}x | {r['cosine_median']:.4f} / "
          f"{r['cosine_min']:.4f} | {r['log_mel_l1_median']:.3f} | "
          f"{r['word_errors']}/{r['words']} |" for name, r in rows.items()),
    ]
    sd.write_results(args.out, "\n".join(lines) + "\n", {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
