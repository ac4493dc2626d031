"""Server load benchmark: N concurrent clients speaking through the HTTP API on loopback.

A real ``voxclone serve`` runs in a subprocess over a fresh voxclone home. One owner's
voice (joe, Piper's voice, enrolled with ``effort=stock``) is registered, and
``--clients`` threads each send ``POST /v1/audio/speech`` (``response_format=pcm``,
streamed sentence by sentence) with a text unique to the request, back to back, for
``--seconds``. Reported:

- errors (any status but 200, or a broken stream);
- latency to the first audio byte and to the last, median and 95th percentile;
- requests served and seconds of audio per minute;
- **wrong audio**: a response whose ``X-Voxclone-Synthesis`` payload's audit record does
  not hold the SHA-256 of that request's text, or (checked on a sample) whose audio's
  watermark is not that payload;
- **audit loss**: successful requests with no ``synthesis`` and ``stream-end`` entry,
  and whether ``audit verify`` passes afterwards.

Usage::

    python bench/server_load.py                      # 20 clients, 60 s
    python bench/server_load.py --clients 3 --seconds 10 --out /tmp/load
    python bench/server_load.py --clients 1 --seconds 60 --sentences 5 \
        --out bench/results/server_first_audio   # a paragraph: first audio vs the last
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_data import git_commit, machine, now, write_results

OUT = Path(__file__).resolve().parent / "results" / "server_load"
SENTENCES = [
    "The ferry leaves at seven, so please be on the pier a little early.",
    "Our weekly meeting moves to Thursday afternoon this time.",
    "She painted the fence blue and the gate a bright yellow.",
    "Turn left after the bakery and the library is on your right.",
    "Thank you for calling, your order has been shipped today.",
]


@dataclass
class Result:
    client: int
    text: str
    status: int
    payload: str | None
    first_byte_s: float | None
    total_s: float
    audio: bytes
    error: str | None = None


@contextlib.contextmanager
def serving(home: Path) -> Iterator[str]:
    """``voxclone serve`` over ``home`` in a subprocess on a free port, once it answers
    ``/health``: its ``http://127.0.0.1:PORT`` URL (the server stops on exit)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "voxclone.cli", "serve", "--port",
                               str(port)], env=dict(os.environ, VOXCLONE_HOME=str(home)))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(home: Path) -> str:
    """Register an owner, a key and a voice in ``home``; return the key."""
    os.environ["VOXCLONE_HOME"] = str(home)
    from voxclone.api import enroll_with_record
    from voxclone.consent import ConsentStore
    from voxclone.demo import load_person, speak_person
    from voxclone.registry import open_database
    from voxclone.registry.access import Access
    from voxclone.registry.voices import VoiceRegistry

    engine = open_database()
    access = Access(engine)
    owner = access.add_owner("load")
    key, _ = access.issue_key(owner.id, rate_per_minute=100_000,
                              quota_seconds_per_day=1e7)
    reference = speak_person(load_person(), " ".join(SENTENCES[:3]))
    profile, record = enroll_with_record("joe", reference, effort="stock",
                                         i_am_the_speaker=True, save=False)
    VoiceRegistry(engine).add(owner, profile, ConsentStore().sealed(record))
    return key


