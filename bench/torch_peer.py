"""PyTorch on the CPU on the same data and rules as bench/speed.R's W3 and W4:
60000 x 784 uniform inputs, 128 sigmoid hidden units, 10 sigmoid outputs
(one-hot targets), squared error with the gradient of half its sum (W3:
full-batch gradient descent, summed over rows; W4: Adam on shuffled
minibatches, averaged over each batch's rows). Prints one line per workload:
"name seconds" (seconds per epoch, best of 2).

    python3 bench/torch_peer.py THREADS
"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(1)
n, d, h, o = 60000, 784, 128, 10
x64 = torch.rand(n, d, dtype=torch.float64)
y64 = torch.nn.functional.one_hot(torch.randint(0, o, (n,)), o).to(torch.float64)


def best_of_two(epoch):
    """Seconds of the faster of two calls of `epoch`."""
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        epoch()
        best = min(best, time.perf_counter() - t)
    return best


def net(dtype):
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.Sigmoid(), torch.nn.Linear(h, o), torch.nn.Sigmoid())
    for layer in (model[0], model[2]):
        torch.nn.init.xavier_normal_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    return model.to(dtype)


def full_batch_epoch(dtype):
    x, y, model = x64.to(dtype), y64.to(dtype), net(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)

    def epoch():
        opt.zero_grad(set_to_none=True)
        loss = 0.5 * ((model(x) - y) ** 2).sum()
        loss.backward()
        opt.step()

    epoch()  # the first epoch allocates the gradients
    return best_of_two(epoch)


def minibatch_epoch(dtype, batch):
    x, y, model = x64.to(dtype), y64.to(dtype), net(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        for idx in torch.randperm(n).split(batch):
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * ((model(xb) - yb) ** 2).sum() / len(idx)
            loss.backward()
            opt.step()

    return best_of_two(epoch)


print("version", torch.__version__)
for name, dtype in (("f64", torch.float64), ("f32", torch.float32)):
    print(f"w3_{name}", full_batch_epoch(dtype))
    for batch in (32, 256, 512):
        print(f"adam{batch}_{name}", minibatch_epoch(dtype, batch))
