#!/usr/bin/python3
"""Training speed of LeNet-5 against PyTorch, in one run: examples/dsl/lenet5.cnn compiled with cnnc --train (the
file's recipe: batch 64, SGD lr 0.01 momentum 0.9) and the same network in PyTorch with torch.optim.SGD, one
thread each (torch.set_num_threads(1)). Both take the same number of steps on random batches, in rounds that
alternate between them so a busy machine slows both alike; each side's time is the thread's CPU time, and the
figure is the median over the rounds of cnnc's time per step divided by PyTorch's. Prints per-step times, the
ratio, the time per Fashion-MNIST epoch (937 steps) and the GFLOP/s reached. A speed check for a person to run
(timings in CI are noise).

usage: speed_lenet5.py CNNC SOURCE_DIR WORKDIR [--steps N] [--rounds R] [--profile]
  --profile also builds with -DCNNC_PROFILE and prints the slowest layers of cnnc's training step."""
import argparse
import ctypes
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn

DRIVER = r'''
#define _POSIX_C_SOURCE 199309L
#include "net.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* net_train_step on random batches: `steps` steps after one warm-up; prints the CPU seconds. */
int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 50;
  static float x[net_INPUT_0_COUNT];
  static int64_t t[net_BATCH];
  srand(1);
  for (int i = 0; i < net_INPUT_0_COUNT; i++)
    x[i] = (float)rand() / RAND_MAX;
  for (int i = 0; i < net_BATCH; i++)
    t[i] = rand() % 10;
  const void *inputs[] = {x}, *targets[] = {t};
  float loss;
  net_train_step(inputs, targets, &loss);
  double start = cpu_seconds();
  for (int s = 0; s < steps; s++)
    if (net_train_step(inputs, targets, &loss) != 0)
      return 1;
  printf("%.9f %g\n", cpu_seconds() - start, loss);
#ifdef CNNC_PROFILE
  for (int i = 0; net_profile[i].function; i++)
    printf("profile\t%s\t%s\t%.9f\t%llu\t%lld\n", net_profile[i].function, net_profile[i].ops,
           (double)net_profile[i].ns * 1e-9, (unsigned long long)net_profile[i].calls,
           (long long)(net_profile[i].flops * net_profile[i].calls));
#endif
  return 0;
}
'''

STEPS_PER_EPOCH = 60000 // 64


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def torch_seconds(model, optimizer, x, t, steps):
    loss_fn = nn.CrossEntropyLoss()
    start = time.thread_time()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
    return time.thread_time() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument('cnnc')
    p.add_argument('source')
    p.add_argument('work')
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--profile', action='store_true')
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    c_path = os.path.join(a.work, 'net.c')
    subprocess.run([a.cnnc, os.path.join(a.source, 'examples/dsl/lenet5.cnn'), '--train', '--name', 'net',
                    '-o', c_path], check=True)
    with open(os.path.join(a.work, 'driver.c'), 'w') as f:
        f.write(DRIVER)
    cc = os.environ.get('CC', 'cc')
    exe = os.path.join(a.work, 'speed')
    build = [cc, '-std=c11', '-O2', '-I', a.work, c_path, os.path.join(a.work, 'driver.c'), '-lm']
    subprocess.run(build + ['-o', exe], check=True)

    torch.set_num_threads(1)
    torch.manual_seed(1)
    model = lenet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(64, 1, 28, 28)
    t = torch.randint(0, 10, (64,))
    torch_seconds(model, optimizer, x, t, 3)  # warm-up

    ratios, ours, theirs = [], [], []
    for _ in range(a.rounds):
        out = subprocess.run([exe, str(a.steps)], check=True, capture_output=True, text=True).stdout
        c = float(out.split()[0]) / a.steps
        py = torch_seconds(model, optimizer, x, t, a.steps) / a.steps
        ours.append(c)
        theirs.append(py)
        ratios.append(c / py)
    # multiply-adds of one step: the forward's, and twice that for the backward (input and weight gradients)
    forward_macs = 64 * (28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10)
    step_flops = 2 * 3 * forward_macs
    c, py, r = np.median(ours), np.median(theirs), np.median(ratios)
    print(f'LeNet-5 training step, batch 64, SGD momentum 0.9, one thread ({a.rounds} rounds of {a.steps} steps)')
    print(f'  cnnc     {c * 1e3:8.3f} ms/step  {c * STEPS_PER_EPOCH:6.2f} s/epoch  {step_flops / c * 1e-9:6.2f} GFLOP/s')
    print(f'  PyTorch  {py * 1e3:8.3f} ms/step  {py * STEPS_PER_EPOCH:6.2f} s/epoch  {step_flops / py * 1e-9:6.2f} GFLOP/s')
    print(f'  ratio cnnc/PyTorch (median of rounds): {r:.3f}  (rounds: {" ".join(f"{x:.3f}" for x in ratios)})')

    if a.profile:
        prof = os.path.join(a.work, 'speed_profile')
        subprocess.run(build + ['-DCNNC_PROFILE', '-o', prof], check=True)
        out = subprocess.run([prof, str(a.steps)], check=True, capture_output=True, text=True).stdout
        rows = [l.split('\t') for l in out.splitlines() if l.startswith('profile\t')]
        total = sum(float(r[3]) for r in rows)
        print(f'  profile (-DCNNC_PROFILE, {a.steps + 1} steps; share of the step, GFLOP/s where counted):')
        for r in sorted(rows, key=lambda r: -float(r[3]))[:15]:
            seconds, flops = float(r[3]), int(r[5])
            rate = f'{flops / seconds * 1e-9:6.2f}' if flops and seconds else '      '
            print(f'    {100 * seconds / total:5.1f}%  {rate}  {r[1]} ({r[2]})')


if __name__ == '__main__':
    main()
