"""Kokoro with static int8 convolutions: the shipped model rewritten for speed.

The shipped Kokoro model quantises each convolution's input at run time
(``DynamicQuantizeLinear -> ConvInteger (uint8 x uint8) -> [bias Add] -> Cast -> Mul``).
About two thirds of its inference time is in those ``ConvInteger`` nodes. ONNX Runtime
runs a convolution with *static* scales (``QLinearConv``, uint8 x int8) about twice as
fast on an AVX2 CPU (``bench/results/static_int8.md``). :func:`rewrite` turns the
verified model into one that ONNX Runtime fuses into ``QLinearConv`` nodes:

1. each ``ConvInteger`` chain becomes a ``Conv`` with the dequantised weights and the
   fp32 bias (exactly the shipped weights);
2. each ``Conv``'s output channels are *equalised*: divided by a per-channel gain (the
   channel's peak on calibration renderings over the loudest channel's), and a ``Mul``
   after the ``Conv`` restores them. One 8-bit scale for the whole output then serves
   the quiet channels as well as the loud ones - without it the voice drifts (GE2E
   cosine 0.958 to the shipped model's rendering, against 0.993 with it);
3. ``QuantizeLinear``/``DequantizeLinear`` pairs around each ``Conv`` (QDQ format):
   uint8 activations with the calibration min/max, int8 weights per output channel
   with 7-bit magnitudes (AVX2's 16-bit pair sums cannot saturate), int32 bias. The
   shipped model's one fp32 convolution, ``conv_post`` (the STFT's log-magnitude and
   phase, which 8 bits cannot carry), stays fp32;
4. each Snake activation feeding a convolution becomes a uint8 lookup table
   (:mod:`voxclone.engines.snake_table`), whose index arithmetic is folded into the
   instance norm before it (:mod:`voxclone.engines.norm_fold`);
5. the generator's ``STFT`` becomes a strided ``Conv`` with the installed ONNX
   Runtime's own DFT weights (:mod:`voxclone.engines.stft_conv`), so the static model
   depends on the ONNX Runtime version too.

The gains and activation ranges, and the Snakes' input ranges, are learned offline on
English clone renderings (``train/int8_scales.py``) and shipped in
``data/kokoro_int8_scales.npz``, tied to the model's SHA-256; the rewrite itself needs
only the ``onnx`` package (and ONNX Runtime, for the STFT's weights) and takes seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources as resources
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from voxclone.engines.norm_fold import fold_norms
from voxclone.engines.onnx_graph import graph_index
from voxclone.engines.snake_table import find_snakes, tabulate
from voxclone.engines.stft_conv import stft_as_conv
from voxclone.errors import ModelError

logger = logging.getLogger(__name__)

SCALES_FILE = "kokoro_int8_scales.npz"
#: Version of the rewrite; a change rebuilds every cached static model.
REWRITE_VERSION = 5
#: 7-bit symmetric int8 weights ("reduce range").
_WEIGHT_Q = 64


def load_onnx() -> Any:
    """The ``onnx`` module.

    Raises:
        ModelError: it is not installed.
    """
    try:
        import onnx
    except ModuleNotFoundError as exc:
        raise ModelError("the static int8 model needs the onnx package: "
                         "pip install 'onnx>=1.16,<2'") from exc
    return onnx


@dataclass(frozen=True)
class Int8Scales:
    """What the rewrite needs beyond the model, per convolution (by its node name).

    Attributes:
        source_sha256: SHA-256 of the model these scales were learned on.
        gains: per output channel, float32 ``(channels,)`` in ``(0, 1]``.
        ranges: float64 ``(input min, input max, output min, output max)`` of the
            equalised convolution on the calibration renderings.
        snakes: per Snake activation (by its ``Sin`` node's name), float32
            ``(2, channels)``: its input's min and max per channel on the same renderings.
    """

    source_sha256: str
    gains: dict[str, np.ndarray]
    ranges: dict[str, tuple[float, float, float, float]]
    snakes: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def save(self, path: Path) -> None:
        names, snakes = sorted(self.gains), sorted(self.snakes)
        np.savez(path, source_sha256=np.str_(self.source_sha256), names=np.array(names),
                 gains=np.concatenate([self.gains[n] for n in names]).astype(np.float32),
                 counts=np.array([len(self.gains[n]) for n in names], dtype=np.int64),
                 ranges=np.array([self.ranges[n] for n in names], dtype=np.float64),
                 snake_names=np.array(snakes, dtype=np.str_),
                 snake_spans=np.concatenate([self.snakes[n] for n in snakes]
                                            or [np.zeros((2, 0))], axis=1).astype(np.float32),
                 snake_counts=np.array([self.snakes[n].shape[1] for n in snakes],
                                       dtype=np.int64))

    @classmethod
    def load(cls, source: Path | BinaryIO) -> Int8Scales:
        """Read scales written by :meth:`save` from a path or a binary file."""
        with np.load(source) as npz:
            names = [str(n) for n in npz["names"]]
            parts = np.split(npz["gains"], np.cumsum(npz["counts"])[:-1])
            ranges = [tuple(float(v) for v in row) for row in npz["ranges"]]
            snakes = {}
            if "snake_names" in npz.files and len(npz["snake_names"]):
                spans = np.split(npz["snake_spans"], np.cumsum(npz["snake_counts"])[:-1],
                                 axis=1)
                snakes = dict(zip((str(n) for n in npz["snake_names"]), spans, strict=True))
            return cls(str(npz["source_sha256"]), dict(zip(names, parts, strict=True)),
                       {n: (r[0], r[1], r[2], r[3]) for n, r in zip(names, ranges,
                                                                   strict=True)},
                       snakes)


def shipped_scales() -> tuple[Int8Scales, str]:
    """The packaged scales and the SHA-256 of their file.

    Raises:
        ModelError: the file is missing or unreadable.
    """
    path = resources.files("voxclone.engines") / "data" / SCALES_FILE
    try:
        data = path.read_bytes()
        return Int8Scales.load(io.BytesIO(data)), hashlib.sha256(data).hexdigest()
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"the static int8 scales ({SCALES_FILE}) are missing or "
                         f"damaged: reinstall voxclone ({exc})") from exc


def dequantise(model: Any) -> list[str]:
    """Turn every ``ConvInteger`` chain of ``model`` (an ``onnx.ModelProto``, changed in
    place) into an fp32 ``Conv`` of the same name; returns those names."""
    from onnx import helper, numpy_helper

    graph = model.graph
    init, producer, consumers = graph_index(graph)

    def array(name: str) -> np.ndarray:
        return np.asarray(numpy_helper.to_array(init[name]))

    swap: dict[str, Any] = {}  # the chain's final Mul -> its fp32 Conv
    for node in [n for n in graph.node if n.op_type == "ConvInteger"]:
        x = producer[node.input[0]].input[0]  # DynamicQuantizeLinear's fp32 input
        weight = array(node.input[1]).astype(np.float32) - array(node.input[3]).astype(
            np.float32)
        after = consumers[node.output[0]][0]
        inputs = [x, node.name + "_w"]
        if after.op_type == "Add":  # an int32 bias, made from the fp32 one at run time
            bias = after.name.replace("_quantizedbias_add", "")
            graph.initializer.append(numpy_helper.from_array(array(bias), node.name + "_b"))
            inputs.append(node.name + "_b")
            after = consumers[after.output[0]][0]
        mul = consumers[after.output[0]][0]  # Cast, then Mul by x_scale * w_scale
        (w_scale,) = [i for i in producer[mul.input[1]].input if i in init]
        graph.initializer.append(numpy_helper.from_array(
            (weight * array(w_scale)).astype(np.float32), node.name + "_w"))
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        swap[mul.name] = helper.make_node("Conv", inputs, [mul.output[0]], name=node.name,
                                          **attributes)
    _keep_needed(graph, [swap.get(n.name, n) for n in graph.node])
    return [conv.name for conv in swap.values()]


def _keep_needed(graph: Any, nodes: Sequence[Any]) -> None:
    """Set ``graph``'s nodes to those of ``nodes`` its outputs need (in order), and drop
    unused initializers."""
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    graph.ClearField("node")
    graph.node.extend(reversed(kept))
    used = [i for i in graph.initializer if i.name in needed]
    graph.ClearField("initializer")
    graph.initializer.extend(used)


def _channel_shape(count: int, rank: int) -> tuple[int, ...]:
    return (count,) + (1,) * (rank - 1)


def equalise(model: Any, gains: dict[str, np.ndarray]) -> None:
    """Divide each named ``Conv``'s output channels by ``gains[name]`` and restore them
    with a ``Mul`` after it (``model`` changed in place; the function is unchanged)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    init = {i.name: i for i in graph.initializer}
    nodes = []
    for node in graph.node:
        nodes.append(node)
        if node.op_type != "Conv" or node.name not in gains:
            continue
        gain = np.asarray(gains[node.name], dtype=np.float32)
        for index in (1, 2):
            if index < len(node.input):
                tensor = init[node.input[index]]
                values = np.asarray(numpy_helper.to_array(tensor))
                values = values / gain.reshape(_channel_shape(len(gain), values.ndim))
                tensor.CopyFrom(numpy_helper.from_array(values.astype(np.float32),
                                                        tensor.name))
        rank = len(numpy_helper.to_array(init[node.input[1]]).shape)
        restored = node.output[0]
        node.output[0] = node.name + "_equalised"
        graph.initializer.append(numpy_helper.from_array(
            gain.reshape((1, *_channel_shape(len(gain), rank - 1))), node.name + "_gain"))
        nodes.append(helper.make_node("Mul", [node.output[0], node.name + "_gain"],
                                      [restored], name=node.name + "_restore"))
    graph.ClearField("node")
    graph.node.extend(nodes)


def uint8_scale(low: float, high: float) -> tuple[np.float32, np.uint8]:
    """Scale and zero point of uint8 for values in ``[low, high]`` (0 always included)."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / 255.0 if high > low else 1.0
    zero = int(np.clip(np.rint(-low / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


def quantise(model: Any, ranges: dict[str, tuple[float, float, float, float]]) -> None:
    """Put QDQ pairs around each named ``Conv`` of ``model`` (changed in place): uint8
    input and output with the given ranges, 7-bit int8 weights per output channel, int32
    bias."""
    from onnx import helper, numpy_helper

    graph = model.graph
    init = {i.name: i for i in graph.initializer}
    nodes = []

    def constant(values: Any, name: str) -> str:
        graph.initializer.append(numpy_helper.from_array(np.asarray(values), name))
        return name

    def pair(tensor: str, scale: np.float32, zero: np.uint8, name: str) -> list[Any]:
        s, z = constant(scale, name + "_scale"), constant(zero, name + "_zero")
        return [helper.make_node("QuantizeLinear", [tensor, s, z], [name + "_q"],
                                 name=name + "_quantize"),
                helper.make_node("DequantizeLinear", [name + "_q", s, z], [name + "_dq"],
                                 name=name + "_dequantize")]

    for node in graph.node:
        if node.op_type != "Conv" or node.name not in ranges:
            nodes.append(node)
            continue
        in_low, in_high, out_low, out_high = ranges[node.name]
        x_scale, x_zero = uint8_scale(in_low, in_high)
        nodes.extend(pair(node.input[0], x_scale, x_zero, node.name + "_x"))
        weight = np.asarray(numpy_helper.to_array(init[node.input[1]]), dtype=np.float32)
        peak = np.abs(weight).reshape(len(weight), -1).max(axis=1)
        w_scale = np.where(peak > 0, peak / _WEIGHT_Q, 1.0).astype(np.float32)
        shape = _channel_shape(len(weight), weight.ndim)
        w_int = np.clip(np.rint(weight / w_scale.reshape(shape)), -_WEIGHT_Q, _WEIGHT_Q)
        inputs = [node.name + "_x_dq", node.name + "_w_dq"]
        nodes.append(helper.make_node(
            "DequantizeLinear", [constant(w_int.astype(np.int8), node.name + "_w_int8"),
                                 constant(w_scale, node.name + "_w_scale"),
                                 constant(np.zeros(len(weight), np.int8), node.name + "_w_zero")],
            [inputs[1]], name=node.name + "_w_dequantize", axis=0))
        if len(node.input) > 2:
            bias = np.asarray(numpy_helper.to_array(init[node.input[2]]), dtype=np.float64)
            b_scale = (np.float64(x_scale) * w_scale).astype(np.float32)
            b_int = np.rint(bias / b_scale).astype(np.int32)
            inputs.append(node.name + "_b_dq")
            nodes.append(helper.make_node(
                "DequantizeLinear", [constant(b_int, node.name + "_b_int32"),
                                     constant(b_scale, node.name + "_b_scale"),
                                     constant(np.zeros(len(bias), np.int32),
                                              node.name + "_b_zero")],
                [inputs[2]], name=node.name + "_b_dequantize", axis=0))
        output = node.output[0]
        del node.input[:]
        node.input.extend(inputs)
        node.output[0] = node.name + "_y"
        nodes.append(node)
        y_scale, y_zero = uint8_scale(out_low, out_high)
        quantize, dequantize = pair(node.output[0], y_scale, y_zero, node.name + "_y")
        dequantize.output[0] = output
        nodes.extend([quantize, dequantize])
    graph.ClearField("node")
    graph.node.extend(nodes)
    _keep_needed(graph, list(graph.node))


def rewrite(source: Path, target: Path, scales: Int8Scales) -> None:
    """Write the static int8 model of ``source`` (the verified Kokoro model) to
    ``target`` (overwritten; the caller makes it atomic).

    Raises:
        ModelError: ``onnx`` is missing, or the model and the scales do not match.
    """
    onnx = load_onnx()
    model = onnx.load(str(source))
    convs = set(dequantise(model))
    if convs != set(scales.gains) or convs != set(scales.ranges):
        raise ModelError("the static int8 scales do not match the model's convolutions; "
                         "reinstall voxclone")
    snakes = {snake.name for snake in find_snakes(model.graph)}
    if snakes != set(scales.snakes):
        raise ModelError("the static int8 scales do not match the model's Snake "
                         "activations; reinstall voxclone")
    equalise(model, scales.gains)
    quantise(model, scales.ranges)
    tabulate(model, scales.snakes)
    fold_norms(model)
    stft_as_conv(model)
    _keep_needed(model.graph, list(model.graph.node))
    onnx.save(model, str(target))
