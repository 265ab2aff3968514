#!/usr/bin/python3
"""Rewrite a TorchScript-exported model (../shared/models) into the shape of the dynamo exporter's output.

The installed torch (1.13) predates torch.onnx.export(..., dynamo=True), so this builds what that exporter
writes, with python3-onnx's helpers, from the same weights:

- opset 18, and every operator wrapped in a model-local "torchlib" function (domain pkg.onnxscript.torch_lib)
  shared by all calls, its attributes passed by the call and referenced in the body (ref_attr_name), some with
  defaults (FunctionProto.attribute_proto, written as a raw field: onnx 1.12's python classes predate it);
- one function per module instance (domain pkg.torch.__subgraph__), nested as the modules are (the module path
  comes from the TorchScript node names, /layer1/layer1.0/conv1/Conv), weights passed in as inputs;
- the aten decompositions instead of the TorchScript forms: Conv without bias followed by BatchNormalization
  (dynamo does not fold batch norm), Gemm as Transpose (aten_t) then Gemm (aten_addmm), Flatten as Reshape
  (aten_view), GlobalAveragePool as ReduceMean with an axes input (aten_mean_dim), Add as CastLike(alpha) * other
  + self (aten_add), ReLU6 as Clip with CastLike bounds (aten_hardtanh), MaxPool with its Indices output.

Simplified against the real exporter: no If nodes (torchlib's rank checks) and Concat of two inputs instead of
a sequence (SequenceConstruct, ConcatFromSequence). The numbers are the same as the original model's, so the
original's reference output checks the result.

usage: dynamo_like.py IN.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as TP, AttributeProto as AP

TORCHLIB = "pkg.onnxscript.torch_lib"
MODULES = "pkg.torch.__subgraph__"
OPSET = 18
BN_EPS = 1e-5


def ref(name, ref_name, kind):
    a = AP()
    a.name, a.ref_attr_name, a.type = name, ref_name, kind
    return a


def with_defaults(fn, defaults):
    """FunctionProto.attribute_proto (field 11, IR 9) appended as raw bytes: python-onnx 1.12 keeps it as an
    unknown field and writes it back out."""
    raw = fn.SerializeToString()
    for name, value in defaults.items():
        a = helper.make_attribute(name, value).SerializeToString()
        raw += bytes([11 << 3 | 2]) + encode_varint(len(a)) + a
    out = onnx.FunctionProto()
    out.ParseFromString(raw)
    return out


def encode_varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def torchlib_functions():
    F, I, IS = AP.FLOAT, AP.INT, AP.INTS
    opsets = [helper.make_opsetid("", OPSET)]
    fns = {}

    def fn(name, inputs, outputs, nodes, attrs, defaults=None):
        f = helper.make_function(TORCHLIB, name, inputs, outputs, nodes, opsets, attrs)
        fns[name] = with_defaults(f, defaults or {})

    conv = helper.make_node("Conv", ["input", "weight", "bias"], ["result"])
    conv.attribute.extend([ref("strides", "stride", IS), ref("pads", "padding", IS),
                           ref("dilations", "dilation", IS), ref("group", "groups", I)])
    fn("_aten_convolution_onnx", ["input", "weight", "bias"], ["result"], [conv],
       ["stride", "padding", "dilation"], {"groups": 1})

    bn = helper.make_node("BatchNormalization", ["input", "weight", "bias", "running_mean", "running_var"],
                          ["norm"], training_mode=0)
    bn.attribute.extend([ref("epsilon", "eps", F), ref("momentum", "momentum", F)])
    fn("_aten_native_batch_norm_inference_onnx", ["input", "weight", "bias", "running_mean", "running_var"],
       ["norm"], [bn], ["eps"], {"momentum": 0.9})

    fn("aten_relu", ["self"], ["result"], [helper.make_node("Relu", ["self"], ["result"])], [])

    alpha = helper.make_node("Constant", [], ["alpha_t"])
    alpha.attribute.extend([ref("value_float", "alpha", F)])
    fn("aten_add", ["self", "other"], ["result"],
       [alpha, helper.make_node("CastLike", ["alpha_t", "other"], ["alpha_c"]),
        helper.make_node("Mul", ["other", "alpha_c"], ["scaled"]),
        helper.make_node("Add", ["self", "scaled"], ["result"])], [], {"alpha": 1.0})

    lo, hi = helper.make_node("Constant", [], ["lo_t"]), helper.make_node("Constant", [], ["hi_t"])
    lo.attribute.extend([ref("value_float", "min_val", F)])
    hi.attribute.extend([ref("value_float", "max_val", F)])
    fn("aten_hardtanh", ["self"], ["result"],
       [lo, hi, helper.make_node("CastLike", ["lo_t", "self"], ["lo"]),
        helper.make_node("CastLike", ["hi_t", "self"], ["hi"]),
        helper.make_node("Clip", ["self", "lo", "hi"], ["result"])], [], {"min_val": -1.0, "max_val": 1.0})

    pool = helper.make_node("MaxPool", ["self"], ["pool", "indices"])
    pool.attribute.extend([ref("kernel_shape", "kernel_size", IS), ref("strides", "stride", IS),
                           ref("pads", "padding", IS), ref("dilations", "dilation", IS),
                           ref("ceil_mode", "ceil_mode", I)])
    fn("_aten_max_pool_with_indices_onnx", ["self"], ["pool", "indices"], [pool],
       ["kernel_size", "stride", "padding", "dilation"], {"ceil_mode": 0})

    mean = helper.make_node("ReduceMean", ["self", "dim"], ["result"])
    mean.attribute.extend([ref("keepdims", "keepdim", I)])
    fn("aten_mean_dim", ["self", "dim"], ["result"], [mean], [], {"keepdim": 0})

    fn("aten_view", ["self", "size"], ["result"], [helper.make_node("Reshape", ["self", "size"], ["result"])], [])
    fn("aten_t", ["self"], ["result"], [helper.make_node("Transpose", ["self"], ["result"], perm=[1, 0])], [])

    gemm = helper.make_node("Gemm", ["mat1", "mat2", "self"], ["result"])
    gemm.attribute.extend([ref("alpha", "alpha", F), ref("beta", "beta", F)])
    fn("aten_addmm", ["self", "mat1", "mat2"], ["result"], [gemm], [], {"alpha": 1.0, "beta": 1.0})

    softmax = helper.make_node("LogSoftmax", ["self"], ["result"])
    softmax.attribute.extend([ref("axis", "dim", I)])
    fn("aten__log_softmax", ["self"], ["result"], [softmax], ["dim"])

    cat = helper.make_node("Concat", ["a", "b"], ["result"])
    cat.attribute.extend([ref("axis", "dim", I)])
    fn("aten_cat", ["a", "b"], ["result"], [cat], ["dim"])

    fn("aten_clone", ["self"], ["result"], [helper.make_node("Identity", ["self"], ["result"])], [])
    return fns


class Rewriter:
    """Turns the original nodes into torchlib calls; tracks the constants (initializers) it adds."""

    def __init__(self, model):
        self.inits = {t.name: t for t in model.graph.initializer}
        self.new_inits = []
        self.counter = 0

    def fresh(self, base):
        self.counter += 1
        return f"{base}_{self.counter}"

    def const_ints(self, values):
        name = self.fresh("const")
        self.new_inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def const_floats(self, array):
        name = self.fresh("bn")
        self.new_inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def calls(self, node, constants):
        """The torchlib calls standing for one original node, as (node, path) pairs sharing its module path."""
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        call = lambda op, ins, outs, **attrs: helper.make_node(op, ins, outs, domain=TORCHLIB,
                                                                 name=self.fresh(op), **attrs)
        op, ins, outs = node.op_type, list(node.input), list(node.output)
        if op == "Conv":
            rank = len(self.inits[ins[1]].dims) - 2
            attrs = dict(stride=a.get("strides", [1] * rank), padding=a.get("pads", [0] * 2 * rank),
                         dilation=a.get("dilations", [1] * rank))
            if a.get("group", 1) != 1:
                attrs["groups"] = a["group"]
            if len(ins) < 3:
                return [call("_aten_convolution_onnx", ins[:2], outs, **attrs)]
            # dynamo keeps batch norm: a bias-free convolution, then BN adding the bias
            channels = self.inits[ins[1]].dims[0]
            mid = self.fresh("conv")
            bn_ins = [mid, self.const_floats(np.ones(channels)), ins[2], self.const_floats(np.zeros(channels)),
                      self.const_floats(np.full(channels, 1 - BN_EPS))]
            return [call("_aten_convolution_onnx", ins[:2] + [""], [mid], **attrs),
                    call("_aten_native_batch_norm_inference_onnx", bn_ins, outs, eps=BN_EPS)]
        if op == "Relu":
            return [call("aten_relu", ins, outs)]
        if op == "Add":
            return [call("aten_add", ins, outs)]
        if op == "Clip":
            lo, hi = (float(constants[n]) for n in ins[1:3])
            return [call("aten_hardtanh", ins[:1], outs, min_val=lo, max_val=hi)]
        if op == "MaxPool":
            rank = len(a["kernel_shape"])
            return [call("_aten_max_pool_with_indices_onnx", ins, outs + [self.fresh("indices")],
                         kernel_size=a["kernel_shape"], stride=a.get("strides", [1] * rank),
                         padding=a.get("pads", [0] * 2 * rank), dilation=a.get("dilations", [1] * rank),
                         ceil_mode=a.get("ceil_mode", 0))]
        if op == "GlobalAveragePool":
            return [call("aten_mean_dim", [ins[0], self.const_ints([-1, -2])], outs, keepdim=1)]
        if op == "Flatten":
            return [call("aten_view", [ins[0], self.const_ints([1, -1])], outs)]
        if op == "Gemm":
            assert a.get("transA", 0) == 0
            weight = ins[1]
            nodes = []
            if a.get("transB", 0):
                weight = self.fresh("t")
                nodes.append(call("aten_t", [ins[1]], [weight]))
            extra = {k: a[k] for k in ("alpha", "beta") if k in a}
            nodes.append(call("aten_addmm", [ins[2], ins[0], weight], outs, **extra))
            return nodes
        if op == "LogSoftmax":
            return [call("aten__log_softmax", ins, outs, dim=a.get("axis", -1))]
        if op == "Concat":
            assert len(ins) == 2
            return [call("aten_cat", ins, outs, dim=a["axis"])]
        if op == "Identity":
            return [call("aten_clone", ins, outs)]
        raise SystemExit(f"dynamo_like.py: no rewrite for {op}")


def module_path(node):
    parts = node.name.split("/")
    return tuple(p for p in parts[1:-1] if p) if node.name.startswith("/") else ()


def topological(entries):
    """entries: (inputs, outputs, payload); returns the payloads in an order where producers come first."""
    producer = {o: i for i, (_, outs, _) in enumerate(entries) for o in outs}
    order, state = [], {}

    def visit(i):
        if state.get(i) == 2:
            return
        assert state.get(i) != 1, "cycle between module calls"
        state[i] = 1
        for name in entries[i][0]:
            if name in producer and producer[name] != i:
                visit(producer[name])
        state[i] = 2
        order.append(entries[i][2])

    for i in range(len(entries)):
        visit(i)
    return order


def build_modules(calls, graph_inputs, graph_outputs, functions):
    """calls: (node, path) in order. Returns the top-level nodes; adds one function per module instance."""

    def build(prefix, items, needed_outside):
        entries, children = [], {}
        for node, path in items:
            if len(path) == len(prefix):
                entries.append((list(node.input), list(node.output), node))
            else:
                children.setdefault(path[len(prefix)], []).append((node, path))
        for child, sub in children.items():
            produced = {o for n, _ in sub for o in n.output}
            used = [i for n, _ in sub for i in n.input if i and i not in produced]
            inputs = list(dict.fromkeys(used))
            # outputs read by the rest of this level, by other modules, or by the graph
            inside = {id(n) for n, _ in sub}
            rest = [n for n, _ in items if id(n) not in inside]
            read_outside = {i for n in rest for i in n.input} | needed_outside
            outputs = [o for n, _ in sub for o in n.output if o in read_outside]
            body = build(prefix + (child,), sub, set(outputs))
            name = "_".join(("torch_nn_module",) + prefix + (child,)).replace(".", "_")
            functions.append(helper.make_function(MODULES, name, inputs, outputs, body,
                                                  [helper.make_opsetid("", OPSET), helper.make_opsetid(TORCHLIB, 1)],
                                                  []))
            call = helper.make_node(name, inputs, outputs, domain=MODULES, name=f"{'.'.join(prefix + (child,))}")
            entries.append((inputs, outputs, call))
        return topological(entries)

    return build((), calls, set(graph_outputs))


def main():
    src, dst = sys.argv[1], sys.argv[2]
    model = onnx.load(src)
    g = model.graph
    constants = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in g.node if n.op_type == "Constant"}
    rw = Rewriter(model)
    calls = []
    for node in g.node:
        if node.op_type == "Constant":
            continue  # folded into the calls that read them (aten_hardtanh's bounds)
        calls += [(c, module_path(node)) for c in rw.calls(node, constants)]
    functions = []
    top = build_modules(calls, [i.name for i in g.input], [o.name for o in g.output], functions)
    lib = torchlib_functions()
    used = {n.op_type for f in functions for n in f.node} | {n.op_type for n in top}
    graph = helper.make_graph(top, "main_graph", list(g.input), list(g.output), list(g.initializer) + rw.new_inits)
    out = helper.make_model(graph, producer_name="cnnc dynamo_like.py", opset_imports=[
        helper.make_opsetid("", OPSET), helper.make_opsetid(TORCHLIB, 1), helper.make_opsetid(MODULES, 1)])
    out.ir_version = 8
    out.functions.extend(functions + [f for name, f in lib.items() if name in used])
    onnx.save(out, dst)
    depth = max((len(p) for _, p in calls), default=0) + 1
    print(f"{dst}: {len(out.functions)} functions ({len(functions)} modules, nested {depth} deep), "
          f"{len(top)} top-level nodes")


if __name__ == "__main__":
    main()
