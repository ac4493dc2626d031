"""Kokoro's decoder replayed in torch: audio as a differentiable function of the timbre.

Kokoro's style is two halves: dims 0-127 condition the decoder (timbre), dims 128-255
the prosody predictor (durations, F0, energy). With the prosody half fixed, everything
upstream of the decoder - the aligned text features, the F0 and energy curves and the
harmonic source built from F0 - does not depend on the timbre. :class:`DecoderReplay`
takes those from one ONNX Runtime pass and replays only the decoder in torch
(:class:`~voxclone.engines.torch_graph.TorchGraph`), so the gradient of anything
computed from the audio reaches the 128 timbre values.

The harmonic source is taken from the runtime rather than recomputed: its phase is
fed to the decoder as an angle, and where a bin is near zero its sign flips between
+pi and -pi under rounding differences that the decoder then hears. Fed the runtime's
source, the replay's audio embeds within 0.001 cosine of the runtime's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from voxclone.engines.kokoro import assemble_model
from voxclone.engines.snake_grad import OPS, fuse_snakes
from voxclone.engines.torch_graph import TorchGraph
from voxclone.errors import ModelError

#: The style's decoder (timbre) half: ``style[:TIMBRE_DIMS]``.
TIMBRE_DIMS = 128
#: The decoder's output rate, Hz.
SAMPLE_RATE = 24_000
_GENERATOR = "/decoder/decoder/generator/"
#: What the decoder takes from upstream: aligned text features, F0 and energy curves,
#: and the harmonic source's magnitude and phase.
BOUNDARY = ("/encoder/MatMul_1_output_0", "/encoder/Reshape_output_0",
            "/encoder/Reshape_1_output_0", _GENERATOR + "Concat_3_output_0")


@dataclass(frozen=True)
class Prepared:
    """One sentence and prosody, ready for :meth:`DecoderReplay.audio`.

    Attributes:
        feeds: the runtime's tensors at the decoder's boundary (and the graph inputs).
        prosody: the style's prosody half, float32 ``(128,)``.
        runtime_audio: the runtime's rendering of the style it was prepared with,
            float32 at 24 kHz.
    """

    feeds: dict[str, torch.Tensor]
    prosody: torch.Tensor
    runtime_audio: np.ndarray


class DecoderReplay:
    """The Kokoro int8 model's decoder in torch, fed by one runtime pass.

    Args:
        model_path: the dynamic-int8 Kokoro ONNX file (default: the verified packaged
            model, :func:`~voxclone.engines.kokoro.assemble_model`).
        threads: ONNX Runtime intra-op threads for the preparing pass.

    Raises:
        ModelError: the model is missing, fails its checksum or is not the graph this
            replay knows (its boundary tensors are absent).
    """

    def __init__(self, model_path: Path | None = None, *, threads: int = 2) -> None:
        import onnx
        import onnxruntime as ort

        path = model_path or assemble_model()
        try:
            model = onnx.load(str(path))
        except Exception as exc:  # onnx's parse errors are untyped
            raise ModelError(f"cannot read the ONNX model {path}: {exc}") from exc
        fused = onnx.ModelProto()
        fused.CopyFrom(model)
        fuse_snakes(fused)
        self.graph = TorchGraph(fused, OPS)
        produced = {o for node in model.graph.node for o in node.output}
        missing = [name for name in BOUNDARY if name not in produced]
        if missing:
            raise ModelError(f"{path} is not the Kokoro v1.0 graph the decoder replay "
                             f"expects (no {', '.join(missing)})")
        for name in BOUNDARY:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(model.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def prepare(self, ids: Sequence[int], style: np.ndarray) -> Prepared:
        """Run the runtime once for ``ids`` (Kokoro ids, without the padding zeros)
        with ``style`` (float32 ``(256,)``) and keep the decoder's inputs."""
        style = np.asarray(style, dtype=np.float32).reshape(1, 256)
        feed = {"tokens": np.array([[0, *ids, 0]], dtype=np.int64), "style": style,
                "speed": np.array([1.0], dtype=np.float32)}
        with self._lock:
            outputs = self._session.run(None, feed)
        feeds = {name: torch.from_numpy(np.asarray(value))
                 for name, value in zip(BOUNDARY, outputs[1:], strict=True)}
        feeds["tokens"] = torch.from_numpy(feed["tokens"])
        feeds["speed"] = torch.from_numpy(feed["speed"])
        return Prepared(feeds, torch.from_numpy(style[0, TIMBRE_DIMS:].copy()),
                        np.asarray(outputs[0], dtype=np.float32).reshape(-1))

    def audio(self, prepared: Prepared, timbre: torch.Tensor) -> torch.Tensor:
        """The sentence rendered with ``timbre`` (float32 ``(128,)``, may require
        grad) and the prepared prosody: float32 ``(samples,)`` at 24 kHz."""
        feeds = dict(prepared.feeds)
        feeds["style"] = torch.cat([timbre.reshape(-1), prepared.prosody]).reshape(1, 256)
        return self.graph.run(feeds, ["audio"])["audio"].reshape(-1)
