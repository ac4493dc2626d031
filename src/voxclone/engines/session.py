"""ONNX Runtime sessions for the engines: settings, and a cache of optimised models.

Loading the Kokoro model spends most of its time in graph optimisation (constant
folding, operator fusion). :func:`optimized_model` does that once, saves the result
next to the source model in the cache, and later loads start from the saved graph
(about half the load time on a 2-core machine; ``bench/results/speed.md``).

The saved graph is optimised at the *extended* level only, which is portable; the
hardware-specific layout passes run at every load. A cached file is reused while its
metadata matches (the source model's SHA-256, the ONNX Runtime version, the file's
size and modification time), and rebuilt when it does not or when ONNX Runtime
refuses to load it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxclone.atomic_file import write_text_atomic
from voxclone.errors import ModelError

logger = logging.getLogger(__name__)

#: Version of the cache metadata format; a change rebuilds every cached model.
_CACHE_FORMAT = 1


#: Environment variable capping the ONNX threads of sessions that do not set them.
THREADS_ENV = "VOXCLONE_THREADS"
#: Environment variable that, set to ``0``, makes engines run their shipped model as it
#: is instead of its static int8 rewrite (a fallback, and the speed baseline).
STATIC_INT8_ENV = "VOXCLONE_STATIC_INT8"


def default_threads() -> int:
    """``$VOXCLONE_THREADS`` if set (a positive integer), else every core."""
    value = os.environ.get(THREADS_ENV, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class SessionConfig:
    """How an engine runs its ONNX model (model configuration, not per call).

    Attributes:
        threads: intra-op threads; ``None`` = ``$VOXCLONE_THREADS`` if set (a positive
            integer; batch workers set it), else one per CPU.
        cache_optimized: save the optimised graph in the cache and load it from there.
        spin: let idle worker threads spin-wait for work. Off by default: on a busy
            machine (a server with other work, several workers) spinning threads take
            the cores the working ones need - 1.3x slower here with two other jobs
            running - and on an idle one it gained nothing measurable.
        static_int8: run the model with static int8 convolutions and Snake tables
            (Kokoro: :mod:`voxclone.engines.static_int8`; 0.42-0.46x the time of the
            shipped model, ``bench/results/static_int8.md`` and ``speed.md``). ``None`` = on unless
            ``$VOXCLONE_STATIC_INT8`` is ``0``.
    """

    threads: int | None = None
    cache_optimized: bool = True
    spin: bool = False
    static_int8: bool | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")

    @property
    def thread_count(self) -> int:
        """The number of intra-op threads this configuration asks for."""
        return self.threads or default_threads()

    @property
    def use_static_int8(self) -> bool:
        """Whether this configuration asks for the static int8 model."""
        if self.static_int8 is not None:
            return self.static_int8
        return os.environ.get(STATIC_INT8_ENV, "1").strip() != "0"


def session_options(config: SessionConfig) -> Any:
    """``onnxruntime.SessionOptions`` for ``config``: sequential execution, one inter-op
    thread, all graph optimisations."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = config.thread_count
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning",
                                     "1" if config.spin else "0")
    return options


def _metadata_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _stamp(path: Path) -> dict[str, int]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _cache_key(source_sha256: str) -> dict[str, Any]:
    import onnxruntime as ort

    return {"format": _CACHE_FORMAT, "source_sha256": source_sha256,
            "onnxruntime": ort.__version__}


def is_current(path: Path, key: dict[str, Any]) -> bool:
    """Whether the cached file ``path`` was recorded (:func:`record_current`) with ``key``
    and is unchanged since (same size and modification time)."""
    try:
        recorded = json.loads(_metadata_path(path).read_text(encoding="utf-8"))
        current = {**key, **_stamp(path)}
    except (OSError, ValueError):
        return False
    return bool(recorded == current)


def record_current(path: Path, key: dict[str, Any]) -> None:
    """Record ``key`` and ``path``'s size and modification time beside it, atomically."""
    write_text_atomic(_metadata_path(path), json.dumps({**key, **_stamp(path)}) + "\n")


def cached_optimized(source: Path, source_sha256: str) -> Path | None:
    """The optimised copy of ``source`` in its folder, if one is there and current."""
    target = source.with_name(source.stem + ".optimized.onnx")
    if not is_current(target, _cache_key(source_sha256)):
        if target.exists():
            logger.info("the optimised model cache is stale or damaged; rebuilding it")
        return None
    return target


def build_optimized(source: Path, source_sha256: str) -> Path:
    """Optimise ``source`` (a verified ONNX file) and save it beside it, atomically.

    Raises:
        ModelError: ONNX Runtime cannot load or optimise ``source``.
    """
    import onnxruntime as ort

    target = source.with_name(source.stem + ".optimized.onnx")
    fd, tmp_name = tempfile.mkstemp(dir=source.parent, prefix=".opt-", suffix=".onnx")
    os.close(fd)
    try:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = tmp_name
        try:
            ort.InferenceSession(str(source), sess_options=options,
                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"could not optimise the model {source}: {exc}") from exc
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    record_current(target, _cache_key(source_sha256))
    logger.info("saved the optimised model at %s", target)
    return target


def open_session(path: Path, config: SessionConfig) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU for the ONNX file at ``path``.

    Raises:
        ModelError: ONNX Runtime cannot load it.
    """
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), sess_options=session_options(config),
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"could not load the model from {path}: {exc}") from exc
