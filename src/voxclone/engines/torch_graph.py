"""Run part of an ONNX graph with torch operators, so that gradients reach its inputs.

ONNX Runtime renders fast but gives no gradient. For the style search
(:mod:`voxclone.clone.gradient_fit`) the Kokoro decoder - the part of the graph that
turns aligned text features, F0 and energy into audio under the timbre half of the
style - is replayed here node by node in torch, with the runtime's own outputs for
everything upstream fed in as constants.

The model's dynamic int8 quantisation is replayed as the runtime does it (uint8 per
tensor, the same scale and zero point) with a straight-through gradient, so the
replayed audio matches the runtime's to rounding and the int8 biases, which are
rounded against those scales, come out the same.

Only the operators the decoder uses are implemented; another node raises
:class:`~voxclone.errors.ModelError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from voxclone.errors import ModelError

_DTYPES = {1: torch.float32, 2: torch.uint8, 3: torch.int8, 6: torch.int32, 7: torch.int64,
           9: torch.bool, 11: torch.float64}

Inputs = list[Any]
Attrs = dict[str, Any]
#: A planned node: the ONNX node, its attributes and the tensors no later node reads.
Step = tuple[Any, Attrs, tuple[str, ...]]


def _ints(value: torch.Tensor) -> list[int]:
    return [int(v) for v in value.reshape(-1).tolist()]


def _optional(inputs: Inputs, index: int) -> Any:
    return inputs[index] if len(inputs) > index else None


class TorchGraph:
    """An ONNX graph whose nodes can be run as torch operations.

    Args:
        model: the loaded ``onnx.ModelProto``; its initializers are copied into torch
            tensors, so later edits to its outputs do not change this graph.
        ops: operators beyond ONNX's, by node ``op_type`` (a fused node spliced into
            ``model``, say), each called with the node's inputs and attributes.
    """

    def __init__(self, model: Any,
                 ops: Mapping[str, Callable[[Inputs, Attrs], Any]] | None = None) -> None:
        from onnx import helper, numpy_helper

        self.ops = {**_OPS, **(ops or {})}

        self.initializers = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
                             for i in model.graph.initializer}
        self.nodes: list[tuple[Any, Attrs]] = []
        for node in model.graph.node:
            attrs = {}
            for attribute in node.attribute:
                value = helper.get_attribute_value(attribute)
                if attribute.name == "value" and node.op_type == "ConstantOfShape":
                    value = numpy_helper.to_array(value)
                attrs[attribute.name] = value.decode() if isinstance(value, bytes) else value
            self.nodes.append((node, attrs))
        self.output_names = [o.name for o in model.graph.output]
        self._plans: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Step]] = {}

    def plan(self, fed: Iterable[str], outputs: Sequence[str]) -> list[Step]:
        """The nodes (in graph order) that ``outputs`` need when the tensors named in
        ``fed`` are given, each with the tensors that no later node reads."""
        key = (tuple(sorted(fed)), tuple(outputs))
        if key in self._plans:
            return self._plans[key]
        given = set(key[0])
        producer = {o: k for k, (node, _) in enumerate(self.nodes) for o in node.output}
        keep: set[int] = set()
        stack = list(outputs)
        while stack:
            name = stack.pop()
            if name in given or name in self.initializers or name not in producer:
                continue
            k = producer[name]
            if k not in keep:
                keep.add(k)
                stack.extend(x for x in self.nodes[k][0].input if x)
        order = sorted(keep)
        last: dict[str, int] = {}
        for step, k in enumerate(order):
            for name in self.nodes[k][0].input:
                if name and name not in self.initializers:
                    last[name] = step
        done: list[list[str]] = [[] for _ in order]
        for name, step in last.items():
            if name not in key[1]:
                done[step].append(name)
        self._plans[key] = [(*self.nodes[k], tuple(done[step]))
                            for step, k in enumerate(order)]
        return self._plans[key]

    def run(self, feeds: dict[str, torch.Tensor],
            outputs: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Compute ``outputs`` (default: the graph's) from ``feeds``, which may name
        graph inputs or any intermediate tensor; gradients flow from ``outputs`` to
        every floating-point feed that requires them.

        Raises:
            ModelError: a needed node uses an operator not implemented here.
        """
        names = list(outputs or self.output_names)
        env: dict[str, Any] = dict(self.initializers)
        env.update(feeds)
        for node, attrs, done in self.plan(feeds, names):
            op = self.ops.get(node.op_type)
            if op is None:
                raise ModelError(f"the torch replay has no {node.op_type} operator "
                                 f"(node {node.name})")
            result = op([env[i] if i else None for i in node.input], attrs)
            results = result if isinstance(result, list) else [result]
            for name, value in zip(node.output, results, strict=False):
                if name:
                    env[name] = value
            # Dropped after their last reader: a tensor autograd needs is kept by its
            # graph, and the rest (a third of the decoder's peak memory) is freed early.
            for name in done:
                del env[name]
        return {n: env[n] for n in names}


