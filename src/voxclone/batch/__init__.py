"""Batch rendering of whole scripts (CSV, JSONL, SRT) on this machine or a Ray cluster.

::

    report = render_script("chapter1.csv", "out/", format="flac")   # -> BatchReport
    report.failed      # manifest entries of the lines that could not be rendered

One audio file per line (``<id>.<format>``) and ``manifest.jsonl`` (id, file, duration,
watermark payload, SHA-256, status, error); every line is watermarked and audited like
any other synthesis. Re-running the same job resumes it. Modules: :mod:`.script`
(reading scripts), :mod:`.manifest`, :mod:`.runner` (the job), :mod:`.work` (what a
worker does, fitting a line into its time), :mod:`.track` (a dub track of an SRT
script's lines at their cue times), :mod:`.executors` (in-process, local processes) and
:mod:`.ray_executor` (Ray, ``pip install 'voxclone[batch-ray]'``).
"""

from voxclone.batch.executors import (
    Executor,
    InlineExecutor,
    ProcessPoolLineExecutor,
    make_executor,
)
from voxclone.batch.manifest import MANIFEST_NAME, Manifest, ManifestEntry
from voxclone.batch.runner import (
    BATCH_FORMATS,
    BatchOptions,
    BatchReport,
    output_name,
    render_script,
)
from voxclone.batch.script import SCRIPT_FORMATS, ScriptLine, read_script
from voxclone.batch.track import Track

__all__ = [
    "BATCH_FORMATS",
    "MANIFEST_NAME",
    "SCRIPT_FORMATS",
    "BatchOptions",
    "BatchReport",
    "Executor",
    "InlineExecutor",
    "Manifest",
    "ManifestEntry",
    "ProcessPoolLineExecutor",
    "ScriptLine",
    "Track",
    "make_executor",
    "output_name",
    "read_script",
    "render_script",
]
