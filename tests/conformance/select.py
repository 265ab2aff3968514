#!/usr/bin/python3
"""Select the ONNX backend tests (Debian's libonnx-testdata) that cnnc attempts.

Writes, next to this script:
  tests.txt     <suite>/<test> [--bind NAME=input_K.pb]...   (tests to run)
  excluded.txt  <suite>/<test>\t<reason>  (only supported ops, but excluded)
Tests that use an operator outside SUPPORTED appear in neither file.

Usage: /usr/bin/python3 tests/conformance/select.py [DATA_DIR]
(needs the `onnx` Python package; Debian's python3-onnx works)
"""
import collections
import os
import sys

import onnx
import onnx.numpy_helper
from onnx import TensorProto as TP

DATA = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator"]
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_OPSET = 17

ELEMENTWISE = set("""
Relu LeakyRelu PRelu Elu Selu Celu ThresholdedRelu Sigmoid HardSigmoid HardSwish
Tanh Softplus Softsign Clip Add Sub Mul Div Pow Max Min Mean Sum Neg Abs Exp Log
Sqrt Reciprocal Floor Ceil Sign Erf Cast CastLike Where Gelu Mish
Equal Greater Less GreaterOrEqual LessOrEqual And Or Xor Not""".split())
DATA_MOVEMENT = set("""
Concat Flatten Reshape Transpose Squeeze Unsqueeze Pad Dropout Identity Constant
Shape Gather Slice Split Expand Tile ConstantOfShape DepthToSpace SpaceToDepth
Range""".split())
REDUCE = set("""
ReduceMean ReduceMax ReduceSum ReduceMin ReduceProd ReduceL1 ReduceL2
ReduceSumSquare ReduceLogSum ReduceLogSumExp ArgMax ArgMin""".split())
SUPPORTED = ELEMENTWISE | DATA_MOVEMENT | REDUCE | set("""
Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool
BatchNormalization InstanceNormalization LRN Softmax LogSoftmax Gemm MatMul
Resize Upsample LayerNormalization GroupNormalization TopK""".split())

# Input slots whose *values* a static-shape compiler must know (they decide
# output shapes or the generated loop structure).  Indices past an old opset's
# input count are harmless: those opsets carried the value as an attribute.
COMPILE_TIME = {
    "Reshape": (1,), "Expand": (1,), "Tile": (1, 2), "Slice": (1, 2, 3, 4),
    "Pad": (1, 2, 3), "Split": (1,), "Squeeze": (1,), "Unsqueeze": (1,),
    "ConstantOfShape": (0,), "Resize": (1, 2, 3), "Upsample": (1,),
    "ReduceMean": (1,), "ReduceMax": (1,), "ReduceSum": (1,), "ReduceMin": (1,),
    "ReduceProd": (1,), "ReduceL1": (1,), "ReduceL2": (1,), "ReduceSumSquare": (1,),
    "ReduceLogSum": (1,), "ReduceLogSumExp": (1,),
    # Range's inputs decide its length; TopK's K its output shape
    "Range": (0, 1, 2), "TopK": (1,),
    # ratio/training_mode decide whether Dropout is an identity at all
    "Dropout": (1, 2),
}

# Element types cnnc does not implement at all.
BAD_TYPES = {TP.FLOAT16: "float16", TP.BFLOAT16: "bfloat16", TP.STRING: "string",
             TP.COMPLEX64: "complex", TP.COMPLEX128: "complex"}


def walk(graph):
    """Every node of graph, including nodes of subgraph attributes."""
    for node in graph.node:
        yield node
        for a in node.attribute:
            for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)):
                yield from walk(g)


def exclusion_reasons(model, ops, opset):
    g = model.graph
    reasons = []
    if opset > MAX_OPSET:
        reasons.append(f"opset {opset}")
    if model.functions:
        reasons.append("model-local functions")
    if g.sparse_initializer:
        reasons.append("sparse tensor")
    tensors = list(g.initializer)
    elem_types = {t.data_type for t in tensors}
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.SPARSE_TENSOR:
                reasons.append("sparse tensor")
            if a.type == onnx.AttributeProto.TENSOR:
                tensors.append(a.t)
                elem_types.add(a.t.data_type)
            if node.op_type == "Cast" and a.name == "to":
                elem_types.add(a.i)
    if any(t.data_location == TP.EXTERNAL for t in tensors):
        reasons.append("external tensor data")
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        kind = vi.type.WhichOneof("value")
        if kind != "tensor_type":
            reasons.append(f"non-tensor value ({kind})")
        else:
            elem_types.add(vi.type.tensor_type.elem_type)
    reasons += sorted({BAD_TYPES[t] for t in elem_types if t in BAD_TYPES})
    # double is implemented for the elementwise, data-movement and reduce ops only
    if TP.DOUBLE in elem_types and not ops <= ELEMENTWISE | DATA_MOVEMENT | REDUCE:
        reasons.append("float64")
    return reasons