def _div(i: Inputs, a: Attrs) -> torch.Tensor:
    x, y = i[0], i[1]
    if not x.is_floating_point() and not y.is_floating_point():
        return torch.div(x, y, rounding_mode="trunc")
    if y.numel() > 1:
        # 0/0 in the phase's arctangent is NaN, and a NaN poisons the gradient even
        # where a later Where discards it; the runtime's inf and this 1e20 both give pi/2.
        y = torch.where(y == 0, torch.full_like(y, 1e-20), y)
    return x / y


def _pow(i: Inputs, a: Attrs) -> torch.Tensor:
    # A constant exponent as a number: a tensor exponent makes autograd keep the
    # result as well as the base, for the exponent's gradient.
    if i[1].numel() == 1 and not i[1].requires_grad:
        return torch.pow(i[0], i[1].item())
    return torch.pow(i[0], i[1])


def _sqrt(i: Inputs, a: Attrs) -> torch.Tensor:
    # Clamped: the gradient of sqrt at 0 is infinite.
    return torch.sqrt(i[0].clamp_min(1e-20)) if i[0].is_floating_point() else torch.sqrt(i[0])


def _reshape(i: Inputs, a: Attrs) -> torch.Tensor:
    shape = [i[0].shape[k] if s == 0 else s for k, s in enumerate(_ints(i[1]))]
    return i[0].reshape(shape)


def _unsqueeze(i: Inputs, a: Attrs) -> torch.Tensor:
    x = i[0]
    axes = _ints(i[1])
    for k in sorted(k % (x.dim() + len(axes)) for k in axes):
        x = x.unsqueeze(k)
    return x


def _squeeze(i: Inputs, a: Attrs) -> torch.Tensor:
    x = i[0]
    if _optional(i, 1) is None:
        return x.squeeze()
    for k in sorted((k % x.dim() for k in _ints(i[1])), reverse=True):
        x = x.squeeze(k)
    return x


def _split(i: Inputs, a: Attrs) -> list[torch.Tensor]:
    axis = a.get("axis", 0)
    if _optional(i, 1) is not None:
        return list(torch.split(i[0], _ints(i[1]), axis))
    return list(torch.tensor_split(i[0], a["num_outputs"], axis))


def _slice(i: Inputs, a: Attrs) -> torch.Tensor:
    x = i[0]
    starts, ends = _ints(i[1]), _ints(i[2])
    axes = _ints(i[3]) if _optional(i, 3) is not None else list(range(len(starts)))
    steps = _ints(i[4]) if _optional(i, 4) is not None else [1] * len(starts)
    index = [slice(None)] * x.dim()
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        if step < 1:
            raise ModelError("the torch replay has no Slice with a negative step")
        dim = x.shape[axis]
        start = max(0, min(dim, start + dim if start < 0 else start))
        end = max(0, min(dim, end + dim if end < 0 else end))
        index[axis] = slice(start, end, step)
    return x[tuple(index)]


def _gather(i: Inputs, a: Attrs) -> torch.Tensor:
    x, index = i[0], i[1].long()
    axis = a.get("axis", 0) % x.dim()
    index = torch.where(index < 0, index + x.shape[axis], index)
    out = x.index_select(axis, index.reshape(-1))
    return out.reshape((*x.shape[:axis], *index.shape, *x.shape[axis + 1:]))


def _constant_of_shape(i: Inputs, a: Attrs) -> torch.Tensor:
    value = torch.from_numpy(np.asarray(a.get("value", np.zeros(1, np.float32))).copy())
    return torch.full(_ints(i[0]), value.item(), dtype=value.dtype)


def _scatter_nd(i: Inputs, a: Attrs) -> torch.Tensor:
    data, index, updates = i[0], i[1].long(), i[2]
    out = data.clone()
    flat = index.reshape(-1, index.shape[-1])
    out[tuple(flat.T)] = updates.reshape(flat.shape[0], *data.shape[index.shape[-1]:])
    return out


def _reduce_axes(i: Inputs, a: Attrs) -> list[int] | None:
    return _ints(i[1]) if _optional(i, 1) is not None else a.get("axes")


def _dynamic_quantize(i: Inputs, a: Attrs) -> list[torch.Tensor]:
    # As the runtime quantises (uint8, one scale per tensor), with a straight-through
    # gradient: the rounding is kept in the value and left out of the derivative.
    x = i[0]
    with torch.no_grad():
        low = torch.clamp(x.min(), max=0.0)
        high = torch.clamp(x.max(), min=0.0)
        scale = (high - low) / 255.0
        scale = torch.where(scale == 0, torch.ones_like(scale), scale)
        zero_point = torch.clamp(torch.round(-low / scale), 0, 255)
    y = x / scale + zero_point
    with torch.no_grad():
        # Out of the graph: recorded, the clamp would keep a copy of y for nothing.
        rounding = torch.clamp(torch.round(y), 0, 255) - y
    return [y + rounding, scale, zero_point]


def _zero_point(i: Inputs, k: int) -> Any:
    return i[k].float() if _optional(i, k) is not None else 0.0


