"""Folding a Snake table's index arithmetic into the instance norm before it
(voxclone.engines.norm_fold): the same index, with fewer passes over the big tensor."""

from __future__ import annotations

import numpy as np

from voxclone.engines.norm_fold import fold_norms
from voxclone.engines.static_int8 import load_onnx

CHANNELS, FRAMES = 3, 50


def _norm_model(tables: int = 1, also_output: bool = False):  # type: ignore[no-untyped-def]
    """x -> instance norm -> * gamma + beta -> * per_step + zero -> index_k, as the static
    int8 model writes a Snake table's index after Kokoro's AdaIN; ``tables`` norms share
    one normalised tensor (with their own gamma and beta)."""
    onnx = load_onnx()
    from onnx import TensorProto, helper, numpy_helper

    shape, small = [1, CHANNELS, FRAMES], [1, CHANNELS, 1]
    nodes = [helper.make_node("ReduceMean", ["x"], ["mean"], axes=[2], name="mean"),
             helper.make_node("Sub", ["x", "mean"], ["centred"], name="centre"),
             helper.make_node("Mul", ["centred", "centred"], ["square"], name="square"),
             helper.make_node("ReduceMean", ["square"], ["var"], axes=[2], name="var"),
             helper.make_node("Add", ["var", "eps"], ["var_eps"], name="eps"),
             helper.make_node("Sqrt", ["var_eps"], ["std"], name="sqrt"),
             helper.make_node("Div", ["centred", "std"], ["normed"], name="divide")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)]
    outputs = []
    rng = np.random.default_rng(1)
    initializers = [numpy_helper.from_array(np.array(1e-5, np.float32), "eps")]
    for k in range(tables):
        nodes += [helper.make_node("Mul", [f"gamma{k}", "normed"], [f"scaled{k}"], name=f"g{k}"),
                  helper.make_node("Add", [f"scaled{k}", f"beta{k}"], [f"x{k}"], name=f"b{k}"),
                  helper.make_node("Mul", [f"x{k}", f"step{k}"], [f"i{k}"], name=f"s{k}"),
                  helper.make_node("Add", [f"i{k}", f"zero{k}"], [f"index{k}"], name=f"z{k}")]
        inputs += [helper.make_tensor_value_info(f"gamma{k}", TensorProto.FLOAT, small),
                   helper.make_tensor_value_info(f"beta{k}", TensorProto.FLOAT, small)]
        outputs.append(helper.make_tensor_value_info(f"index{k}", TensorProto.FLOAT, shape))
        initializers += [
            numpy_helper.from_array(rng.uniform(50, 200, small).astype(np.float32), f"step{k}"),
            numpy_helper.from_array(rng.integers(0, 1000, small).astype(np.float32) + 0.5,
                                    f"zero{k}")]
    if also_output:  # the affine's output is wanted too: it cannot be folded away
        outputs.append(helper.make_tensor_value_info("x0", TensorProto.FLOAT, shape))
    graph = helper.make_graph(nodes, "norm", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _run(model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return [np.asarray(y) for y in session.run(None, feeds)]


def _feeds(tables: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    feeds = {"x": (rng.standard_normal((1, CHANNELS, FRAMES)) * [[[0.1], [1.0], [5.0]]]
                   + [[[3.0], [-1.0], [0.0]]]).astype(np.float32)}
    for k in range(tables):
        feeds[f"gamma{k}"] = rng.uniform(0.5, 1.5, (1, CHANNELS, 1)).astype(np.float32)
        feeds[f"beta{k}"] = rng.uniform(-1, 1, (1, CHANNELS, 1)).astype(np.float32)
    return feeds


def test_a_norm_and_its_table_index_fold_into_two_passes() -> None:
    model = _norm_model()
    feeds = _feeds(1)
    (expected,) = _run(model, feeds)
    assert fold_norms(model) == 1
    (got,) = _run(model, feeds)
    # indices run to ~1,000: float rounding moves them by far less than a table step
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-3)
    ops = [n.op_type for n in model.graph.node]
    # on the (1, C, T) tensors: Sub, the square, and the fold's Mul and Add - no Div
    # in use, no gamma, beta, step or zero pass
    divide_users = [n for n in model.graph.node if "normed" in n.input]
    assert not divide_users and ops.count("Reciprocal") == 1


def test_norms_sharing_one_normalised_tensor_each_fold() -> None:
    model = _norm_model(tables=3)
    feeds = _feeds(3)
    expected = _run(model, feeds)
    assert fold_norms(model) == 3
    for got, want in zip(_run(model, feeds), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-3)


def test_a_norm_whose_output_is_used_elsewhere_is_left_alone() -> None:
    model = _norm_model(also_output=True)
    before = [n.name for n in model.graph.node]
    assert fold_norms(model) == 0
    assert [n.name for n in model.graph.node] == before
