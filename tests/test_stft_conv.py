"""The generator's STFT as a strided convolution (voxclone.engines.stft_conv): the same
spectrum, and the same phase as ONNX Runtime's own STFT where the phase hinges on its
rounding."""

from __future__ import annotations

import numpy as np

from voxclone.engines.static_int8 import load_onnx
from voxclone.engines.stft_conv import probed_weights, stft_as_conv

N_FFT, HOP, SAMPLES = 20, 5, 4000
WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def _stft_model(with_length: bool = True):  # type: ignore[no-untyped-def]
    """signal (1, samples) -> STFT -> magnitude and phase as Kokoro's generator has them
    (its ``atan2`` made of Div, Atan and Where; the spectrum's real and imaginary parts
    come out too)."""
    onnx = load_onnx()
    from onnx import TensorProto, helper, numpy_helper

    pi = np.float32(np.pi)
    inputs = ["signal", "step", "window"] + (["length"] if with_length else [])
    nodes = [
        helper.make_node("STFT", inputs, ["spectrum"], name="stft", onesided=1),
        helper.make_node("Transpose", ["spectrum"], ["bins"], perm=[0, 2, 1, 3]),
        helper.make_node("Gather", ["bins", "zero"], ["real"], axis=3),
        helper.make_node("Gather", ["bins", "one"], ["imag"], axis=3),
        helper.make_node("Div", ["imag", "real"], ["ratio"]),
        helper.make_node("Atan", ["ratio"], ["atan"]),
        helper.make_node("Add", ["atan", "pi"], ["up"]),
        helper.make_node("Sub", ["atan", "pi"], ["down"]),
        helper.make_node("Greater", ["imag", "nought"], ["above"]),
        helper.make_node("Less", ["real", "nought"], ["left"]),
        helper.make_node("Where", ["above", "up", "down"], ["turned"]),
        helper.make_node("Where", ["left", "turned", "atan"], ["phase"]),
    ]
    initializers = [
        numpy_helper.from_array(np.array(HOP, np.int64), "step"),
        numpy_helper.from_array(WINDOW, "window"),
        numpy_helper.from_array(np.array(N_FFT, np.int64), "length"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array(1, np.int64), "one"),
        numpy_helper.from_array(pi, "pi"),
        numpy_helper.from_array(np.float32(0), "nought"),
    ]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, None])
               for name in ("real", "imag", "phase")]
    graph = helper.make_graph(
        nodes, "stft", [helper.make_tensor_value_info("signal", TensorProto.FLOAT,
                                                      [1, SAMPLES])], outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _run(model, signal: np.ndarray) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return [np.asarray(y) for y in session.run(None, {"signal": signal})]


def _signal() -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(SAMPLES) / 24_000
    # a harmonic source like Kokoro's: a sine sweep with a little noise
    tone = 0.1 * np.sin(2 * np.pi * (120 + 2000 * t) * t) + 0.003 * rng.standard_normal(SAMPLES)
    return tone[None].astype(np.float32)


def test_the_convolution_gives_the_stfts_spectrum_and_phase() -> None:
    model = _stft_model()
    signal = _signal()
    real, imag, phase = _run(model, signal)
    assert stft_as_conv(model) == 1
    ops = [n.op_type for n in model.graph.node]
    assert "STFT" not in ops and ops.count("Conv") == 1
    real2, imag2, phase2 = _run(model, signal)
    assert real2.shape == real.shape == (1, N_FFT // 2 + 1, (SAMPLES - N_FFT) // HOP + 1)
    np.testing.assert_allclose(real2, real, rtol=0, atol=2e-6)
    np.testing.assert_allclose(imag2, imag, rtol=0, atol=2e-6)
    # where the phase hinges on rounding (DC and Nyquist: +pi or -pi), it mostly follows
    # ONNX Runtime's own; an exact DFT would agree about half the time
    for k in (0, N_FFT // 2):
        flipped = np.abs(phase2[0, k] - phase[0, k]) > 1
        assert flipped.mean() < 0.05, (k, flipped.mean())
    assert np.mean(np.abs(phase2[0, 1:-1] - phase[0, 1:-1]) > 1e-3) < 1e-3


def test_probed_weights_are_a_windowed_dft_and_keep_the_stfts_rounding() -> None:
    weights = probed_weights(WINDOW, onesided=True)
    assert weights.shape == (2 * (N_FFT // 2 + 1), 1, N_FFT) and weights.dtype == np.float32
    angle = -2 * np.pi * np.outer(np.arange(N_FFT // 2 + 1), np.arange(N_FFT)) / N_FFT
    exact = np.concatenate([np.cos(angle) * WINDOW, np.sin(angle) * WINDOW])
    np.testing.assert_allclose(weights[:, 0], exact, rtol=0, atol=1e-5)
    two_sided = probed_weights(WINDOW, onesided=False)
    assert two_sided.shape == (2 * N_FFT, 1, N_FFT)


def test_an_stft_without_a_constant_window_is_left_alone() -> None:
    model = _stft_model(with_length=False)
    graph = model.graph
    # the window becomes a graph input: nothing to probe
    from onnx import TensorProto, helper

    kept = [i for i in graph.initializer if i.name != "window"]
    graph.ClearField("initializer")
    graph.initializer.extend(kept)
    graph.input.append(helper.make_tensor_value_info("window", TensorProto.FLOAT, [N_FFT]))
    before = model.SerializeToString()
    assert stft_as_conv(model) == 0
    assert model.SerializeToString() == before
