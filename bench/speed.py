"""Speed of cloned speech: real-time factor, first audio, load time, memory, enrollment.

Every voxclone figure is measured next to a baseline in the same run, interleaved run
by run: the Kokoro model in a plain ``onnxruntime.InferenceSession(path)`` (default
options), fed the same phoneme chunks with the same voice's style, after phonemizing
the whole text (what a straightforward pipeline does), with no watermark and no log.
voxclone's figures include everything a user waits for: text processing, inference,
watermarking and the synthesis record.

* RTF (compute s / audio s, median of ``--runs``) for a sentence, a paragraph and a
  ~2-minute text; ``synthesize``.
* Time to first audio when streaming (``synthesize_stream`` to its first chunk) for the
  paragraph and the long text; baseline: phonemize all, render the first sentence. And
  time to first sound: that plus the silence the chunk starts with.
* Compute time per text: voxclone's audio is shorter than the baseline's for the same
  text (its pauses replace the model's own silences), which raises its RTF alone.
* Model load time (a fresh subprocess each run, imports excluded) and the first
  assembly (a fresh cache: concatenate, verify, optimise, load), peak resident memory
  of a fresh subprocess that loads and speaks the paragraph.
* Enrollment wall time per effort level (a LibriSpeech 6 s reference).
* Quality of streaming's split first sentence: GE2E cosine to the speaker's held-out
  speech and PocketSphinx WER, streamed vs whole, on the same sentences.

Run from the repo root: ``python bench/speed.py [--quick]``; writes ``<out>.md`` and
``<out>.json``. Timings on a shared machine are noisy: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
import speed_texts as texts

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "speed"
PAUSE_S = 0.12  # the baseline's pause between sentences (voxclone's before its pause match)


def log(message: str) -> None:
    print(message, flush=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Baseline:
    """The model in a plain default ONNX Runtime session, fed like voxclone feeds it."""

    def __init__(self, voice: Any) -> None:
        import onnxruntime as ort

        from voxclone.engines.kokoro import KokoroEngine, assemble_model, stock_packs
        from voxclone.pipeline import Synthesizer

        self.session = ort.InferenceSession(str(assemble_model()))
        # Text planning only needs the engine's vocabulary and limits, not its model.
        self.planner = Synthesizer(KokoroEngine.__new__(KokoroEngine), stock_packs())
        self.packs = stock_packs()
        self.voice = voice

    def render(self, ids: Sequence[int]) -> np.ndarray:
        style = self.voice.conditioning.style(self.packs, len(ids)).reshape(1, 256)
        feed = {"tokens": np.array([[0, *ids, 0]], dtype=np.int64), "style": style,
                "speed": np.array([1.0], dtype=np.float32)}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32).reshape(-1)

    def synthesize(self, text: str) -> float:
        """Seconds of audio for ``text`` (the model's own silences kept, sentences
        joined by ``PAUSE_S``)."""
        chunks = self.planner.plan(text)
        samples = sum(len(self.render(ids)) for ids in chunks)
        return samples / 24_000 + PAUSE_S * (len(chunks) - 1)

    def first_audio(self, text: str) -> np.ndarray:
        return self.render(self.planner.plan(text)[0])


def first_sound_s(samples: np.ndarray) -> float:
    """Seconds of silence before a chunk's first sound."""
    from voxclone.audio.pauses import sound_span

    span = sound_span(samples, 24_000)
    return span[0] / 24_000 if span else len(samples) / 24_000


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def summary(ours: Sequence[float], base: Sequence[float]) -> dict[str, Any]:
    o, b = statistics.median(ours), statistics.median(base)
    return {"voxclone": o, "baseline": b, "ratio": o / b, "runs": len(ours),
            "voxclone_all": list(ours), "baseline_all": list(base)}


def rtf_rows(voice: Any, baseline: Baseline, runs: dict[str, int],
             cases: dict[str, str], warm_up: bool = True) -> dict[str, Any]:
    import voxclone

    rows = {}
    for name, text in cases.items():
        ours, base, audio_s, base_s = [], [], 0.0, 0.0
        took_ours, took_base = [], []
        warm = 1 if warm_up and not rows else 0  # the first case's run 0 warms up
        for run in range(runs[name] + warm):
            order = ("ours", "base") if run % 2 else ("base", "ours")
            for which in order:
                if which == "ours":
                    took, audio = timed(lambda t=text: voxclone.synthesize(t, voice))
                    audio_s = audio.duration
                    if run >= warm:
                        ours.append(took / audio.duration)
                        took_ours.append(took)
                else:
                    took, base_s = timed(lambda t=text: baseline.synthesize(t))
                    if run >= warm:
                        base.append(took / base_s)
                        took_base.append(took)
        # voxclone's audio is shorter (its pauses replace the model's own silences), so
        # the compute time for the same text is given too
        rows[name] = {**summary(ours, base), "audio_s": audio_s, "baseline_audio_s": base_s,
                      "compute_s": summary(took_ours, took_base)}
        log(f"  RTF {name}: {rows[name]['voxclone']:.3f} vs baseline "
            f"{rows[name]['baseline']:.3f} ({audio_s:.1f} s of audio; load {load_average()})")
    return rows


