"""Watermark detection in streamed syntheses (chunks joined, as a client saves them)
against whole-file renderings of the same texts, through voxclone's own lossy formats.

Run from the repo root (about 11 minutes on 2 idle cores, 20 on shared ones)::

    python bench/watermark_streams.py [--speakers 2] [--speeds 1.0,1.3]
        [--out bench/results/watermark_streams]

* Voices: ``fast`` clones of ``--speakers`` LibriSpeech speakers, half female (chosen by
  ``speech_data.choose_speakers``, enrolled from the first 6 s of speech of one
  utterance with ``i_am_the_speaker=True``), in a temporary ``VOXCLONE_HOME`` (its own
  secret, so its own watermark key and audit log).
* Texts: ``CHOPPY`` (a first sentence long enough to be cut into a streaming lead-in,
  then one-word sentences and short exclamations; a few without the lead-in) and
  ``PARAGRAPHS`` (everyday sentences of 6-12 s), each spoken at every ``--speeds``.
* Renderings of each text, through the real entry points:
  ``stream`` is ``voxclone.synthesis.render_stream``'s chunks joined (what the code
  under test does); ``whole`` is ``start_render(...).finish()``, one mark over the whole
  file (the same-run baseline). ``stream, per-chunk marks`` is the stream's own unmarked
  chunks (captured as the synthesizer hands them to the marker) marked one by one with
  ``QimWatermark.embed(chunk, start_sample=position)``: what ``stream_provenance.marked_chunks`` did
  before the stream marker (``watermark/stream.py``), so both are measured on the same
  audio in one run (``stream`` equals it where the code under test predates the marker).
* Channels: ``wav`` (16-bit, ``encode_audio``); ``voxclone mp3``, ``voxclone opus``,
  ``voxclone ogg`` (``encode_audio(..., fmt)`` read back by ``load_audio``: what ``say
  -o x.mp3`` and the server write); ``lame 64 kbit/s`` (``attacks.mp3(64)``, delay
  removed); and a random 3 s excerpt of each lossy file (the same place in each
  rendering of a text).
* Detection = found with the right payload (the synthesis record's id); ``wrong`` =
  found with another payload. ``SNR`` is the mark's (marked minus unmarked audio)
  against the unmarked audio, whole band and in the marked band (750-3250 Hz).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attacks as atk
import speech_data as sd

import voxclone
from voxclone import synthesis
from voxclone.audio import Audio, encode_audio, load_audio
from voxclone.synthesis import render_stream, start_render
from voxclone.watermark import default_watermark

RATE = 24_000
OUT = sd.REPO_ROOT / "bench" / "results" / "watermark_streams"
#: Short, fast-changing speech: most start with a sentence long enough to be cut into a
#: streaming lead-in (``STREAM_FIRST_CHUNK_TOKENS``), then one-word sentences.
CHOPPY = (
    "Listen carefully, this is important. Yes. No. Maybe. Go.",
    "Okay everyone, gather round please. Stop! Wait! Now! Run!",
    "Here is what I think about it. Fine. Sure. Whatever. Done.",
    "Alright, let us begin the countdown. Three. Two. One. Launch!",
    "Hello there, my very old friend. Hi. Bye. See you. Later.",
    "Attention please, the doors are closing now. Mind the gap. Thank you.",
    "Well, that went better than expected. Wow. Great. Really great. Thanks!",
    "So, what do you want for dinner tonight? Pizza? Pasta? Soup? Salad?",
    "Quick question before we start the meeting. Coffee? Tea? Water? Nothing?",
    "Congratulations on your new job, really. Cheers! Well done! Bravo!",
    "Watch out, the floor is wet over here. Careful! Slow down! Okay.",
    "Ready? Set. Go! Faster! Faster! Yes!",
    "No. Absolutely not. Never. Not today. Not ever.",
    "Yes. No. Maybe. Go.",
    "Hey! Hi! Hello! Howdy! Welcome!",
    "Left. Right. Left. Right. Halt!",
)
PARAGRAPHS = (
    "The lighthouse keeper counted the ships every evening. Nobody remembered when the "
    "old bridge was painted green. We will meet at the station at half past six.",
    "I think we should go to the beach tomorrow if the weather is nice enough for a "
    "swim. Bring a towel and something to eat.",
    "Could you please send me the file again? The first one did not arrive in my inbox, "
    "and I need it before the meeting on Thursday.",
    "Turn left at the second light, then look for the red brick building. The entrance "
    "is around the back, next to the bicycle racks.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea "
    "shells. So if she sells shells on the sea shore, I am sure she sells sea shore shells.",
    "Numbers like forty two and seven hundred appear in the report, along with several "
    "dates. Please check them carefully before it goes to print.",
    "The museum opens at nine in the morning and closes at five. Tickets are cheaper "
    "online, and children under twelve get in for free.",
    "After the storm, the village came together to clear the roads. By evening, the "
    "power was back on and the bakery had opened its doors again.",
)
KINDS = ("stream", "stream, per-chunk marks", "whole")
LOSSY = ("voxclone mp3", "lame 64 kbit/s", "voxclone opus", "voxclone ogg")
CHANNELS = ("wav", *LOSSY, *(f"{c}, 3 s crop" for c in LOSSY))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def through(channel: str, marked: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``marked`` (float32 at 24 kHz) as read back after ``channel``, float64 24 kHz."""
    base = channel.removesuffix(", 3 s crop")
    if base.startswith("lame"):
        heard = atk.mp3(64)(marked.astype(np.float64), RATE, rng)
    else:
        encoded = encode_audio(Audio(marked, RATE), base.split()[-1])
        heard = load_audio(encoded).resample(RATE).samples.astype(np.float64)
    return atk.crop(3.0)(heard, RATE, rng) if channel.endswith("crop") else heard


