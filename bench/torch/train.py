"""Trains LeNet-5 in PyTorch on one CPU thread, the peer of cnnc's trainer in bench/train.sh.

usage: /usr/bin/python3 bench/torch/train.py MODEL.onnx DATA_DIR LOG.tsv [--epochs N] [--lr R] [--momentum M]
                                             [--batch N] [--limit N] [--seed S]

MODEL.onnx is the model cnnc trains (`cnnc examples/dsl/lenet5.cnn --emit=onnx`): PyTorch starts from its
initial weights (each Conv's and Gemm's W and B in graph order into the same layers of the module below), so both
engines start alike. DATA_DIR holds Fashion-MNIST's four IDX files, gzipped. The recipe is the trainer's: images
/ 255, a new random order each epoch, full batches only (the last partial one dropped), SGD with momentum on the
mean cross-entropy, the test accuracy after each epoch. The loop reads batches from tensors in memory (no
DataLoader), so the time is the model's.

LOG.tsv gets the columns of the trainer's --log: epoch, loss, test_loss, test_accuracy, steps, seconds (wall),
cpu_seconds (this thread's CPU time over the epoch's training steps), gflops (0: bench/train.sh computes it).
"""
import argparse
import gzip
import os
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
from torch import nn

from worker import LeNet5  # the module bench/run.sh times, beside this file


def load_weights(model, path):
    graph = onnx.load(path).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    layers = [model.conv1, model.conv2, model.fc1, model.fc2, model.fc3]
    nodes = [n for n in graph.node if n.op_type in ('Conv', 'Gemm')]
    if len(nodes) != len(layers):
        raise SystemExit(f'{path}: expected LeNet-5 (2 Conv, 3 Gemm), found {len(nodes)} Conv/Gemm nodes')
    with torch.no_grad():
        for layer, node in zip(layers, nodes):
            layer.weight.copy_(torch.from_numpy(init[node.input[1]].copy()))
            layer.bias.copy_(torch.from_numpy(init[node.input[2]].copy()))


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('model')
    p.add_argument('data')
    p.add_argument('log')
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--limit', type=int, default=0)
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)

    def images(name):
        return torch.from_numpy(read_idx(os.path.join(a.data, name)).astype(np.float32) / 255).unsqueeze(1)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(a.data, name)).astype(np.int64))

    train_x, train_y = images('train-images-idx3-ubyte.gz'), labels('train-labels-idx1-ubyte.gz')
    test_x, test_y = images('t10k-images-idx3-ubyte.gz'), labels('t10k-labels-idx1-ubyte.gz')
    if a.limit:
        train_x, train_y = train_x[:a.limit], train_y[:a.limit]
    model = LeNet5()
    load_weights(model, a.model)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    loss_fn = nn.CrossEntropyLoss()
    steps = len(train_y) // a.batch
    with open(a.log, 'w') as log:
        log.write('epoch\tloss\ttest_loss\ttest_accuracy\tsteps\tseconds\tcpu_seconds\tgflops\n')
        for epoch in range(a.epochs):
            model.train()
            order = torch.randperm(len(train_y))
            total = 0.0
            wall, cpu = time.perf_counter(), time.thread_time()
            for s in range(steps):
                idx = order[s * a.batch:(s + 1) * a.batch]
                opt.zero_grad()
                loss = loss_fn(model(train_x[idx]), train_y[idx])
                loss.backward()
                opt.step()
                total += loss.item()
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            model.eval()
            with torch.no_grad():
                out = model(test_x)
                test_loss = loss_fn(out, test_y).item()
                accuracy = 100.0 * (out.argmax(1) == test_y).float().mean().item()
            log.write(f'{epoch + 1}\t{total / steps:.6f}\t{test_loss:.6f}\t{accuracy:.4f}\t{steps}\t'
                      f'{wall:.4f}\t{cpu:.4f}\t0\n')
            log.flush()


if __name__ == '__main__':
    main()
