#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets into OUT_DIR/<target>/.

  compiler   the conformance models cnnc attempts (tests/conformance/tests.txt), the shared models with their
             channel counts divided by 16 (so a seed is kilobytes, not megabytes, with the same graph), the same
             in the dynamo exporter's form (model-local functions, tests/models/dynamo_like.py), and small
             models of the opset 18-21 operators and forms
  dsl        the .cnn examples (examples/dsl/) and the code blocks of docs/dsl.md
  tensor_pb  the conformance tests' input_*.pb and output_*.pb files
  idx        IDX files of every element type, plain and gzip-compressed, and Fashion-MNIST's labels
  image      PNG (grey, RGB, RGBA, palette, 16-bit, interlaced), JPEG (baseline, progressive, subsampled, grey),
             BMP and PGM/PPM files, made with Pillow

usage: make_corpus.py OUT_DIR  (needs python3-onnx, python3-numpy, python3-pil, libonnx-testdata)
"""
import gzip
import hashlib
import io
import os
import struct
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as TP

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = "/usr/share/libonnx-testdata/data"
SHARED = os.path.join(ROOT, "..", "shared", "models")
MAX_SEED = 1 << 20


def save(out, target, data, name=None):
    if len(data) > MAX_SEED:
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def conformance_dirs():
    with open(os.path.join(ROOT, "tests", "conformance", "tests.txt")) as f:
        for line in f:
            if line.split():
                yield os.path.join(DATA, line.split()[0])


def shrink(d):
    return max(1, d // 16) if d >= 16 else d


def shrunk_model(path):
    """The model with every dimension of 16 or more divided by 16 (weights, group counts): the graph is the same,
    the seed 256 times smaller. Dims are shrunk consistently, so the seed still compiles."""
    m = onnx.load(path)
    rng = np.random.default_rng(0)
    for i, t in enumerate(m.graph.initializer):
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32:
            shape = tuple(shrink(d) for d in a.shape)
            t.CopyFrom(numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, t.name))
    for n in m.graph.node:
        for a in n.attribute:
            if a.name == "group" and a.i > 1:
                a.i = shrink(a.i)
    for vi in list(m.graph.output):
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_value"):
                d.dim_value = shrink(d.dim_value)
    return m


def opset_seeds():
    """Small models of the operators and forms of opsets 18 to 21."""
    f = TP.FLOAT
    x = helper.make_tensor_value_info("x", f, [1, 4, 6, 6])
    y = helper.make_tensor_value_info("y", f, None)

    def model(nodes, opset, inits=(), inputs=(x,), outputs=(y,)):
        g = helper.make_graph(nodes, "seed", list(inputs), list(outputs), list(inits))
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])

    ints = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
    floats = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
    yield model([helper.make_node("ReduceLogSumExp", ["x", "axes"], ["y"], keepdims=0)], 18, [ints("axes", [1, -1])])
    yield model([helper.make_node("Split", ["x"], ["y", "z"], axis=2, num_outputs=2)], 18,
                outputs=[y, helper.make_tensor_value_info("z", f, None)])
    yield model([helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"], mode="wrap")], 19,
                [ints("pads", [1, 2]), ints("axes", [3])])
    yield model([helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="cubic", antialias=1, axes=[2, 3])], 18,
                [floats("scales", [0.5, 0.7])])
    yield model([helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                                  keep_aspect_ratio_policy="not_larger",
                                  coordinate_transformation_mode="half_pixel_symmetric")], 19, [ints("sizes", [1, 4, 3, 5])])
    yield model([helper.make_node("Gelu", ["x"], ["y"], approximate="tanh")], 20)
    yield model([helper.make_node("Mish", ["x"], ["t"]), helper.make_node("LayerNormalization", ["t", "s"], ["y"], axis=2)],
                18, [floats("s", np.ones((6, 6)))])
    yield model([helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2)], 21,
                [floats("s", np.ones(4)), floats("b", np.zeros(4))])
    yield model([helper.make_node("DepthToSpace", ["x"], ["t"], blocksize=2, mode="CRD"),
                 helper.make_node("SpaceToDepth", ["t"], ["y"], blocksize=2)], 13)
    yield model([helper.make_node("TopK", ["x", "k"], ["y", "i"], axis=1, largest=0),
                 helper.make_node("ArgMax", ["x"], ["a"], axis=3, select_last_index=1)], 13, [ints("k", [2])],
                outputs=[y, helper.make_tensor_value_info("i", TP.INT64, None),
                         helper.make_tensor_value_info("a", TP.INT64, None)])
    yield model([helper.make_node("Greater", ["x", "h"], ["c"]), helper.make_node("Not", ["c"], ["n"]),
                 helper.make_node("Where", ["n", "x", "h"], ["y"])], 13, [floats("h", [0.5])])
    yield model([helper.make_node("Range", ["a", "b", "c"], ["r"]), helper.make_node("Cast", ["r"], ["y"], to=f,
                                                                                       saturate=1)],
                21, [ints("a", 0), ints("b", 10), ints("c", 3)], inputs=[])


def compiler_seeds(out):
    for d in conformance_dirs():
        with open(os.path.join(d, "model.onnx"), "rb") as f:
            save(out, "compiler", f.read())
    for m in opset_seeds():
        save(out, "compiler", m.SerializeToString())
    tmp = os.path.join(out, "tmp")
    os.makedirs(tmp, exist_ok=True)
    for name in ["lenet5", "mnist_cnn", "squeezenet1_1", "mobilenet_v2", "resnet18"]:
        path = os.path.join(SHARED, name + ".onnx")
        if not os.path.exists(path):
            continue
        small = os.path.join(tmp, name + ".onnx")
        onnx.save(shrunk_model(path), small)
        with open(small, "rb") as f:
            save(out, "compiler", f.read(), "shared_" + name)
        dynamo = os.path.join(tmp, name + "_dynamo.onnx")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "models", "dynamo_like.py"), small, dynamo],
                       check=True, stdout=subprocess.DEVNULL)
        with open(dynamo, "rb") as f:
            save(out, "compiler", f.read(), "dynamo_" + name)
        # external data naming the model file itself, the one file beside it in the fuzz target's directory
        m = onnx.load(small)
        t = m.graph.initializer[0]
        size = len(t.raw_data)
        t.ClearField("raw_data")
        t.data_location = TP.EXTERNAL
        for key, value in (("location", "model.onnx"), ("offset", "0"), ("length", str(size))):
            e = t.external_data.add()
            e.key, e.value = key, value
        save(out, "compiler", m.SerializeToString(), "external_" + name)


def dsl_seeds(out):
    examples = os.path.join(ROOT, "examples", "dsl")
    for name in sorted(os.listdir(examples)):
        if name.endswith(".cnn"):
            with open(os.path.join(examples, name), "rb") as f:
                save(out, "dsl", f.read(), "example_" + name[:-4])
    # every fenced block but the shell ones: whole files and fragments, which exercise the errors too
    with open(os.path.join(ROOT, "docs", "dsl.md")) as f:
        blocks = f.read().split("```")[1::2]
    for block in blocks:
        if not block.startswith("sh"):
            save(out, "dsl", block.lstrip("\n").encode())


def tensor_seeds(out):
    for d in conformance_dirs():
        for sub, _, files in os.walk(d):
            for name in files:
                if name.endswith(".pb"):
                    with open(os.path.join(sub, name), "rb") as f:
                        data = f.read()
                    if len(data) <= 65536:
                        save(out, "tensor_pb", data)


def idx_seeds(out):
    codes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    rng = np.random.default_rng(1)
    for code, dtype in codes.items():
        for shape in [(5,), (3, 4), (2, 3, 4), ()]:
            a = (rng.standard_normal(shape) * 50).astype(dtype)
            data = bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + a.tobytes()
            save(out, "idx", data)
            save(out, "idx", gzip.compress(data, mtime=0))
    labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
    if os.path.exists(labels):
        with open(labels, "rb") as f:
            save(out, "idx", f.read(), "fashion_mnist_labels")


def image_seeds(out):
    from PIL import Image
    rng = np.random.default_rng(2)
    rgb = Image.fromarray((rng.random((13, 17, 3)) * 255).astype(np.uint8), "RGB")
    grey = rgb.convert("L")
    variants = {
        "png_rgb": (rgb, "PNG", {}), "png_grey": (grey, "PNG", {}), "png_rgba": (rgb.convert("RGBA"), "PNG", {}),
        "png_palette": (rgb.convert("P"), "PNG", {}), "png_interlaced": (rgb, "PNG", {"interlace": 1}),
        "png_16bit": (Image.fromarray((rng.random((9, 7)) * 65535).astype(np.uint16)), "PNG", {}),
        "jpeg_baseline": (rgb, "JPEG", {"quality": 90}), "jpeg_grey": (grey, "JPEG", {}),
        "jpeg_progressive": (rgb, "JPEG", {"progressive": True}),
        "jpeg_420": (rgb, "JPEG", {"subsampling": 2}), "jpeg_444": (rgb, "JPEG", {"subsampling": 0}),
        "bmp_rgb": (rgb, "BMP", {}), "bmp_grey": (grey, "BMP", {}), "bmp_palette": (rgb.convert("P"), "BMP", {}),
        "ppm": (rgb, "PPM", {}), "pgm": (grey, "PPM", {}),
    }
    for name, (im, fmt, opts) in variants.items():
        buf = io.BytesIO()
        im.save(buf, fmt, **opts)
        save(out, "image", buf.getvalue(), name)
    # 16-bit PGM, which Pillow does not write
    a = (rng.random((5, 6)) * 1000).astype(">u2")
    save(out, "image", b"P5\n6 5\n1000\n" + a.tobytes(), "pgm_16bit")


def main():
    out = sys.argv[1]
    compiler_seeds(out)
    dsl_seeds(out)
    tensor_seeds(out)
    idx_seeds(out)
    image_seeds(out)
    for target in ["compiler", "dsl", "tensor_pb", "idx", "image"]:
        d = os.path.join(out, target)
        print(f"{target:10} {len(os.listdir(d)):5} seeds")


if __name__ == "__main__":
    main()
