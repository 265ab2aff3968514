#!/usr/bin/python3
"""Trains a small network in PyTorch and with cnnc's training code, from the same weights on the same batches,
and compares them: the loss and every gradient of every step, the parameters and running statistics after the
last step, and the eval-mode output after it, each within 1e-4 * max(1, max |ref|).

usage: torch_compare.py CNNC DRIVER_C WORKDIR MODEL OPTIMIZER
       torch_compare.py CNNC DRIVER_C WORKDIR FILE.cnn file

MODEL is one of the networks below, exported to ONNX by PyTorch in training mode; OPTIMIZER one of OPTIMIZERS,
given to cnnc as the same flags. A .cnn file (examples/dsl) is compiled as it is, with its train section's
loss, optimizer and batch: the PyTorch twin in DSL_TWINS, written independently of the file, takes its initial
weights from the file (through --emit=onnx) and trains with the optimizer the twin names. The C compiler is $CC
(default cc). Exit status 0 when everything agrees."""
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

STEPS = 4
BATCH = 8
TOLERANCE = 1e-4
# The DSL examples are full-size: each weight gradient of resnet_fmnist.cnn sums 128 x 28 x 28 products, where
# float rounding alone (PyTorch's as much as cnnc's) reaches 1e-4 after a few steps.
DSL_TOLERANCE = 1e-3


class Residual(nn.Module):
    """A ResNet basic block: two 3x3 conv + BN, the skip added before the last ReLU; with stride, a 1x1
    projection on the skip."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = None
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.skip is None else self.skip(x)))


class Fire(nn.Module):
    """SqueezeNet's fire module: a 1x1 squeeze, then 1x1 and 3x3 expands concatenated."""

    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        s = torch.relu(self.squeeze(x))
        return torch.relu(torch.cat([self.expand1(s), self.expand3(s)], 1))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)), (1, 28, 28)


def conv_bn():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, dilation=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 10)), (3, 12, 12)


def residual():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        Residual(8, 8, 1), Residual(8, 16, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)), (3, 12, 12)


def depthwise():
    """MobileNetV2's inverted residual without the skip: expand, depthwise (stride 2, dilation on the second),
    project, with ReLU6 (Clip)."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
        nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4), nn.ReLU6(),
        nn.Conv2d(16, 8, 1, bias=False), nn.BatchNorm2d(8),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)), (3, 12, 12)


def concat():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), Fire(8, 4, 6), nn.AvgPool2d(2),
        Fire(12, 4, 4), nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 10)), (3, 12, 12)


def dense():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(48, 32), nn.Tanh(), nn.Linear(32, 24), nn.Sigmoid(),
        nn.Linear(24, 16), nn.LeakyReLU(0.1), nn.Linear(16, 16), nn.Hardswish(), nn.Linear(16, 10)), (3, 4, 4)


def dense_log_softmax():
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(1)), (3, 4, 4)


def dense_mse():
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.Tanh(), nn.Linear(16, 5)), (3, 4, 4)


class MaskedConv(nn.Conv2d):
    """A convolution whose weights are multiplied by a constant 0/1 mask: LeNet-5's C3 layer."""

    def __init__(self, cin, cout, kernel, table):
        super().__init__(cin, cout, kernel)
        mask = torch.zeros(cout, cin, kernel, kernel)
        for m, seen in enumerate(table):
            mask[m, seen] = 1
        self.register_buffer('mask', mask, persistent=False)

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


# Table I of LeCun et al. 1998: the S2 maps each C3 map sees
C3_TABLE = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5], [0, 1, 2, 3], [1, 2, 3, 4],
            [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
            [0, 1, 2, 3, 4, 5]]


def dsl_lenet5():
    return lenet()[0], lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)


def dsl_lenet5_c3():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2), nn.Tanh(),
        MaskedConv(6, 16, 5, C3_TABLE), nn.Tanh(), nn.AvgPool2d(2), nn.Tanh(),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10)), lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)