def first_audio_rows(voice: Any, baseline: Baseline, runs: int,
                     cases: dict[str, str]) -> dict[str, Any]:
    import voxclone

    def ours(text: str) -> tuple[float, float]:
        began = time.perf_counter()
        stream = voxclone.synthesize_stream(text, voice)
        first = next(stream)
        took = time.perf_counter() - began
        stream.close()
        return took, first_sound_s(first.samples)

    rows = {}
    for name, text in cases.items():
        mine, base, mine_sound, base_sound = [], [], [], []
        for run in range(runs + 1):
            o, lead = ours(text)
            b, chunk = timed(lambda t=text: baseline.first_audio(t))
            if run:
                mine.append(o)
                base.append(b)
                mine_sound.append(o + lead)
                base_sound.append(b + first_sound_s(chunk))
        # first sound: when the listener hears speech (first audio + its leading silence)
        rows[name] = {**summary(mine, base), "first_sound": summary(mine_sound, base_sound)}
        log(f"  first audio {name}: {rows[name]['voxclone']:.3f} s vs baseline "
            f"{rows[name]['baseline']:.3f} s")
    return rows


#: Peak resident memory of this process image: VmHWM (ru_maxrss would also count the
#: parent's memory at fork time, which Linux carries over into the child's figure).
_PEAK = ("def peak_mb():\n    for line in open('/proc/self/status'):\n"
         "        if line.startswith('VmHWM:'):\n            return int(line.split()[1]) / 1024\n")

_CHILD = {
    "load": "import onnxruntime\nfrom voxclone.engines.kokoro import KokoroEngine\n"
            "t = time.perf_counter(); KokoroEngine(); out = time.perf_counter() - t",
    "load-baseline": "import onnxruntime as ort\n"
                     "from voxclone.engines.kokoro import assemble_model\n"
                     "p = str(assemble_model())\n"
                     "t = time.perf_counter(); ort.InferenceSession(p); "
                     "out = time.perf_counter() - t",
    "memory": "import voxclone, speed_texts\nfrom voxclone.clone.profile import VoiceProfile\n"
              "voice = VoiceProfile.from_json(json.loads(sys.argv[1]))\n"
              "voxclone.synthesize(speed_texts.MEDIUM, voice)\n"
              "out = peak_mb()",
    "memory-baseline": "import speed, speed_texts\nfrom voxclone.clone.profile import "
                       "VoiceProfile\nvoice = VoiceProfile.from_json(json.loads(sys.argv[1]))\n"
                       "speed.Baseline(voice).synthesize(speed_texts.MEDIUM)\n"
                       "out = peak_mb()",
}


