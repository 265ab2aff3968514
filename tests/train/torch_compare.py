#!/usr/bin/python3
"""Trains a small network in PyTorch and with cnnc's training code, from the same weights on the same batches,
and compares them: the loss and every gradient of every step, the parameters and running statistics after the
last step, and the eval-mode output after it, each within 1e-4 * max(1, max |ref|).

usage: torch_compare.py CNNC DRIVER_C WORKDIR MODEL OPTIMIZER

MODEL is one of the networks below, exported to ONNX by PyTorch in eval mode; OPTIMIZER one of OPTIMIZERS,
given to cnnc as the same flags. The C compiler is $CC (default cc). Exit status 0 when everything agrees."""
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


def agree(what, got, ref):
    """Checks one tensor; returns the error message or None."""
    got, ref = np.asarray(got, np.float64).ravel(), np.asarray(ref, np.float64).ravel()
    if got.shape != ref.shape:
        return f'{what}: {got.size} values, expected {ref.size}'
    error = float(np.max(np.abs(got - ref))) if got.size else 0.0
    bound = TOLERANCE * max(1.0, float(np.max(np.abs(ref))) if ref.size else 0.0)
    if not error <= bound:
        return f'{what}: max |got - ref| = {error:.3g} > {bound:.3g}'
    return None


def main():
    cnnc, driver_c, work, model_name, optimizer_name = sys.argv[1:6]
    loss_kind = LOSSES.get(model_name, 'cross-entropy')
    os.makedirs(work, exist_ok=True)
    warnings.filterwarnings('ignore')  # the exporter's notes on training mode
    torch.manual_seed(1)
    torch.set_num_threads(1)
    model, shape = MODELS[model_name]()
    make_optimizer, flags = OPTIMIZERS[optimizer_name]

    # the weights and the batches
    x = torch.randn(STEPS, BATCH, *shape)
    eval_x = torch.randn(BATCH, *shape)
    with torch.no_grad():
        out_shape = model(x[0]).shape
    if loss_kind == 'mse':
        targets = torch.randn(STEPS, *out_shape)
        loss_fn = nn.MSELoss()
    else:
        targets = torch.randint(0, out_shape[1], (STEPS, BATCH))
        loss_fn = nn.NLLLoss() if loss_kind == 'nll' else nn.CrossEntropyLoss()

    # Exported in training mode, as in eval mode PyTorch folds BatchNormalization into the Conv before it. Tracing
    # runs the model once, which moves the running statistics: both sides start from the exported values.
    onnx_path = os.path.join(work, 'model.onnx')
    torch.onnx.export(model, x[0], onnx_path, opset_version=14, do_constant_folding=False,
                      input_names=['input'], output_names=['output'], training=torch.onnx.TrainingMode.TRAINING)
    exported = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if name in exported:
                tensor.copy_(torch.from_numpy(exported[name].copy()))
    x.numpy().astype(np.float32).tofile(os.path.join(work, 'input0.bin'))
    eval_x.numpy().astype(np.float32).tofile(os.path.join(work, 'eval_input0.bin'))
    targets.numpy().astype(np.float32 if loss_kind == 'mse' else np.int64).tofile(os.path.join(work, 'targets.bin'))

    # cnnc: compile, build, run
    c_path = os.path.join(work, 'net.c')
    subprocess.run([cnnc, onnx_path, '--train', f'--batch={BATCH}', f'--loss={loss_kind}', '--name', 'net',
                    '-o', c_path] + flags, check=True)
    exe = os.path.join(work, 'driver')
    cc = os.environ.get('CC', 'cc')
    subprocess.run([cc, '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', work, '-o', exe, c_path, driver_c,
                    '-lm'], check=True)
    subprocess.run([exe, str(STEPS), work], check=True)

    # PyTorch: the same steps
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    optimizer = make_optimizer(model.parameters())
    model.train()
    ref_losses, ref_grads = [], []
    for s in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(model(x[s]), targets[s])
        loss.backward()
        ref_losses.append(loss.item())
        ref_grads.append({n: params[n].grad.detach().numpy().copy() for n in names})
        optimizer.step()
    model.eval()
    with torch.no_grad():
        ref_eval = model(eval_x).numpy()

    # cnnc's parameters come in the order of the ONNX initializers: read the order from the generated header's info
    info = open(c_path).read()
    order = []
    for line in info.split('const cnnc_tensor_info net_param_info[] = {')[1].split('};')[0].splitlines():
        line = line.strip()
        if line.startswith('{"'):
            order.append(line[2:line.index('"', 2)])
    states = []
    for line in info.split('const cnnc_tensor_info net_state_info[] = {')[1].split('};')[0].splitlines():
        line = line.strip()
        if line.startswith('{"'):
            states.append(line[2:line.index('"', 2)])
    if sorted(order) != sorted(names):
        sys.exit(f'cnnc trains {order}; PyTorch has {names}')

    def split(flat, shapes):
        out, at = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            out.append(flat[at:at + size].reshape(shape))
            at += size
        if at != flat.size:
            sys.exit(f'{flat.size} values where {at} were expected')
        return out

    failures = []
    losses = np.fromfile(os.path.join(work, 'losses.bin'), np.float32)
    grads = split(np.fromfile(os.path.join(work, 'grads.bin'), np.float32),
                  [params[n].shape for s in range(STEPS) for n in order])
    failures.append(agree('losses', losses, ref_losses))
    for s in range(STEPS):
        for k, n in enumerate(order):
            failures.append(agree(f'step {s} grad {n}', grads[s * len(order) + k], ref_grads[s][n]))
    final = split(np.fromfile(os.path.join(work, 'params.bin'), np.float32), [params[n].shape for n in order])
    for k, n in enumerate(order):
        failures.append(agree(f'updated {n}', final[k], params[n].detach().numpy()))
    buffers = dict(model.named_buffers())
    got_states = split(np.fromfile(os.path.join(work, 'states.bin'), np.float32), [buffers[n].shape for n in states])
    for k, n in enumerate(states):
        failures.append(agree(f'running {n}', got_states[k], buffers[n].numpy()))
    eval_out = np.fromfile(os.path.join(work, 'eval_output0.bin'), np.float32)
    failures.append(agree('eval output', eval_out, ref_eval))
    failures = [f for f in failures if f]
    print(f'{model_name}/{optimizer_name}/{loss_kind}: {len(order)} parameters, {len(states)} running statistics, '
          f'{STEPS} steps; losses {" ".join(f"{l:.5f}" for l in losses)} (PyTorch '
          f'{" ".join(f"{l:.5f}" for l in ref_losses)})')
    for f in failures:
        print('FAIL', f)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