@contextmanager
def captured_chunks() -> Iterator[list[np.ndarray]]:
    """The unmarked chunks the synthesizer hands to the stream marker, in order (the
    synthesizer instance's ``stream`` is wrapped while this is open)."""
    synthesizer = synthesis._synthesizer()
    original = synthesizer.stream
    seen: list[np.ndarray] = []

    def teeing(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for chunk in original(*args, **kwargs):
            seen.append(chunk.samples.copy())
            yield chunk

    synthesizer.stream = teeing  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del synthesizer.stream  # the class's method again


Rendered = tuple[np.ndarray, np.ndarray, int, list[float]]


def renderings(text: str, profile: Any, speed: float) -> dict[str, Rendered]:
    """Each kind's marked and unmarked audio (float32, 24 kHz), its payload and its
    chunks' seconds."""
    with captured_chunks() as raw:
        record, chunks = render_stream(text, profile, speed=speed)
        streamed = [c.samples for c in chunks]
    with captured_chunks() as raw_whole:
        whole, whole_record = start_render(text, profile, speed=speed).finish()
    wm = default_watermark()
    per_chunk, position = [], 0
    for piece in raw:  # the marking marked_chunks did before the stream marker
        per_chunk.append(wm.embed(piece, RATE, record.id, start_sample=position))
        position += len(piece)
    pieces = [len(p) / RATE for p in raw]
    unmarked = np.concatenate(raw)
    return {"stream": (np.concatenate(streamed), unmarked, record.id, pieces),
            "stream, per-chunk marks": (np.concatenate(per_chunk), unmarked, record.id,
                                        pieces),
            "whole": (whole.samples, np.concatenate(raw_whole), whole_record.id,
                      [whole.duration])}


def snr_db(marked: np.ndarray, unmarked: np.ndarray) -> tuple[float, float]:
    """The mark's SNR against ``unmarked`` (dB): whole band, and in 750-3250 Hz."""
    x, mark = unmarked.astype(np.float64), marked.astype(np.float64) - unmarked
    power_x, power_m = np.abs(np.fft.rfft(x)) ** 2, np.abs(np.fft.rfft(mark)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / RATE)
    band = (freqs >= 750.0) & (freqs < 3250.0)
    return (10 * float(np.log10(power_x.sum() / power_m.sum())),
            10 * float(np.log10(power_x[band].sum() / power_m[band].sum())))


def enroll(count: int, speech_dir: str | None) -> list[tuple[str, Any]]:
    folder = sd.corpus_dir(speech_dir)
    utterances = sd.read_index(folder)
    voices = []
    for utterance in sd.choose_speakers(utterances, {u.speaker for u in utterances}, count,
                                        min_seconds=10.0):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        profile = voxclone.enroll(f"ws-{utterance.speaker}", split.reference, effort="fast",
                                  save=False, i_am_the_speaker=True,  # public speech
                                  force=True)
        voices.append((f"{utterance.speaker} ({utterance.gender})", profile))
        log(f"enrolled {utterance.speaker} ({utterance.gender})")
    return voices


def count(rows: list[dict[str, Any]], kind: str, channel: str, key: str = "right") -> int:
    return sum(r["kinds"][kind][channel][key] for r in rows)


def table(rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    head = "| channel | " + " | ".join(KINDS) + " | wrong |"
    lines = [head, "|" + " --- |" * (len(KINDS) + 2)]
    summary: dict[str, Any] = {}
    for channel in CHANNELS:
        cells = []
        summary[channel] = {}
        for kind in KINDS:
            right = count(rows, kind, channel)
            summary[channel][kind] = {"right": right, "of": len(rows)}
            cells.append(f"{right / max(len(rows), 1):.3f} ({right}/{len(rows)})")
        wrong = sum(count(rows, kind, channel, "wrong") for kind in KINDS)
        summary[channel]["wrong"] = wrong
        lines.append(f"| {channel} | " + " | ".join(cells) + f" | {wrong} |")
    return lines, summary


def main() -> None:
    parser = sd.speaker_parser(__doc__, speakers=2, out=OUT)
    parser.add_argument("--speeds", default="1.0,1.3",
                        help="comma-separated speeds every text is spoken at")
    parser.add_argument("--seed", type=int, default=2028)
    parser.add_argument("--label", default="",
                        help="what the code under test is (shown in the title)")
    args = parser.parse_args()
    started = time.perf_counter()
    speeds = [float(s) for s in args.speeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="wm-streams-") as home:
        os.environ["VOXCLONE_HOME"] = home  # its own secret, key and audit log
        voices = enroll(args.speakers, args.speech_dir)
        rows: list[dict[str, Any]] = []
        texts = [("choppy", t) for t in CHOPPY] + [("paragraph", t) for t in PARAGRAPHS]
        for voice, profile in voices:
            for speed in speeds:
                for index, (group, text) in enumerate(texts):
                    kinds = renderings(text, profile, speed)
                    row: dict[str, Any] = {
                        "voice": voice, "speed": speed, "group": group, "text": text,
                        "seconds": {k: round(len(v[0]) / RATE, 2) for k, v in kinds.items()},
                        "chunks_s": [round(s, 2) for s in kinds["stream"][3]],
                        "snr_db": {k: snr_db(v[0], v[1]) for k, v in kinds.items()},
                        "kinds": {}}
                    for kind, (marked, _, payload, _) in kinds.items():
                        found: dict[str, dict[str, bool]] = {}
                        for c, channel in enumerate(CHANNELS):
                            # the same seed for every kind: the crop starts at the same
                            # place in each rendering of a text
                            rng = np.random.default_rng([args.seed, index, c, int(speed * 10)])
                            hit = default_watermark().detect(through(channel, marked, rng),
                                                             RATE)
                            found[channel] = {"right": bool(hit.found and hit.payload == payload),
                                              "wrong": bool(hit.found and hit.payload != payload)}
                        row["kinds"][kind] = found
                    rows.append(row)
                    log(f"{voice} x{speed} {group} {index}: " + "; ".join(
                        f"{k} {sum(v['right'] for v in row['kinds'][k].values())}/"
                        f"{len(CHANNELS)}" for k in KINDS))
    groups = {"all texts": rows, "choppy texts": [r for r in rows if r["group"] == "choppy"],
              "paragraphs": [r for r in rows if r["group"] == "paragraph"]}
    lines = [f"# Watermark in streamed vs whole-file syntheses{args.label}", "",
             f"{len(voices)} `fast` clones, {len(CHOPPY)} choppy texts and {len(PARAGRAPHS)} "
             f"paragraphs at speeds {', '.join(map(str, speeds))}: {len(rows)} renderings of "
             "each kind. Detection rate (right payload) and counts per channel; "
             "`python bench/watermark_streams.py`. `stream` is what the code under test "
             "streams, `stream, per-chunk marks` the same audio marked chunk by chunk as "
             "before the stream marker, `whole` one mark over a whole-file rendering.", ""]
    summary: dict[str, Any] = {}
    for name, members in groups.items():
        part, summary[name] = table(members)
        lines += [f"## {name} ({len(members)} per kind)", "", *part, ""]
    lines += ["## Mark strength (median over all renderings)", "",
              "| kind | SNR (dB) | SNR in 750-3250 Hz (dB) |", "| --- | --- | --- |"]
    for kind in KINDS:
        summary.setdefault("snr_db", {})[kind] = [
            float(np.median([r["snr_db"][kind][i] for r in rows])) for i in (0, 1)]
        lines.append(f"| {kind} | " + " | ".join(
            f"{v:.1f}" for v in summary["snr_db"][kind]) + " |")
    lines.append("")
    lengths = [r["seconds"]["stream"] for r in groups["choppy texts"]]
    chunk_s = [s for r in groups["choppy texts"] for s in r["chunks_s"]]
    if lengths:
        lines += [f"Choppy renderings: {np.median(lengths):.1f} s median ({min(lengths):.1f}-"
                  f"{max(lengths):.1f} s), streamed in chunks of {np.median(chunk_s):.2f} s "
                  f"median ({min(chunk_s):.2f}-{max(chunk_s):.2f} s).", ""]
    data = {"meta": sd.run_meta(started, source_tree=sd.source_tree(), speeds=speeds,
                                voices=[v for v, _ in voices], label=args.label),
            "summary": summary, "rows": rows}
    sd.write_results(args.out, "\n".join(lines), data)


if __name__ == "__main__":
    main()
