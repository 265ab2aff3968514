"""Times PyTorch on one CPU thread for bench/bench.mjs, with the line protocol of bench/c/harness.c.

usage: /usr/bin/python3 bench/torch/worker.py NAME MODEL.onnx INPUT.bin DIMS   (DIMS: the input shape, e.g. 1,3,224,224)
  prints "ready TORCH_VERSION WEIGHTS" once the model is built, WEIGHTS being "onnx" when the ONNX model's
  weights were loaded (so the outputs can be compared) or "random" (timing only)
  "output FILE"  runs once, writes the output's raw float32 bytes, prints "ok"
  "time N"       runs N times, prints "times W1,C1 ... WN,CN": wall-clock and thread CPU time of each run in ns
  "quit" or end of input: exits

PyTorch cannot run an ONNX file, so NAME picks the same architecture written in PyTorch: torchvision's for
resnet18, mobilenet_v2 and squeezenet1_1 (random weights: the exported names do not survive BatchNorm folding),
and small modules for lenet5 and mnist_cnn that match shared/models' exports layer for layer. Exit status 3: no
PyTorch counterpart for NAME.
"""
import sys
import time

import numpy as np
import torch
from torch import nn


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class MnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv2(torch.relu(self.conv1(x)))), 2)
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return torch.log_softmax(self.fc2(x), 1)


def build(name):
    import torchvision
    makers = {
        "lenet5": LeNet5,
        "lenet5_fmnist": LeNet5,
        "mnist_cnn": MnistCnn,
        "resnet18": torchvision.models.resnet18,
        "mobilenet_v2": torchvision.models.mobilenet_v2,
        "squeezenet1_1": torchvision.models.squeezenet1_1,
    }
    if name not in makers:
        return None
    return makers[name]()


def load_onnx_weights(module, onnx_path):
    """Copies the ONNX initializers into the module when every parameter has one of the same name and shape."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return False
    inits = {t.name: t for t in onnx.load(onnx_path).graph.initializer}
    state = module.state_dict()
    if not all(k in inits and tuple(inits[k].dims) == tuple(v.shape) for k, v in state.items()):
        return False
    module.load_state_dict({k: torch.from_numpy(numpy_helper.to_array(inits[k]).copy()) for k in state})
    return True


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: worker.py NAME MODEL.onnx INPUT.bin DIMS")
    name, onnx_path, input_path, dims = sys.argv[1:]
    shape = tuple(int(d) for d in dims.split(","))
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    module = build(name)
    if module is None:
        print(f"bench/torch/worker.py: no PyTorch counterpart for '{name}'", file=sys.stderr)
        sys.exit(3)
    module.eval()
    weights = "onnx" if load_onnx_weights(module, onnx_path) else "random"
    x = torch.from_numpy(np.fromfile(input_path, dtype=np.float32))
    if x.numel() != int(np.prod(shape)):
        sys.exit(f"bench/torch/worker.py: {input_path} has {x.numel()} floats, not {dims}")
    x = x.reshape(shape)
    with torch.inference_mode():
        print(f"ready {torch.__version__} {weights}", flush=True)
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line.startswith("output "):
                module(x).numpy().astype(np.float32).tofile(line[7:])
                print("ok", flush=True)
            elif line.startswith("time "):
                times = []
                for _ in range(int(line[5:])):
                    wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
                    module(x)
                    cpu = time.thread_time_ns() - cpu
                    times.append(f"{time.perf_counter_ns() - wall},{cpu}")
                print("times " + " ".join(times), flush=True)
            elif line == "quit":
                break
            else:
                sys.exit(f"bench/torch/worker.py: unknown command '{line}'")


if __name__ == '__main__':
    main()
