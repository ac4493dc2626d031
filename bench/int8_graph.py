"""Rewrite Kokoro's int8 ONNX graph for ``bench/static_int8.py`` (a study; not shipped).

Kokoro's int8 model quantises each convolution's input at run time
(``DynamicQuantizeLinear -> ConvInteger (uint8 x uint8) -> [bias Add] -> Cast -> Mul``).
These helpers turn that into what ONNX Runtime runs as ``QLinearConv``:

* :func:`dequantised` - every such chain becomes an fp32 ``Conv`` with the dequantised
  weights and the fp32 bias (the "fp32 copy");
* :func:`equalised` - each ``Conv``'s output channels are scaled to one peak (measured
  on calibration renderings) and a ``Mul`` after it restores them, so that one 8-bit
  scale for the whole output tensor serves quiet channels as well as loud ones;
* :func:`quantised` - ONNX Runtime's ``quantize_static`` (QDQ, per-channel 7-bit int8
  weights, so AVX2's 16-bit pair sums cannot saturate; uint8 activations with MinMax
  ranges over the calibration renderings) on every ``Conv`` but ``conv_post``, whose
  output is the STFT magnitude and phase.

Needs the ``onnx`` package (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: The vocoder's last convolution: its 22 outputs are the STFT's log-magnitude and
#: phase, which 8 bits cannot carry (quantising it alone ruins the voice).
CONV_POST = "/decoder/decoder/generator/conv_post/Conv"

Feed = dict[str, np.ndarray]


def _onnx() -> Any:
    try:
        import onnx
    except ModuleNotFoundError as exc:
        raise SystemExit("this study needs the onnx package: pip install -e '.[bench]'") \
            from exc
    return onnx


def dequantised(source: Path, target: Path) -> int:
    """Write ``source`` with every ``ConvInteger`` chain as an fp32 ``Conv``; returns how
    many were replaced."""
    onnx = _onnx()
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    init = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[Any]] = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)

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
        swap[mul.name] = helper.make_node("Conv", inputs, [mul.output[0]],
                                          name=node.name + "_f32", **attributes)
    nodes = [swap.get(n.name, n) for n in graph.node]
    _keep_needed(graph, nodes)
    onnx.save(model, str(target))
    return len(swap)


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


def channel_peaks(source: Path, feeds: Sequence[Feed]) -> dict[str, np.ndarray]:
    """Each ``Conv`` output's per-channel peak ``|y|`` over ``feeds``, by output name."""
    onnx = _onnx()
    import onnxruntime as ort

    model = onnx.load(str(source))
    convs = [n.output[0] for n in model.graph.node if n.op_type == "Conv"]
    for name in convs:
        model.graph.output.append(
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    peaks: dict[str, np.ndarray] = {}
    for feed in feeds:
        for name, y in zip(names, session.run(None, feed), strict=True):
            if name in convs:
                peak = np.max(np.abs(y), axis=(0, 2))
                peaks[name] = np.maximum(peaks.get(name, peak), peak)
    return peaks


def equalised(source: Path, target: Path, feeds: Sequence[Feed]) -> None:
    """Write ``source`` with each ``Conv``'s output channels scaled to its loudest
    channel's peak on ``feeds``, and a ``Mul`` after it restoring them."""
    onnx = _onnx()
    from onnx import helper, numpy_helper

    peaks = channel_peaks(source, feeds)
    model = onnx.load(str(source))
    graph = model.graph
    init = {i.name: i for i in graph.initializer}
    nodes = []
    for node in graph.node:
        nodes.append(node)
        if node.op_type != "Conv":
            continue
        peak = np.maximum(peaks[node.output[0]], 1e-6)
        gain = (peak / peak.max()).astype(np.float32)  # <= 1: the loudest keeps its range
        for index, shape in ((1, (-1, 1, 1)), (2, (-1,))):
            if index < len(node.input):
                name = node.input[index]
                values = np.asarray(numpy_helper.to_array(init[name])) / gain.reshape(shape)
                init[name].CopyFrom(numpy_helper.from_array(values.astype(np.float32), name))
        restored = node.output[0]
        node.output[0] = restored + "_equalised"
        graph.initializer.append(numpy_helper.from_array(gain.reshape(1, -1, 1),
                                                         node.name + "_gain"))
        nodes.append(helper.make_node("Mul", [node.output[0], node.name + "_gain"],
                                      [restored], name=node.name + "_restore"))
    graph.ClearField("node")
    graph.node.extend(nodes)
    onnx.save(model, str(target))


def quantised(source: Path, target: Path, feeds: Sequence[Feed]) -> None:
    """Write ``source`` with static QDQ int8 on every ``Conv`` but ``conv_post``."""
    _onnx()
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.rest: Iterator[Feed] = iter(feeds)

        def get_next(self) -> Feed | None:
            return next(self.rest, None)

    quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["Conv"], per_channel=True, reduce_range=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    nodes_to_exclude=[CONV_POST])
