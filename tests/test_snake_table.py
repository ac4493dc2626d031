"""Snake activations as lookup tables (voxclone.engines.snake_table): the table gives the
Snake's own values, and only Snakes feeding a quantised input are swapped."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.engines.snake_table import LEVELS, find_snakes, tabulate
from voxclone.engines.static_int8 import load_onnx
from voxclone.errors import ModelError

CHANNELS, FRAMES = 4, 400
ALPHA = np.array([0.2, 0.7, 1.3, 1.6], np.float32)
OUT_SCALE, OUT_ZERO = 0.04, 100


def _snake_model(extra_user: bool = False):  # type: ignore[no-untyped-def]
    """x -> Snake -> QuantizeLinear(uint8) -> y, as Kokoro's export writes a Snake."""
    onnx = load_onnx()
    from onnx import TensorProto, helper, numpy_helper

    shape = [1, CHANNELS, FRAMES]
    alpha = ALPHA.reshape(1, CHANNELS, 1)
    nodes = [helper.make_node("Mul", ["alpha", "x"], ["ax"], name="mul"),
             helper.make_node("Sin", ["ax"], ["s"], name="sin"),
             helper.make_node("Pow", ["s", "two"], ["s2"], name="pow"),
             helper.make_node("Mul", ["inverse", "s2"], ["t"], name="div"),
             helper.make_node("Add", ["x", "t"], ["snake"], name="add"),
             helper.make_node("QuantizeLinear", ["snake", "y_scale", "y_zero"], ["y"],
                              name="quantize")]
    outputs = [helper.make_tensor_value_info("y", TensorProto.UINT8, shape)]
    if extra_user:  # the Snake's float output is also wanted elsewhere: keep it
        outputs.append(helper.make_tensor_value_info("snake", TensorProto.FLOAT, shape))
    initializers = [numpy_helper.from_array(v, n) for n, v in (
        ("alpha", alpha), ("inverse", (1 / alpha).astype(np.float32)),
        ("two", np.array(2.0, np.float32)), ("y_scale", np.array(OUT_SCALE, np.float32)),
        ("y_zero", np.array(OUT_ZERO, np.uint8)))]
    graph = helper.make_graph(nodes, "snake",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _run(model, x: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["y"], {"x": x})[0])


def test_a_snake_becomes_a_table_with_the_same_values() -> None:
    model = _snake_model()
    (snake,) = find_snakes(model.graph)
    assert snake.name == "sin" and snake.x == "x"
    np.testing.assert_allclose(snake.alpha, ALPHA, rtol=1e-6)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1, CHANNELS, FRAMES)) * [[[0.5], [1.0], [2.0], [3.0]]]
         ).astype(np.float32)
    span = np.stack([x.min(axis=(0, 2)), x.max(axis=(0, 2))])
    expected = _run(model, x)
    assert tabulate(model, {"sin": span}) == 1
    ops = [n.op_type for n in model.graph.node]
    assert "Sin" not in ops and ops[-1] == "GatherElements"
    got = _run(model, x)
    # The input is quantised to LEVELS steps per channel: at most half a step of error,
    # which the Snake (slope 0-2) passes on as at most one step; 1 more output level
    # for the rounding of the output.
    in_step = (span[1] - np.minimum(span[0], 0)) / (LEVELS - 1)
    allowed = np.ceil(in_step / OUT_SCALE).reshape(1, -1, 1) + 1
    difference = np.abs(got.astype(int) - expected.astype(int))
    assert np.all(difference <= allowed)
    assert np.mean(difference == 0) > 0.9


def test_a_snake_whose_output_is_used_elsewhere_stays_and_missing_ranges_are_refused(
) -> None:
    kept = _snake_model(extra_user=True)
    assert tabulate(kept, {}) == 0
    assert "Sin" in [n.op_type for n in kept.graph.node]
    with pytest.raises(ModelError, match="no calibrated range"):
        tabulate(_snake_model(), {"sin": np.zeros((2, CHANNELS + 1))})
