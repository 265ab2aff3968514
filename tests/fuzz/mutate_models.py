#!/usr/bin/python3
"""Structure-aware fuzzing of the whole cnnc pipeline, for a person to run (CI runs the short byte-level
version in tests/unit/test_mutation.c).

Takes the conformance models of tests/conformance/tests.txt, mutates what the ops read (attribute values,
input and initializer dims, input lists) towards extremes, and runs cnnc on each, sometimes through
`cnnc check` so the generated C is built and run too. A finding is any exit status other than 0 or 1, an
internal error, a sanitizer report, generated code that does not compile or crashes, or a run over 60 s.
Findings are saved to OUT_DIR. Build cnnc with sanitizers for best results:

  cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang \\
        -DCMAKE_C_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
  cmake --build build-asan --target cnnc
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \\
        tests/fuzz/mutate_models.py build-asan/cnnc --rounds 20000 --seed 1

Needs Debian's python3-onnx and libonnx-testdata. The compiler frees nothing by design, hence detect_leaks=0.
"""
import argparse
import os
import random
import subprocess
import tempfile

import onnx
from onnx import helper

DATA = '/usr/share/libonnx-testdata/data/'
EXTREMES = [0, -1, 1, 2, -2, 3, 7, 100, 2**31, -2**31, 2**40, 2**62, -2**63, 65536]
ATTRIBUTE_NAMES = ['axis', 'axes', 'pads', 'strides', 'kernel_shape', 'group', 'keepdims', 'perm', 'to', 'mode',
                   'auto_pad', 'dilations', 'ceil_mode']
STRINGS = [b'', b'foo', b'NOTSET', b'SAME_UPPER', b'VALID', b'linear', b'cubic', b'nearest']


def mutate_attribute(rng, node):
    if not node.attribute:
        value = rng.choice(EXTREMES) if rng.random() < 0.5 else [rng.choice(EXTREMES)] * rng.randint(1, 4)
        node.attribute.append(helper.make_attribute(rng.choice(ATTRIBUTE_NAMES), value))
        return
    a = rng.choice(node.attribute)
    if a.type == onnx.AttributeProto.INT:
        a.i = rng.choice(EXTREMES)
    elif a.type == onnx.AttributeProto.INTS and len(a.ints):
        a.ints[rng.randrange(len(a.ints))] = rng.choice(EXTREMES)
        if rng.random() < 0.3:
            a.ints.append(rng.choice(EXTREMES))
        if rng.random() < 0.3:
            del a.ints[-1]
    elif a.type == onnx.AttributeProto.FLOAT:
        a.f = rng.choice([0.0, -1.0, 1e30, float('nan'), float('inf')])
    elif a.type == onnx.AttributeProto.STRING:
        a.s = rng.choice(STRINGS)


def mutate(rng, graph):
    for _ in range(rng.randint(1, 3)):
        what = rng.random()
        if what < 0.5 and graph.node:
            mutate_attribute(rng, rng.choice(graph.node))
        elif what < 0.8 and (graph.input or graph.output):
            dims = rng.choice(list(graph.input) + list(graph.output)).type.tensor_type.shape.dim
            if len(dims):
                dims[rng.randrange(len(dims))].dim_value = rng.choice([0, 1, 2, 3, 1000, 2**20, 2**31])
        elif graph.initializer:
            t = rng.choice(graph.initializer)
            if len(t.dims):
                t.dims[rng.randrange(len(t.dims))] = rng.choice(EXTREMES)
        elif graph.node:
            node = rng.choice(graph.node)
            if node.input and rng.random() < 0.5:
                del node.input[-1]
            else:
                node.input.append(rng.choice([i.name for i in graph.input] + ['']))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('cnnc')
    parser.add_argument('--rounds', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out', default='fuzz-findings')
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tests = [line.split() for line in open(os.path.join(here, '..', 'conformance', 'tests.txt')) if line.strip()]
    work = tempfile.mkdtemp()
    findings = 0
    for round_ in range(args.rounds):
        entry = rng.choice(tests)
        base = DATA + entry[0]
        model = onnx.load(base + '/model.onnx')
        mutate(rng, model.graph)
        path = os.path.join(work, 'model.onnx')
        with open(path, 'wb') as f:
            f.write(model.SerializeToString())
        binds = []
        for word in entry[1:]:
            if word != '--bind':
                binds += ['--bind', word.replace('=', '=' + base + '/test_data_set_0/', 1)]
        if rng.random() < 0.15:
            command = [args.cnnc, 'check', path, base + '/test_data_set_0'] + binds
        else:
            command = [args.cnnc, path, '-o', os.path.join(work, 'out.c')] + binds
        try:
            result = subprocess.run(command, capture_output=True, timeout=60)
            err = result.stderr.decode(errors='replace')
            bad = result.returncode not in (0, 1) or any(
                s in err for s in ('internal error', 'Sanitizer', 'runtime error', 'did not compile', 'failed to run'))
            why = 'status %d: %s' % (result.returncode, ' | '.join(err.strip().split('\n')[:3]))
        except subprocess.TimeoutExpired:
            bad, why = True, 'over 60 s'
        if bad:
            findings += 1
            os.makedirs(args.out, exist_ok=True)
            keep = os.path.join(args.out, '%d_%d.onnx' % (args.seed, round_))
            with open(keep, 'wb') as f:
                f.write(model.SerializeToString())
            print('FINDING', entry[0], keep, ' '.join(command[1:2]), why, flush=True)
    print('%d rounds, %d findings' % (args.rounds, findings))
    return 1 if findings else 0


if __name__ == '__main__':
    raise SystemExit(main())
