"""Running a batch job: a script in, one watermarked audio file per line and a manifest out.

The driver (this module) reads the script, checks each voice once (profile and consent
record), skips the lines an earlier run finished, hands the others to an executor, and
writes each returned file (atomically) and its manifest entry (appended durably) as it
arrives. So a killed job loses at most the lines in flight, and running it again
renders only what is missing, changed or broken.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from voxclone.audio.encoding import write_encoded
from voxclone.audit import local_actor
from voxclone.batch.executors import Executor, make_executor
from voxclone.batch.manifest import FAILED, MANIFEST_NAME, OK, Manifest, ManifestEntry
from voxclone.batch.outdir import check_same_script, dropped_files, exclusive, remove_leftovers
from voxclone.batch.script import STDIN_NAME, STDIN_PATH, ScriptLine, read_script, script_name
from voxclone.batch.track import Track, check_placeable, write_track
from voxclone.batch.work import LineJob, LineResult
from voxclone.clone.profile import VoiceProfile
from voxclone.consent.voice_seal import speakable
from voxclone.digest import file_sha256
from voxclone.errors import AuditError, BatchError, VoxcloneError
from voxclone.progress import count_bar

logger = logging.getLogger(__name__)

#: Audio formats a batch job writes (one file per line, named ``<id>.<format>``).
BATCH_FORMATS = ("wav", "flac", "mp3", "ogg", "opus")


def batch_actor() -> str:
    """The audit log's actor for batch jobs: ``batch:`` and the OS user."""
    return "batch:" + local_actor().partition(":")[2]


@dataclass(frozen=True)
class BatchOptions:
    """How to run a job (see :func:`render_script` for the meaning of each field)."""

    format: str = "wav"
    workers: int | None = None
    ray: str | None = None
    voices_dir: str | os.PathLike[str] | None = None
    default_voice: str | None = None
    script_format: str | None = None
    actor: str = field(default_factory=batch_actor)
    fit_cues: bool = False

    def __post_init__(self) -> None:
        if self.format not in BATCH_FORMATS:
            raise ValueError(f"unknown batch output format {self.format!r}; use one of "
                             f"{', '.join(BATCH_FORMATS)}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")


@dataclass(frozen=True)
class BatchReport:
    """The outcome of a job.

    Attributes:
        outdir: the output directory.
        manifest: the manifest file (``outdir/manifest.jsonl``).
        entries: one manifest entry per script line, in script order.
        rendered: lines rendered by this run.
        skipped: lines an earlier run had finished (file present, checksum matching).
        seconds: wall time of the run.
        executor: what rendered the lines.
        track: the dub track written, when one was asked for.
    """

    outdir: Path
    manifest: Path
    entries: tuple[ManifestEntry, ...]
    rendered: int
    skipped: int
    seconds: float
    executor: str
    track: Track | None = None

    @property
    def failed(self) -> tuple[ManifestEntry, ...]:
        """Entries of the lines that could not be rendered, with their ``error``."""
        return tuple(e for e in self.entries if not e.ok)

    @property
    def ok(self) -> bool:
        """True when every line has its audio file."""
        return not self.failed

    @property
    def audio_seconds(self) -> float:
        return float(sum(e.duration or 0.0 for e in self.entries if e.ok))


@dataclass(frozen=True)
class _Voice:
    profile: VoiceProfile | None
    digest: str = ""
    error: str | None = None


def output_name(line_id: str, format: str) -> str:
    """The output file of the line ``line_id``: ``<id>.<format>``."""
    return f"{line_id}.{format}"


def request_digest(voice_digest: str, line: ScriptLine, format: str) -> str:
    """SHA-256 of what a line asks for: the voice profile's checksum, text, speed, format,
    and language and seconds (when given: digests of older manifests stay valid)."""
    request: list[object] = [voice_digest, line.text, line.speed, format]
    if line.language:
        request.append(line.language)
    if line.seconds is not None:
        request.append({"seconds": line.seconds})
    body = json.dumps(request, ensure_ascii=True)
    return hashlib.sha256(body.encode()).hexdigest()