def _matmul_integer(i: Inputs, a: Attrs) -> torch.Tensor:
    return torch.matmul(i[0].float() - _zero_point(i, 2), i[1].float() - _zero_point(i, 3))


def _conv_args(a: Attrs) -> dict[str, Any]:
    pads = a.get("pads", [0, 0])
    if len(pads) != 2 or pads[0] != pads[1]:
        raise ModelError(f"the torch replay has 1-d convolutions with even pads only ({pads})")
    return {"stride": a.get("strides", [1]), "padding": pads[:1],
            "dilation": a.get("dilations", [1]), "groups": a.get("group", 1)}


def _conv_integer(i: Inputs, a: Attrs) -> torch.Tensor:
    weight = i[1].float()
    zero = _zero_point(i, 3)
    if isinstance(zero, torch.Tensor) and zero.numel() > 1:
        zero = zero.reshape(-1, *([1] * (weight.dim() - 1)))
    return F.conv1d(i[0].float() - _zero_point(i, 2), weight - zero, None, **_conv_args(a))


def _conv_transpose(i: Inputs, a: Attrs) -> torch.Tensor:
    args = _conv_args(a)
    return F.conv_transpose1d(i[0], i[1], _optional(i, 2), stride=args["stride"],
                              padding=args["padding"],
                              output_padding=a.get("output_padding", [0]),
                              groups=args["groups"], dilation=args["dilation"])


def _resize(i: Inputs, a: Attrs) -> torch.Tensor:
    x = i[0]
    mode, coordinates = a.get("mode"), a.get("coordinate_transformation_mode")
    if mode == "nearest" and coordinates == "asymmetric":
        kind: dict[str, Any] = {"mode": "nearest"}
    elif mode == "linear" and coordinates == "half_pixel" and x.dim() == 3:
        kind = {"mode": "linear", "align_corners": False}
    else:
        raise ModelError(f"the torch replay has no Resize in mode {mode}/{coordinates}")
    if _optional(i, 3) is not None:
        return F.interpolate(x, size=_ints(i[3])[2:], **kind)
    return F.interpolate(x, scale_factor=i[2].tolist()[2:], **kind)


def _pad(i: Inputs, a: Attrs) -> torch.Tensor:
    x, pads = i[0], _ints(i[1])
    begins, ends = pads[:x.dim()], pads[x.dim():]
    torch_pads: list[int] = []
    for k in reversed(range(x.dim())):
        torch_pads += [begins[k], ends[k]]
    while len(torch_pads) > 2 and torch_pads[-2:] == [0, 0]:
        torch_pads = torch_pads[:-2]
    mode = a.get("mode", "constant")
    if mode == "constant":
        value = float(i[2].item()) if _optional(i, 2) is not None else 0.0
        return F.pad(x, torch_pads, value=value)
    return F.pad(x, torch_pads, mode=mode)


_OPS: dict[str, Callable[[Inputs, Attrs], Any]] = {
    "Add": lambda i, a: i[0] + i[1],
    "Sub": lambda i, a: i[0] - i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Div": _div,
    "Pow": _pow,
    "Sqrt": _sqrt,
    "Sin": lambda i, a: torch.sin(i[0]),
    "Cos": lambda i, a: torch.cos(i[0]),
    "Exp": lambda i, a: torch.exp(i[0]),
    "Floor": lambda i, a: torch.floor(i[0]),
    "LeakyRelu": lambda i, a: F.leaky_relu(i[0], a.get("alpha", 0.01)),
    "Equal": lambda i, a: i[0] == i[1],
    "Greater": lambda i, a: i[0] > i[1],
    "Where": lambda i, a: torch.where(i[0], i[1], i[2]),
    "Cast": lambda i, a: i[0].to(_DTYPES[a["to"]]),
    "Shape": lambda i, a: torch.tensor(list(i[0].shape)[a.get("start", 0):a.get("end")]),
    "Reshape": _reshape,
    "Transpose": lambda i, a: i[0].permute(a["perm"]),
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": lambda i, a: torch.cat([t for t in i if t is not None], a["axis"]),
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "Expand": lambda i, a: i[0].expand(torch.broadcast_shapes(i[0].shape,
                                                              tuple(_ints(i[1])))),
    "ConstantOfShape": _constant_of_shape,
    "Range": lambda i, a: torch.arange(i[0].item(), i[1].item(), i[2].item(),
                                       dtype=i[0].dtype),
    "NonZero": lambda i, a: torch.stack(torch.nonzero(i[0], as_tuple=True)),
    "ScatterND": _scatter_nd,
    "ReduceMean": lambda i, a: i[0].mean(dim=_reduce_axes(i, a),
                                         keepdim=bool(a.get("keepdims", 1))),
    "DynamicQuantizeLinear": _dynamic_quantize,
    "MatMulInteger": _matmul_integer,
    "ConvInteger": _conv_integer,
    "Conv": lambda i, a: F.conv1d(i[0], i[1], _optional(i, 2), **_conv_args(a)),
    "ConvTranspose": _conv_transpose,
    "Resize": _resize,
    "Pad": _pad,
}
