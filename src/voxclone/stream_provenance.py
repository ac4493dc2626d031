"""A stream's provenance: its chunks marked and fingerprinted as they are handed out,
and its ``stream-end`` entry (what was handed out, also when it stopped early) with the
fingerprint of that audio. :mod:`voxclone.synthesis` makes the streams.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

from voxclone.audio import Audio
from voxclone.errors import AuditError
from voxclone.fingerprint import Fingerprinter, save_fingerprint
from voxclone.provenance import ArrivingText, AuditContext, SynthesisRecord
from voxclone.text.languages import detect_language
from voxclone.watermark import ChunkMarker, StreamingWatermark

logger = logging.getLogger(__name__)


class MarkedStream(Iterator[Audio]):
    """A stream's chunks (:func:`marked_chunks`), whose ``stream-end`` entry is written
    also when it is closed or dropped before its first chunk was asked for - which a
    generator alone skips (its ``finally`` never runs): a client that left before the
    body started, a caller that never iterated."""

    def __init__(self, chunks: Generator[Audio, None, None],
                 end_unstarted: Callable[[], None]) -> None:
        self._chunks = chunks
        self._end_unstarted: Callable[[], None] | None = end_unstarted

    def __next__(self) -> Audio:
        self._end_unstarted = None  # the generator logs the end from now on
        return next(self._chunks)

    def close(self) -> None:
        """Stop the stream; its ``stream-end`` entry says what was handed out."""
        end, self._end_unstarted = self._end_unstarted, None
        self._chunks.close()
        if end is not None:
            end()

    def __del__(self) -> None:
        if self._end_unstarted is not None:
            try:
                self.close()
            except Exception:  # (garbage collection: nowhere to raise to)
                logger.exception("a stream dropped unstarted could not log its end")


def marked_chunks(chunks: Iterator[Audio], watermark: StreamingWatermark,
                   ending: StreamEnding) -> Generator[Audio, None, None]:
    """The watermarked chunks, then a ``stream-end`` entry with the seconds handed out -
    also when the stream stops early: closed (a client that disconnected) or failed.

    The chunks carry one continuous mark, its symbols whole across their edges
    (:mod:`voxclone.watermark.stream`): marked one by one, short, choppy sentences lost
    a symbol at each edge and read back far less often in MP3, Opus and 3 s excerpts
    (``bench/results/watermark_streams.md``)."""
    marker: ChunkMarker | None = None
    prints: Fingerprinter | None = None
    position = 0
    rate = 0
    complete = False
    try:
        for chunk in chunks:
            rate = chunk.sample_rate
            marker = marker or watermark.stream_marker(rate, ending.record.id)
            prints = prints or Fingerprinter(rate)
            marked = marker.push(chunk.samples)
            prints.push(marked)
            position += len(marked)
            yield Audio(marked, rate)
        complete = True
    finally:
        ending.log(position / rate if rate else 0.0, complete, prints)


@dataclass(frozen=True)
class StreamEnding:
    """What a stream's ``stream-end`` entry says: the seconds handed out, whether it
    ran to its end, and for a text that arrived as it was spoken, that text's SHA-256,
    length and language."""

    record: SynthesisRecord
    context: AuditContext
    arriving: ArrivingText | None

    def log(self, seconds: float, complete: bool,
            prints: Fingerprinter | None = None) -> None:
        """Write the ``stream-end`` entry, and the fingerprint of what was handed out
        (``prints``, when any audio was). A fingerprint that cannot be stored leaves the
        entry's ``fingerprint_sha256`` None; the entry is written all the same.

        Raises:
            AuditError: the entry or the fingerprint could not be written, for a stream
                that ran to its end (one stopped early logs it instead: its own stop or
                error is what its caller sees).
        """
        details: dict[str, object] = {"seconds": round(seconds, 3), "complete": complete}
        if self.arriving is not None:
            details.update(
                text_sha256=self.arriving.sha256, characters=self.arriving.characters,
                language=self.record.language or detect_language(self.arriving.head))
        context = self.context
        failure: AuditError | None = None
        try:
            log = context.audit_log()
            if prints is not None:
                try:
                    details["fingerprint_sha256"] = save_fingerprint(
                        log.engine, self.record.id, prints.result())
                except AuditError as exc:
                    # the entry still says what was handed out; only its fingerprint is
                    # missing (verify has nothing to check it against)
                    failure = exc
                    details["fingerprint_sha256"] = None
            log.append(
                "stream-end", actor=context.actor, owner_id=context.owner_id,
                voice=self.record.voice, payload=self.record.id, details=details)
        except AuditError as exc:
            failure = exc
        if failure is None:
            return
        if complete:
            raise failure
        # The stream is already stopping (closed, or an error on its way out): that must
        # not be replaced by this one.
        logger.error("the end of stream %s (%.3f s handed out) could not be logged in "
                     "full: %s", self.record.hex_id, seconds, failure, exc_info=failure)