def render_script(
    script: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    *,
    format: str = "wav",
    workers: int | None = None,
    ray: str | None = None,
    voices_dir: str | os.PathLike[str] | None = None,
    default_voice: str | None = None,
    script_format: str | None = None,
    actor: str | None = None,
    executor: Executor | None = None,
    progress: bool = False,
    fit_cues: bool = False,
    track: str | os.PathLike[str] | None = None,
) -> BatchReport:
    """Render every line of ``script`` into ``outdir``: ``<id>.<format>`` files and
    ``manifest.jsonl`` (see :mod:`voxclone.batch.manifest`).

    Every line is synthesised through :func:`voxclone.synthesis.render`: watermarked,
    and written to the audit log as a ``synthesis`` by ``actor`` (default
    ``batch:USER``). A line whose file from an earlier run is present and matches the
    manifest's checksum (and whose voice, text, speed and format are unchanged) is
    skipped; a missing, damaged or changed one is rendered again.

    One run at a time writes into ``outdir``, and only one script's output lives there:
    a run while another is writing there, or a run of another script that would
    overwrite or leave out files of the first, is refused (:mod:`voxclone.batch.outdir`).
    Temporary files a killed run left behind are removed; nothing else in ``outdir`` is.

    Bad lines - empty text, bad speed, unknown or damaged voice, a voice without a valid
    consent record, text with nothing to pronounce - get a ``failed`` manifest entry with
    the reason and do not stop the job: check ``report.failed``.

    Args:
        script: a CSV, JSONL or SRT file (:mod:`voxclone.batch.script`); ``-`` reads
            it from standard input (``script_format`` required).
        outdir: output directory, created if needed.
        format: ``wav``, ``flac``, ``mp3`` or ``ogg``.
        workers: worker processes (default one per core; 1 renders in this process) or,
            with ``ray``, Ray actors (default one per cluster CPU).
        ray: a Ray address, ``auto`` or ``local`` to render on Ray
            (:class:`~voxclone.batch.ray_executor.RayExecutor`).
        voices_dir: where the voices are (default ``$VOXCLONE_HOME/voices``).
        default_voice: the voice of SRT cues that do not name one.
        script_format: ``csv``, ``jsonl`` or ``srt`` (default: from the extension).
        actor: who asks, for the audit log.
        executor: renders the lines (overrides ``workers`` and ``ray``).
        progress: show a progress bar (lines/s, time left) on stderr.
        fit_cues: each SRT cue's speech must fit its timing (the line's ``seconds``, as a
            CSV or JSONL line may give): a line that speaks longer is rendered faster, up
            to speed 2.0; one that overruns even so is kept, with a ``warning`` in its
            manifest entry (:func:`voxclone.batch.work.render_line`).
        track: also write the lines of an SRT script into this one file, each at its
            cue's start (:mod:`voxclone.batch.track`; wav, flac, mp3, ogg or opus by its
            extension), rebuilt from the lines' files on every run.

    Raises:
        ScriptError: the script is unreadable or malformed (nothing is rendered).
        BatchError: the output directory or manifest cannot be written, another run is
            writing there, it holds another script's output, a worker died, or Ray is
            missing or unreachable (finished lines stay done).
        AudioError: an audio file cannot be written (full disk, permissions).
        AuditError: the audit log cannot be written (the job stops).
        ValueError: unknown ``format`` or ``workers`` below 1.
    """
    options = BatchOptions(format=format, workers=workers, ray=ray, voices_dir=voices_dir,
                           default_voice=default_voice, script_format=script_format,
                           actor=actor or batch_actor(), fit_cues=fit_cues)
    lines = read_script(script, format=options.script_format,
                        default_voice=options.default_voice, fit_cues=options.fit_cues)
    if track is not None:
        if os.fspath(track) == "-":
            raise BatchError("the dub track is a file: give its path (standard output, "
                             "'-', cannot hold it)")
        check_placeable(lines, script_name(script))
    out = Path(outdir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create the output directory {out}: {exc}") from exc
    runner = executor or make_executor(options.workers, options.ray)
    # (the manifest's name of the script: a script piped in has no path)
    source = STDIN_NAME if os.fspath(script) == STDIN_PATH else str(Path(script).resolve())
    report = _Job(lines, out, options, source).run(runner, progress)
    if track is None:
        return report
    return replace(report, track=write_track(lines, report.entries, out, track))


class _Job:
    """One run of a script: what to skip, what to render, and the bookkeeping."""

    def __init__(self, lines: list[ScriptLine], out: Path, options: BatchOptions,
                 script: str) -> None:
        self.lines = lines
        self.out = out
        self.options = options
        self.script = script
        self.manifest = Manifest(out)
        self.done: dict[str, ManifestEntry] = {}
        self.requests: dict[str, str] = {}

    def run(self, executor: Executor, progress: bool) -> BatchReport:
        started = time.monotonic()
        had_manifest = self.manifest.path.exists()
        with exclusive(self.manifest.path):
            return self._run(executor, progress, started, had_manifest)

    def _run(self, executor: Executor, progress: bool, started: float,
             had_manifest: bool) -> BatchReport:
        previous = self.manifest.read()
        voices = _check_voices({line.voice for line in self.lines if line.problem is None},
                               self.options.voices_dir)
        by_id = {line.id: line for line in self.lines}
        jobs, failures, skipped = self._plan(previous, voices)
        check_same_script(self.manifest.path, previous, self.script, self.requests)
        if had_manifest:  # only a directory this job wrote into before
            self._remove_leftovers(previous)
        dropped = dropped_files(previous, by_id)
        if dropped:
            logger.warning("%d lines of an earlier run are no longer in the script; their "
                           "files stay in %s but leave the manifest: %s", len(dropped),
                           self.out, ", ".join(dropped[:10]) + (" ..." if len(dropped) > 10
                                                                else ""))
        logger.info("batch: %d lines: %d to render, %d already done, %d bad",
                    len(self.lines), len(jobs), skipped, len(failures))
        rendered = 0
        with self.manifest:
            for entry in failures:
                self._record(entry)
            # (the bar counts the lines rendered now, not the bad or already done ones)
            with count_bar(f"batch: {len(jobs)} of {len(self.lines)} lines to render",
                           len(jobs), "line", progress and bool(jobs)) as advance:
                results = executor.run(jobs)
                try:
                    for result in results:
                        entry = self._entry(result, by_id[result.id])
                        self._record(entry)
                        rendered += entry.ok
                        if advance is not None:
                            advance()
                        if result.fatal:
                            raise AuditError(result.error or "the audit log cannot be written")
                finally:
                    results.close()
        entries = tuple(self.done[line.id] for line in self.lines)
        self.manifest.rewrite(entries)
        report = BatchReport(outdir=self.out, manifest=self.manifest.path, entries=entries,
                             rendered=rendered, skipped=skipped,
                             seconds=time.monotonic() - started,
                             executor=executor.description)
        logger.info("batch: %d rendered, %d skipped, %d failed in %.1f s",
                    report.rendered, report.skipped, len(report.failed), report.seconds)
        return report

    def _remove_leftovers(self, previous: dict[str, ManifestEntry]) -> None:
        """Delete the temporary files a killed run of this job was writing (its audio
        files' and the manifest's, in any batch format: see :mod:`.outdir`)."""
        ids = {line.id for line in self.lines} | set(previous)
        names = {output_name(i, fmt) for i in ids for fmt in BATCH_FORMATS}
        remove_leftovers(self.out, names, MANIFEST_NAME)

    def _plan(self, previous: dict[str, ManifestEntry], voices: dict[str, _Voice]
              ) -> tuple[list[LineJob], list[ManifestEntry], int]:
        jobs: list[LineJob] = []
        failures: list[ManifestEntry] = []
        skipped = 0
        for line in self.lines:
            voice = voices.get(line.voice)
            problem = line.problem or (voice.error if voice else None)
            if problem is not None or voice is None or voice.profile is None:
                failures.append(_failed(line, problem or "unknown voice", self.script))
                continue
            request = request_digest(voice.digest, line, self.options.format)
            self.requests[line.id] = request
            old = previous.get(line.id)
            if old is not None and self._finished(old, line, request):
                self.done[line.id] = (old if old.script == self.script
                                      else replace(old, script=self.script))
                skipped += 1
                continue
            jobs.append(LineJob(id=line.id, text=line.text, voice=voice.profile,
                                speed=line.speed, language=line.language,
                                format=self.options.format,
                                actor=self.options.actor, seconds=line.seconds))
        return jobs, failures, skipped

    def _finished(self, old: ManifestEntry, line: ScriptLine, request: str) -> bool:
        name = output_name(line.id, self.options.format)
        if not old.ok or old.request != request or old.file != name:
            return False
        try:
            same = file_sha256(self.out / name) == old.sha256
        except OSError:
            same = False
        if not same:
            logger.info("line %s: %s is missing or damaged; rendering it again", line.id, name)
        return same

    def _entry(self, result: LineResult, line: ScriptLine) -> ManifestEntry:
        request = self.requests[line.id]
        if result.error is not None or result.data is None:
            return _failed(line, result.error or "no audio", self.script, request)
        name = output_name(line.id, self.options.format)
        write_encoded(result.data, self.out / name)
        if result.warning:
            logger.info("line %d (id %s) %s", line.line, line.id, result.warning)
        return ManifestEntry(id=line.id, line=line.line, status=OK, voice=line.voice,
                             file=name, duration=result.duration,
                             payload=f"{result.payload or 0:08x}",
                             sha256=hashlib.sha256(result.data).hexdigest(), request=request,
                             script=self.script, speed=result.speed, warning=result.warning)

    def _record(self, entry: ManifestEntry) -> None:
        self.manifest.append(entry)
        self.done[entry.id] = entry
        if not entry.ok:
            logger.info("line %d (id %s) failed: %s", entry.line, entry.id, entry.error)


def _failed(line: ScriptLine, error: str, script: str,
            request: str | None = None) -> ManifestEntry:
    return ManifestEntry(id=line.id, line=line.line, status=FAILED, voice=line.voice,
                         error=error, request=request, script=script)


def _check_voices(names: Iterable[str], voices_dir: str | os.PathLike[str] | None
                  ) -> dict[str, _Voice]:
    """Each voice's profile, or why it cannot be used (missing, damaged, no consent
    record vouching for it, a seal that fails or was revoked: as synthesis checks)."""
    voices: dict[str, _Voice] = {}
    for name in sorted(names):
        try:
            profile = speakable(name, voices_dir)
        except (VoxcloneError, ValueError) as exc:
            voices[name] = _Voice(None, error=str(exc))
            continue
        voices[name] = _Voice(profile, digest=str(profile.to_json()["sha256"]))
    return voices