def binds(model):
    """(name, K) for every graph input that must be bound at compile time."""
    g = model.graph
    inits = {t.name for t in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    producer = {out: n for n in g.node for out in n.output}
    # Backward closure from the compile-time slots.  Shape's output depends
    # only on the (static) input shape, so the walk stops there.
    need, todo = set(), [n.input[k] for n in g.node
                         for k in COMPILE_TIME.get(n.op_type, ())
                         if k < len(n.input) and n.input[k]]
    while todo:
        name = todo.pop()
        if name not in need:
            need.add(name)
            p = producer.get(name)
            if p is not None and p.op_type != "Shape":
                todo += [i for i in p.input if i]
    return [(i.name, k) for k, i in enumerate(inputs)
            if i.name in need or i.type.tensor_type.elem_type != TP.FLOAT]


def training_dropout_random(model, testdir):
    """Dropout in training mode with ratio > 0 draws random masks: the expected
    outputs cannot be reproduced.  Needs the bound ratio value from the data."""
    g = model.graph
    inits = {t.name for t in g.initializer}
    inputs = [i.name for i in g.input if i.name not in inits]
    for n in g.node:
        if n.op_type == "Dropout" and len(n.input) > 2 and n.input[2] in inputs:
            def value(name):
                k = inputs.index(name)
                path = f"{testdir}/test_data_set_0/input_{k}.pb"
                return onnx.numpy_helper.to_array(onnx.load_tensor(path))
            ratio = value(n.input[1]) if len(n.input) > 1 and n.input[1] else 0.5
            if value(n.input[2]) and ratio > 0:
                return True
    return False


def main():
    attempted, excluded = [], []
    per_suite = collections.defaultdict(lambda: [0, 0])
    histogram = collections.Counter()
    for suite in SUITES:
        for test in sorted(os.listdir(f"{DATA}/{suite}")):
            testdir = f"{DATA}/{suite}/{test}"
            model = onnx.load(f"{testdir}/model.onnx", load_external_data=False)
            nodes = list(walk(model.graph))
            ops = {n.op_type for n in nodes}
            # Unsupported operator (If/Loop/Scan included, and so any model
            # with subgraphs): not attempted and not listed anywhere.
            if any(n.domain not in ("", "ai.onnx") for n in nodes) or not ops <= SUPPORTED:
                continue
            opset = max([o.version for o in model.opset_import
                         if o.domain in ("", "ai.onnx")] or [1])
            reasons = exclusion_reasons(model, ops, opset)
            if not reasons and training_dropout_random(model, testdir):
                reasons.append("random output (Dropout training_mode, ratio > 0)")
            name = f"{suite}/{test}"
            if reasons:
                excluded.append(f"{name}\t{', '.join(dict.fromkeys(reasons))}")
                per_suite[suite][1] += 1
                continue
            line = name + "".join(f" --bind {n}=input_{k}.pb" for n, k in binds(model))
            attempted.append(line)
            per_suite[suite][0] += 1
            histogram.update(ops)

    with open(f"{HERE}/tests.txt", "w") as f:
        f.write("".join(l + "\n" for l in attempted))
    with open(f"{HERE}/excluded.txt", "w") as f:
        f.write("".join(l + "\n" for l in excluded))

    print(f"{'suite':20} attempted excluded")
    for suite in SUITES:
        a, e = per_suite[suite]
        print(f"{suite:20} {a:9} {e:8}")
    print(f"{'total':20} {len(attempted):9} {len(excluded):8}")
    print("\nop histogram (attempted tests using the op):")
    for op, n in sorted(histogram.items(), key=lambda x: (-x[1], x[0])):
        print(f"  {op:24} {n}")
    unused = sorted(SUPPORTED - set(histogram))
    print("\nsupported ops with no attempted test:", " ".join(unused) or "none")


if __name__ == "__main__":
    main()
