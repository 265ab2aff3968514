#!/usr/bin/python3
"""Writes an untrained LeNet-5 (as the course code writes it: conv 6@5x5 pad 2, pool, conv 16@5x5, pool, dense
120, 84, 10) with PyTorch's default initialisation, seeded, to the ONNX file named on the command line."""
import sys

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
torch.onnx.export(model, torch.zeros(1, 1, 28, 28), sys.argv[1], opset_version=13, input_names=['image'],
                  output_names=['logits'], dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}})