def client_loop(index: int, url: str, key: str, until: float, results: list[Result],
                lock: threading.Lock, sentences: int = 1) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    number = 0
    with httpx.Client(timeout=600) as http:
        while time.monotonic() < until:
            number += 1
            text = f"Client {index}, request {number}. " + " ".join(
                random.sample(SENTENCES, sentences))
            began = time.monotonic()
            first: float | None = None
            body = bytearray()
            try:
                with http.stream("POST", f"{url}/v1/audio/speech", headers=headers,
                                 json={"model": "tts-1", "voice": "joe", "input": text,
                                       "response_format": "pcm"}) as response:
                    for part in response.iter_bytes():
                        if part and first is None:
                            first = time.monotonic() - began
                        body.extend(part)
                    result = Result(index, text, response.status_code,
                                    response.headers.get("X-Voxclone-Synthesis"), first,
                                    time.monotonic() - began, bytes(body))
            except httpx.HTTPError as exc:
                result = Result(index, text, 0, None, first, time.monotonic() - began, b"",
                                error=f"{type(exc).__name__}: {exc}")
            with lock:
                results.append(result)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def check(results: list[Result], home: Path, sample: int) -> dict[str, Any]:
    """Match every response to its audit record, and a sample of audio to its watermark."""
    from voxclone.audio import Audio
    from voxclone.audit import AuditLog
    from voxclone.detection import detect
    from voxclone.registry import open_database

    log = AuditLog(open_database(f"sqlite:///{home / 'voxclone.db'}"))
    ok = [r for r in results if r.status == 200 and r.error is None]
    entries = log.entries(event="synthesis")
    by_payload = {f"{e.payload:08x}": e for e in entries}
    ended = {f"{e.payload:08x}" for e in log.entries(event="stream-end")}
    wrong_record = [r for r in ok if r.payload not in by_payload or by_payload[
        r.payload].details["text_sha256"] != hashlib.sha256(r.text.encode()).hexdigest()]
    missing = [r for r in ok if r.payload not in by_payload or r.payload not in ended]
    wrong_mark = 0
    checked = random.Random(0).sample(ok, min(sample, len(ok)))
    for r in checked:
        samples = np.frombuffer(r.audio, dtype="<i2").astype(np.float32) / 32768.0
        found = detect(Audio(samples, 24_000))
        if not found.found or f"{found.payload:08x}" != r.payload:
            wrong_mark += 1
    report = log.verify()
    return {"wrong_record": len(wrong_record), "audit_missing": len(missing),
            "watermarks_checked": len(checked), "wrong_watermark": wrong_mark,
            "audit_entries": report.entries, "audit_verify_ok": report.ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--watermark-sample", type=int, default=30)
    parser.add_argument("--sentences", type=int, default=1, choices=range(1, 6),
                        metavar="1-5", help="sentences per request (default 1): with "
                        "several, the first audio comes long before the last")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="voxclone-load-"))
    key = prepare(home)
    with serving(home) as url:
        # Warm-up: load the models before the clock starts.
        client_loop(-1, url, key, time.monotonic() + 0.1, [], threading.Lock())
        results: list[Result] = []
        lock = threading.Lock()
        started = time.monotonic()
        until = started + args.seconds
        threads = [threading.Thread(target=client_loop, args=(i, url, key, until, results,
                                                              lock, args.sentences))
                   for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

    ok = [r for r in results if r.status == 200 and r.error is None]
    errors = [r for r in results if r not in ok]
    firsts = [r.first_byte_s for r in ok if r.first_byte_s is not None]
    totals = [r.total_s for r in ok]
    audio_s = sum(len(r.audio) / 2 / 24_000 for r in ok)
    verdict = check(results, home, args.watermark_sample)
    row = {
        "clients": args.clients, "sentences": args.sentences,
        "seconds": round(elapsed, 1), "requests": len(results),
        "ok": len(ok), "errors": len(errors),
        "error_examples": sorted({r.error or str(r.status) for r in errors})[:5],
        "first_audio_median_s": round(statistics.median(firsts), 3) if firsts else None,
        "first_audio_p95_s": round(percentile(firsts, 95), 3),
        "complete_median_s": round(statistics.median(totals), 3) if totals else None,
        "complete_p95_s": round(percentile(totals, 95), 3),
        "requests_per_minute": round(len(ok) / elapsed * 60, 1),
        "audio_seconds_per_minute": round(audio_s / elapsed * 60, 1),
        **verdict,
    }
    table = "\n".join([
        "| clients | run s | requests ok / errors | first audio median / p95 s | "
        "complete median / p95 s | req/min | audio s/min | wrong audio (record / watermark)"
        " | audit missing | audit verify |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {row['clients']} | {row['seconds']} | {row['ok']} / {row['errors']} | "
        f"{row['first_audio_median_s']} / {row['first_audio_p95_s']} | "
        f"{row['complete_median_s']} / {row['complete_p95_s']} | {row['requests_per_minute']}"
        f" | {row['audio_seconds_per_minute']} | {row['wrong_record']} / "
        f"{row['wrong_watermark']} of {row['watermarks_checked']} | {row['audit_missing']} | "
        f"{'ok' if row['audit_verify_ok'] else 'FAILED'} ({row['audit_entries']} entries) |",
    ])
    header = (f"# Server load: {args.clients} concurrent clients, {args.seconds:.0f} s, "
              f"loopback\n\n{now()} · commit {git_commit()} · {machine()}\n\n"
              "Each request: POST /v1/audio/speech, pcm (streamed per sentence), "
              + ("one sentence of ~4 s of speech" if args.sentences == 1 else
                 f"{args.sentences} sentences of ~4 s of speech each")
              + ", text unique to the request. The server runs one synthesis at a time "
              "(2 cores); the others queue.\n\n")
    write_results(args.out, header + table + "\n", row)


if __name__ == "__main__":
    main()