def child(kind: str, env: dict[str, str], arg: str = "") -> float:
    """Run one measurement in a fresh interpreter; returns its ``out``."""
    code = "import json, sys, time\n" + _PEAK + _CHILD[kind] + "\nprint(json.dumps(out))"
    done = subprocess.run([sys.executable, "-c", code, arg], env=env, check=True,
                          capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent)
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def process_rows(voice: Any, runs: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(sd.REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as cold:
        first = child("load", {**env, "VOXCLONE_CACHE": cold})
    load, load_base = [], []
    for _ in range(runs):
        load.append(child("load", env))
        load_base.append(child("load-baseline", env))
    profile = json.dumps(voice.to_json())
    memory = [child("memory", env, profile), child("memory", env, profile)]
    memory_base = [child("memory-baseline", env, profile),
                   child("memory-baseline", env, profile)]
    rows = {"load_s": summary(load, load_base), "first_assembly_s": first,
            "peak_memory_mb": summary(memory, memory_base)}
    log(f"  load {rows['load_s']['voxclone']:.2f} s vs {rows['load_s']['baseline']:.2f} s; "
        f"first assembly {first:.1f} s; peak memory {rows['peak_memory_mb']['voxclone']:.0f}"
        f" MB vs {rows['peak_memory_mb']['baseline']:.0f} MB")
    return rows


def enrollment_rows(reference: Any, efforts: Sequence[str]) -> dict[str, Any]:
    import voxclone

    repeats = {"stock": 5, "fast": 3, "balanced": 1, "best": 1}
    rows = {}
    for effort in efforts:
        times = []
        for n in range(repeats[effort]):
            took, _ = timed(lambda e=effort, n=n: voxclone.enroll(
                f"speed-{e}-{n}", reference, effort=e, save=False, i_am_the_speaker=True,
                force=True))
            times.append(took)
        rows[effort] = {"median_s": statistics.median(times), "runs": times}
        log(f"  enroll {effort}: {rows[effort]['median_s']:.1f} s")
    return rows


def quality_rows(voice: Any, heldout: Any) -> dict[str, Any]:
    """Streamed (first sentence split) vs whole: speaker cosine and WER."""
    import voxclone
    from voxclone.audio import Audio
    from voxclone.speaker import cosine

    recognizer = sd.Recognizer()
    target = voxclone.embed(heldout)
    out: dict[str, Any] = {}
    for mode in ("whole", "streamed"):
        clips = []
        for text in texts.QUALITY:
            if mode == "whole":
                clips.append(voxclone.synthesize(text, voice))
            else:
                parts = [c.samples for c in voxclone.synthesize_stream(text, voice)]
                clips.append(Audio(np.concatenate(parts), 24_000))
        heard = [sd.score_transcript(recognizer, t, c) for t, c in zip(texts.QUALITY, clips,
                                                                       strict=True)]
        joined = Audio(np.concatenate([c.samples for c in clips]), 24_000)
        out[mode] = {"cosine": cosine(voxclone.embed(joined), target),
                     "wer": sum(h.errors for h in heard) / sum(h.words for h in heard),
                     "heard": [h.heard for h in heard]}
        log(f"  quality {mode}: cosine {out[mode]['cosine']:.3f}, WER {out[mode]['wer']:.1%}")
    return out


VOICE_NOTES = {
    "fast": " (a clone: every piece pitch-shifted by PSOLA and equalised, at the "
            "speaker's rate, with the speaker's pauses; the baseline renders its style at "
            "speed 1)",
    "stock": " (the nearest stock pack: no pitch shift, equaliser or rate)",
}


def markdown(meta: dict[str, Any], res: dict[str, Any]) -> str:
    lines = ["# Speed", "",
             f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
             f"- load average (1/5/15 min) at start: {meta['load_start']}, at end: "
             f"{meta['load_end']} (a shared machine: other jobs ran alongside)",
             f"- baseline: {meta['baseline']}",
             f"- voice: {meta.get('voice_effort', 'stock')} enrollment of LibriSpeech speaker "
             f"{meta['speaker']}{VOICE_NOTES.get(meta.get('voice_effort', 'stock'), '')}; "
             f"{meta['runs']} runs per figure ({meta['long_runs']} for the long text's RTF; "
             "medians), interleaved with the baseline"]
    if "long_rerun" in meta:
        rerun = meta["long_rerun"]
        lines.append(f"- the long text's RTF was measured again on its own at {rerun['date']} "
                     f"(load {rerun['load_start']} -> {rerun['load_end']}), same protocol: "
                     "in the full run the load fell from ~11 to ~2 midway, so its 3 runs "
                     "were not comparable (kept in the JSON as `rtf_long_first_run`)")
    lines += ["",
             "| measure | voxclone | baseline | ratio | target |", "|---|---|---|---|---|"]
    for name, row in res["rtf"].items():
        audio = f"{row['audio_s']:.0f} s of audio"
        if "baseline_audio_s" in row:
            audio += f"; the baseline's {row['baseline_audio_s']:.0f} s"
        lines.append(f"| RTF, {name} ({audio}) | "
                     f"{row['voxclone']:.3f} | {row['baseline']:.3f} | {row['ratio']:.2f} | "
                     + ("<= 0.15 |" if name == "long" else "|"))
        if "compute_s" in row:
            c = row["compute_s"]
            lines.append(f"| compute time, {name} text | {c['voxclone']:.2f} s | "
                         f"{c['baseline']:.2f} s | {c['ratio']:.2f} | |")
    for name, row in res.get("first_audio", {}).items():
        lines.append(f"| first audio, streaming, {name} text | {row['voxclone'] * 1000:.0f} ms "
                     f"| {row['baseline'] * 1000:.0f} ms | {row['ratio']:.2f} | <= 250 ms |")
        if "first_sound" in row:
            s = row["first_sound"]
            lines.append(f"| first sound (first audio + its leading silence), {name} text | "
                         f"{s['voxclone'] * 1000:.0f} ms | {s['baseline'] * 1000:.0f} ms | "
                         f"{s['ratio']:.2f} | |")
    proc = res.get("process")
    if proc is None:
        return "\n".join(lines) + "\n"
    lines += [f"| model load (fresh process) | {proc['load_s']['voxclone']:.2f} s | "
              f"{proc['load_s']['baseline']:.2f} s | {proc['load_s']['ratio']:.2f} | <= 1 s |",
              f"| first assembly + optimisation (fresh cache) | {proc['first_assembly_s']:.1f} s"
              " | | | |",
              f"| peak memory (fresh process, paragraph) | "
              f"{proc['peak_memory_mb']['voxclone']:.0f} MB | "
              f"{proc['peak_memory_mb']['baseline']:.0f} MB | "
              f"{proc['peak_memory_mb']['ratio']:.2f} | <= 1536 MB |", ""]
    lines += ["| enrollment effort | wall time (median) | runs |", "|---|---|---|"]
    lines += [f"| {effort} | {row['median_s']:.1f} s | {len(row['runs'])} |"
              for effort, row in res.get("enrollment", {}).items()]
    if "quality" in res:
        q = res["quality"]
        lines += ["", "Streaming's split first sentence vs whole synthesis "
                  f"({len(texts.QUALITY)} sentences):", "",
                  "| output | GE2E cosine to held-out speech | WER (PocketSphinx) |",
                  "|---|---|---|"]
        lines += [f"| {mode} | {q[mode]['cosine']:.3f} | {q[mode]['wer']:.1%} |"
                  for mode in ("whole", "streamed")]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--long-runs", type=int, default=0,
                        help="runs for the long text's RTF (default: --runs)")
    parser.add_argument("--efforts", default="stock,fast,balanced",
                        help="enrollment efforts to time (default stock,fast,balanced)")
    parser.add_argument("--voice-effort", default="fast", choices=["stock", "fast"],
                        help="the voice timed: a clone (fast, the default: synthesis "
                        "shifts its pitch, equalises its tone and sets its rate and "
                        "pauses, as for any clone) or a stock voice (none of that)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output path, no extension")
    parser.add_argument("--speech-dir", default=None, help="speech folder")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 runs, no long text, stock enrollment only")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.efforts = 2, "stock"
    args.long_runs = args.long_runs or args.runs
    args.efforts = [e for e in args.efforts.split(",") if e]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("VOXCLONE_HOME", tempfile.mkdtemp(prefix="voxclone-speed-"))
    import torch

    import voxclone

    torch.set_num_threads(1)  # the GE2E encoder and VAD; Kokoro's threads are its own
    meta: dict[str, Any] = {"date": sd.now(), "machine": sd.machine(),
                            "git_commit": sd.git_commit(), "runs": args.runs,
                            "long_runs": args.long_runs,
                            "load_start": load_average(),
                            "baseline": "onnxruntime.InferenceSession(path), default options; "
                                        "same phoneme chunks and style; no watermark or log"}
    utterances = sorted(sd.read_index(sd.corpus_dir(args.speech_dir)),
                        key=lambda u: (u.gender, u.speaker))
    split = next(s for u in utterances if u.seconds >= 12
                 and (s := sd.split_utterance(u)) is not None)
    meta["speaker"], meta["voice_effort"] = split.utterance.speaker, args.voice_effort
    # public benchmark speech; force: the quality gate (newer than this bench) refuses
    # some LibriSpeech references, and speed does not depend on it
    voice = voxclone.enroll("speed-voice", split.reference, effort=args.voice_effort, save=False,
                           i_am_the_speaker=True, force=True)
    baseline = Baseline(voice)
    out = Path(args.out)
    runs = {"short": args.runs, "medium": args.runs, "long": args.long_runs}
    res: dict[str, Any] = {}
    log(f"speed: {args.runs} runs, load {load_average()}")
    # Cheapest sections first, results saved after each: the long text's RTF comes last.
    sections: list[tuple[str, Callable[[], Any]]] = [
        ("rtf", lambda: rtf_rows(voice, baseline, runs,
                                 {"short": texts.SHORT, "medium": texts.MEDIUM})),
        ("first_audio", lambda: first_audio_rows(
            voice, baseline, args.runs,
            {"medium": texts.MEDIUM} | ({} if args.quick else {"long": texts.LONG}))),
        ("process", lambda: process_rows(voice, args.runs)),
        ("enrollment", lambda: enrollment_rows(split.reference, args.efforts)),
        ("quality", lambda: quality_rows(voice, split.heldout)),
    ]
    if not args.quick:
        sections.append(("rtf", lambda: {**res["rtf"], **rtf_rows(
            voice, baseline, runs, {"long": texts.LONG}, warm_up=False)}))
    for index, (name, measure) in enumerate(sections, 1):
        res[name] = measure()
        meta["load_end"] = load_average()
        save(out, meta, res, final=index == len(sections))
    log(f"wrote {out}.md and {out}.json")
    return 0


def save(out: Path, meta: dict[str, Any], res: dict[str, Any], final: bool) -> None:
    """Write the results so far; the tables are printed once, with the last section."""
    if final:
        print(flush=True)  # a blank line between the progress log and the tables
    sd.write_results(out, markdown(meta, res), {"meta": meta, **res}, echo=final)


if __name__ == "__main__":
    raise SystemExit(main())
