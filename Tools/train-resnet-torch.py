"""The recipe of `train-resnet` in PyTorch, for the side-by-side figures in docs/LayerAPI.md.

The same network (Tools/parity/models.py's torchvision ResNet: one basic block per stage, width
16, the small-image stem on one input channel, nn.Dropout(0.2) before fc; torchvision's
initialisation), the same data (the bundled IDX files, 28×28 padded by 2 to 32×32, scaled to
[0, 1]), Adam lr 1e-3, batch 32, softmax cross-entropy, a reshuffle per epoch; training mode for
the steps, evaluation mode for the accuracy. Same flags and output lines as train-resnet (the
last line is `test accuracy: 0.XXXX`); the weights, shuffles and dropout masks are PyTorch's
(torch.manual_seed(seed)), not ConvKit's, so the figures agree in distribution, not digit by digit.

    .venv-parity/bin/python Tools/train-resnet-torch.py --epochs 2 --threads 2
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))
import models  # noqa: E402

DATA = "Data/mnist-subset/mnist-subset-"


def read_idx(path):
    """Unsigned-byte IDX (magic 0x0000080D: type 8, rank D), big-endian dimensions."""
    raw = open(path, "rb").read()
    if raw[:2] != b"\0\0" or raw[2] != 8:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(images, labels):
    x = torch.from_numpy(read_idx(images).astype(np.float32) / 255).unsqueeze(1)
    return F.pad(x, (2, 2, 2, 2)), torch.from_numpy(read_idx(labels).astype(np.int64))


def accuracy(model, x, y, batch=256):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(y)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-images", default=DATA + "train-images.idx3-ubyte")
    p.add_argument("--train-labels", default=DATA + "train-labels.idx1-ubyte")
    p.add_argument("--test-images", default=DATA + "test-images.idx3-ubyte")
    p.add_argument("--test-labels", default=DATA + "test-labels.idx1-ubyte")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save", help="write the state_dict to this safetensors file")
    p.add_argument("--load", help="start from the state_dict in this safetensors file")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--flush-denormal", action="store_true",
                   help="torch.set_flush_denormal(True) (ConvKit flushes subnormals inside its kernels)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.train_images, args.train_labels)
    test_x, test_y = load(args.test_images, args.test_labels)
    model = models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=10, width=16, small_stem=True,
                          in_channels=1, dropout=0.2)
    if args.load:
        from safetensors.torch import load_file
        model.load_state_dict(load_file(args.load), strict=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    count = len(train_y)
    batches = (count + args.batch_size - 1) // args.batch_size
    print(f"PyTorch {torch.__version__} ResNet (basic 1-1-1-1, width 16, small stem, dropout 0.2; "
          f"{sum(p.numel() for p in model.parameters())} parameters) on {count} training / {len(test_y)} test images; "
          f"batch {args.batch_size}, Adam lr {args.learning_rate}, seed {args.seed}, {args.threads} thread(s)")
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(count)
        start = time.perf_counter()
        loss_sum = 0.0
        for b in range(batches):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            if not args.quiet:
                print(f"\r\033[Kepoch {epoch}: {b + 1}/{batches} batches, running loss {loss_sum / (b + 1):.4f}",
                      end="", file=sys.stderr, flush=True)
        seconds = time.perf_counter() - start
        if not args.quiet:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
        acc = accuracy(model, test_x, test_y)
        print(f"epoch {epoch}: train loss {loss_sum / batches:.4f}, test accuracy {acc:.4f}, {seconds:.2f} s "
              f"({count / seconds:.0f} images/s)", flush=True)
    if args.save:
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.save)
        print(f"saved {args.save}")
    print(f"test accuracy: {accuracy(model, test_x, test_y):.4f}")


if __name__ == "__main__":
    main()
