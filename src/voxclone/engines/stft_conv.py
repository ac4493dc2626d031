"""The generator's STFT as one strided convolution with ONNX Runtime's own DFT weights.

Kokoro's generator takes an STFT of its harmonic source (20-sample Hann frames, hop 5,
one-sided: 11 bins) and feeds its magnitude and phase to the noise convolutions. ONNX
Runtime's ``STFT`` runs a DFT per frame, 7-8 % of the static model's time; the same
linear map as one ``Conv`` (one output channel per bin's real or imaginary part, kernel
20, stride 5) makes the whole model take 0.90x the time.

An exact DFT there moves the voice (GE2E cosine 0.85 to the ``STFT``'s renderings):
ONNX Runtime's 20-point DFT leaves rounding of ~1e-6 in the DC and Nyquist bins'
imaginary parts, which are exactly zero in exact arithmetic, and the model's phase (an
``atan2`` made of ``Div``, ``Atan`` and ``Where``) turns each one's sign into +pi or
-pi. The voices, and every fitted style, were made with those signs. So the weights are
*probed*: the installed ONNX Runtime's ``STFT`` is run on unit impulses, and its
response - the window and the systematic part of its rounding included - becomes the
convolution. It gives the same near-zero signs for ~95 % (DC) and ~99 % (Nyquist) of
frames, and renderings at GE2E cosine 0.998 to the ``STFT``'s. The weights belong to the
ONNX Runtime version that was probed, so the static model's cache key includes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxclone.engines.onnx_graph import graph_index, splice


def probed_weights(window: np.ndarray, onesided: bool) -> np.ndarray:
    """ONNX Runtime's ``STFT`` of one frame, as convolution weights.

    Args:
        window: float32 ``(n,)``, the analysis window (its length is the frame length).
        onesided: ``n // 2 + 1`` bins if true, else ``n``.

    Returns:
        float32 ``(2 * bins, 1, n)``: channel ``k`` is bin ``k``'s real part, channel
        ``bins + k`` its imaginary part, each the response to a unit impulse at every
        position of the frame.
    """
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    n = len(window)
    node = helper.make_node("STFT", ["signal", "step", "window", "length"], ["spectrum"],
                            onesided=int(onesided))
    graph = helper.make_graph(
        [node], "stft_probe",
        [helper.make_tensor_value_info("signal", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("spectrum", TensorProto.FLOAT, None)],
        # each probe signal is one frame long, so the step is never used
        [numpy_helper.from_array(np.array(n, np.int64), "step"),
         numpy_helper.from_array(np.asarray(window, np.float32), "window"),
         numpy_helper.from_array(np.array(n, np.int64), "length")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    # a batch of n signals, each one frame long with its impulse at another position
    spectrum = session.run(None, {"signal": np.eye(n, dtype=np.float32)})[0]
    response = spectrum[:, 0]  # (position, bin, real/imag)
    weights = np.concatenate([response[:, :, 0].T, response[:, :, 1].T])
    return np.ascontiguousarray(weights[:, None, :], dtype=np.float32)


def _convertible(node: Any, init: dict[str, Any]) -> bool:
    """An ``STFT`` whose step, window and frame length (if given) are constants."""
    return (node.op_type == "STFT" and len(node.input) >= 3 and node.input[1] in init
            and node.input[2] in init
            and (len(node.input) < 4 or not node.input[3] or node.input[3] in init))


def stft_as_conv(model: Any) -> int:
    """Replace each ``STFT`` of ``model`` (an ``onnx.ModelProto``, changed in place)
    whose frame step and window are constants by a ``Conv`` with the installed ONNX
    Runtime's weights (:func:`probed_weights`), reshaped to the ``STFT``'s output
    ``(batch, frames, bins, 2)``. Returns how many were replaced.

    The signals must be real, ``(batch, length)`` or ``(batch, length, 1)``, as
    Kokoro's is (a real signal is all the probe measures). An ``STFT`` whose step or
    window is computed at run time, or whose frame length differs from its window's,
    is left as it is.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    init, _, _ = graph_index(graph)
    replacements: dict[str, list[Any]] = {}
    for node in graph.node:
        if not _convertible(node, init):
            continue
        step = int(numpy_helper.to_array(init[node.input[1]]))
        window = numpy_helper.to_array(init[node.input[2]]).astype(np.float32)
        if (len(node.input) >= 4 and node.input[3]
                and int(numpy_helper.to_array(init[node.input[3]])) != len(window)):
            continue
        if not node.name:  # the splice finds nodes by name
            node.name = node.output[0]
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        onesided = bool(attributes.get("onesided", 1))
        weights = probed_weights(window, onesided)
        bins = weights.shape[0] // 2
        stem = node.name + "_conv"
        names = [stem + s for s in ("_weights", "_in_shape", "_out_shape", "_signal",
                                    "_bins", "_planes")]
        graph.initializer.extend([
            numpy_helper.from_array(weights, names[0]),
            # (batch, length) or (batch, length, 1) -> (batch, 1, length)
            numpy_helper.from_array(np.array([0, 1, -1], np.int64), names[1]),
            numpy_helper.from_array(np.array([0, 2, bins, -1], np.int64), names[2])])
        replacements[node.name] = [
            helper.make_node("Reshape", [node.input[0], names[1]], [names[3]],
                             name=names[3]),
            helper.make_node("Conv", [names[3], names[0]], [names[4]], name=stem,
                             kernel_shape=[len(window)], strides=[step]),
            helper.make_node("Reshape", [names[4], names[2]], [names[5]], name=names[5]),
            # (batch, real/imag, bin, frame) -> (batch, frame, bin, real/imag)
            helper.make_node("Transpose", [names[5]], [node.output[0]],
                             name=stem + "_layout", perm=[0, 3, 2, 1])]
    splice(graph, set(), replacements)
    return len(replacements)