class Stage(nn.Module):
    """resnet_fmnist.cnn's stages 2 and 3: two 3x3 convolutions, the first with stride 2, and a 1x1 projection
    with stride 2 on the skip, each followed by BatchNorm (in the file's order)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = nn.Conv2d(cin, cout, 1, 2, bias=False)
        self.skip_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + self.skip_bn(self.skip(x)))


class ResnetFmnist(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                                   nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16))
        self.stage2 = Stage(16, 32)
        self.stage3 = Stage(32, 64)
        self.dense = nn.Linear(64, 10)

    def forward(self, x):
        stem = self.stem(x)
        y = self.stage3(self.stage2(torch.relu(self.block(stem) + stem)))
        return self.dense(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))


def dsl_resnet_fmnist():
    return ResnetFmnist(), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)


# examples/dsl/NAME.cnn: its PyTorch twin, with parameters and running statistics in the file's order, and the
# optimizer its train section asks for
DSL_TWINS = {'lenet5': dsl_lenet5, 'lenet5_c3': dsl_lenet5_c3, 'resnet_fmnist': dsl_resnet_fmnist}

MODELS = {f.__name__: f for f in [lenet, conv_bn, residual, depthwise, concat, dense, dense_log_softmax, dense_mse]}
# the loss each model trains with (cross-entropy when not listed)
LOSSES = {'dense_log_softmax': 'nll', 'dense_mse': 'mse'}

# name: (torch optimizer, cnnc flags)
OPTIMIZERS = {
    'sgd': (lambda p: torch.optim.SGD(p, lr=0.05), ['--optimizer=sgd', '--lr=0.05']),
    'momentum': (lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, weight_decay=5e-4),
                 ['--optimizer=sgd', '--lr=0.02', '--momentum=0.9', '--weight-decay=5e-4']),
    'nesterov': (lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True),
                 ['--optimizer=sgd', '--lr=0.02', '--momentum=0.8', '--nesterov']),
    'adam': (lambda p: torch.optim.Adam(p, lr=2e-3, weight_decay=1e-4),
             ['--optimizer=adam', '--lr=2e-3', '--weight-decay=1e-4']),
    'adamw': (lambda p: torch.optim.AdamW(p, lr=2e-3, betas=(0.8, 0.99), eps=1e-7),
              ['--optimizer=adamw', '--lr=2e-3', '--beta1=0.8', '--beta2=0.99', '--eps=1e-7']),
}


def agree(what, got, ref, tolerance=TOLERANCE):
    """Checks one tensor; returns the error message or None."""
    got, ref = np.asarray(got, np.float64).ravel(), np.asarray(ref, np.float64).ravel()
    if got.shape != ref.shape:
        return f'{what}: {got.size} values, expected {ref.size}'
    error = float(np.max(np.abs(got - ref))) if got.size else 0.0
    bound = tolerance * max(1.0, float(np.max(np.abs(ref))) if ref.size else 0.0)
    if not error <= bound:
        return f'{what}: max |got - ref| = {error:.3g} > {bound:.3g}'
    return None


def info_names(c_source, table):
    """The tensor names of a cnnc_tensor_info table in the generated C, in order."""
    names = []
    for line in c_source.split(f'const cnnc_tensor_info net_{table}[] = {{')[1].split('};')[0].splitlines():
        line = line.strip()
        if line.startswith('{"'):
            names.append(line[2:line.index('"', 2)])
    return names


def main():
    cnnc, driver_c, work, model_name, optimizer_name = sys.argv[1:6]
    dsl = model_name.endswith('.cnn')
    loss_kind = 'cross-entropy' if dsl else LOSSES.get(model_name, 'cross-entropy')
    os.makedirs(work, exist_ok=True)
    warnings.filterwarnings('ignore')  # the exporter's notes on training mode
    torch.manual_seed(1)
    torch.set_num_threads(1)
    c_path = os.path.join(work, 'net.c')
    if dsl:
        # cnnc first: the file decides the batch
        model, make_optimizer = DSL_TWINS[os.path.basename(model_name)[:-len('.cnn')]]()
        shape = (1, 28, 28)
        subprocess.run([cnnc, model_name, '--train', '--name', 'net', '-o', c_path], check=True)
        batch = int(open(os.path.join(work, 'net.h')).read().split('#define net_BATCH ')[1].split()[0])
    else:
        model, shape = MODELS[model_name]()
        make_optimizer, flags = OPTIMIZERS[optimizer_name]
        batch = BATCH

    # the weights and the batches
    x = torch.randn(STEPS, batch, *shape)
    eval_x = torch.randn(batch, *shape)
    with torch.no_grad():
        out_shape = model(x[0]).shape
    if loss_kind == 'mse':
        targets = torch.randn(STEPS, *out_shape)
        loss_fn = nn.MSELoss()
    else:
        targets = torch.randint(0, out_shape[1], (STEPS, batch))
        loss_fn = nn.NLLLoss() if loss_kind == 'nll' else nn.CrossEntropyLoss()

    onnx_path = os.path.join(work, 'model.onnx')
    if dsl:
        # the file's seeded initial weights and statistics, as its ONNX form holds them
        subprocess.run([cnnc, model_name, '--emit=onnx', '-o', onnx_path], check=True)
    else:
        # Exported in training mode, as in eval mode PyTorch folds BatchNormalization into the Conv before it.
        # Tracing runs the model once, which moves the running statistics: both sides start from the exported
        # values.
        torch.onnx.export(model, x[0], onnx_path, opset_version=14, do_constant_folding=False,
                          input_names=['input'], output_names=['output'],
                          training=torch.onnx.TrainingMode.TRAINING)
    exported = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
    x.numpy().astype(np.float32).tofile(os.path.join(work, 'input0.bin'))
    eval_x.numpy().astype(np.float32).tofile(os.path.join(work, 'eval_input0.bin'))
    targets.numpy().astype(np.float32 if loss_kind == 'mse' else np.int64).tofile(os.path.join(work, 'targets.bin'))

    # cnnc: compile, build, run
    if not dsl:
        subprocess.run([cnnc, onnx_path, '--train', f'--batch={batch}', f'--loss={loss_kind}', '--name', 'net',
                        '-o', c_path] + flags, check=True)
    exe = os.path.join(work, 'driver')
    cc = os.environ.get('CC', 'cc')
    subprocess.run([cc, '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', work, '-o', exe, c_path, driver_c,
                    '-lm'], check=True)
    subprocess.run([exe, str(STEPS), work], check=True)

    # cnnc's parameters and running statistics come in the order of the graph: the generated info tables say it
    c_source = open(c_path).read()
    order, states = info_names(c_source, 'param_info'), info_names(c_source, 'state_info')
    params, buffers = dict(model.named_parameters()), dict(model.named_buffers())
    if dsl:
        # the twin's tensors are in the file's order: pair them up by position
        torch_params = list(params)
        torch_states = [n for n in buffers if n.endswith(('running_mean', 'running_var'))]
        if len(torch_params) != len(order) or len(torch_states) != len(states):
            sys.exit(f'cnnc trains {order} with statistics {states}; the twin has {torch_params}, {torch_states}')
        torch_of = dict(zip(order + states, torch_params + torch_states))
    else:
        torch_of = {n: n for n in order + states}
        if sorted(order) != sorted(params):
            sys.exit(f'cnnc trains {order}; PyTorch has {list(params)}')
    with torch.no_grad():
        for n in order + states:
            tensor = params[torch_of[n]] if n in order else buffers[torch_of[n]]
            if n in exported:
                tensor.copy_(torch.from_numpy(exported[n].copy()).reshape(tensor.shape))

    # PyTorch: the same steps
    optimizer = make_optimizer(model.parameters())
    model.train()
    ref_losses, ref_grads = [], []
    for s in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(model(x[s]), targets[s])
        loss.backward()
        ref_losses.append(loss.item())
        ref_grads.append({n: p.grad.detach().numpy().copy() for n, p in params.items()})
        optimizer.step()
    model.eval()
    with torch.no_grad():
        ref_eval = model(eval_x).numpy()

    def split(flat, shapes):
        out, at = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            out.append(flat[at:at + size].reshape(shape))
            at += size
        if at != flat.size:
            sys.exit(f'{flat.size} values where {at} were expected')
        return out

    def check(what, got, ref):
        return agree(what, got, ref, DSL_TOLERANCE if dsl else TOLERANCE)

    failures = []
    shapes = [params[torch_of[n]].shape for n in order]
    losses = np.fromfile(os.path.join(work, 'losses.bin'), np.float32)
    grads = split(np.fromfile(os.path.join(work, 'grads.bin'), np.float32), shapes * STEPS)
    failures.append(check('losses', losses, ref_losses))
    for s in range(STEPS):
        for k, n in enumerate(order):
            failures.append(check(f'step {s} grad {n}', grads[s * len(order) + k], ref_grads[s][torch_of[n]]))
    final = split(np.fromfile(os.path.join(work, 'params.bin'), np.float32), shapes)
    for k, n in enumerate(order):
        failures.append(check(f'updated {n}', final[k], params[torch_of[n]].detach().numpy()))
    got_states = split(np.fromfile(os.path.join(work, 'states.bin'), np.float32),
                       [buffers[torch_of[n]].shape for n in states])
    for k, n in enumerate(states):
        failures.append(check(f'running {n}', got_states[k], buffers[torch_of[n]].numpy()))
    eval_out = np.fromfile(os.path.join(work, 'eval_output0.bin'), np.float32)
    failures.append(check('eval output', eval_out, ref_eval))
    if model_name.endswith('lenet5_c3.cnn'):
        # the connections Table I leaves out start at zero and stay there, in every step's gradient too
        masked = model[4].mask.numpy() == 0
        k = order.index('c3.weight')
        for what, w in [('initial', exported['c3.weight'] * exported['c3.mask'])] + \
                       [(f'step {s} grad', grads[s * len(order) + k]) for s in range(STEPS)] + [('updated', final[k])]:
            if np.any(w[masked] != 0):
                failures.append(f'{what} c3.weight: a connection outside Table I is not zero')
    failures = [f for f in failures if f]
    print(f'{model_name}/{optimizer_name}/{loss_kind}: {len(order)} parameters, {len(states)} running statistics, '
          f'{STEPS} steps at batch {batch}; losses {" ".join(f"{l:.5f}" for l in losses)} (PyTorch '
          f'{" ".join(f"{l:.5f}" for l in ref_losses)})')
    for f in failures:
        print('FAIL', f)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
