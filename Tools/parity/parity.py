"""`make parity`: ConvKit against PyTorch on reference-layout models (see Tools/parity/parity.sh).

For every model: a PyTorch reference (Tools/parity/models.py) with random weights and realistic
running statistics, a batch and labels, saved with safetensors.torch.save_file. Then, for each
mode (training, evaluation) and thread count, convkit-parity loads the checkpoint with no
renaming and runs forward, the loss and backward; the output ("logits"), loss, input gradient,
every parameter gradient and the updated running statistics are compared with PyTorch's, and
ConvKit's checkpoint is loaded back into PyTorch with load_state_dict(strict=True). The loss is
softmax cross-entropy against random labels for classifiers (models ending in a Linear layer),
and for the image-to-image models (U-Net, the CycleGAN generator) the mean squared error against
a fixed random target of the output's shape.

The reference is PyTorch in float64 (the same model and batch converted with .double()); PyTorch
in float32 is measured against it too. Error of a tensor: max|x − reference| / scale, scale =
max|reference| of that tensor, floored at 1e-3 × the largest max|reference| over all parameter
gradients of the run (a gradient that is zero in exact arithmetic, such as the bias of a
convolution followed by batch norm in training mode, is rounding noise). A tensor passes when
ConvKit's error is at most 1e-4, or at most twice PyTorch float32's own error on it (training
passes of deep networks through batch statistics lose digits in float32 whoever computes them;
the table shows both figures); a gradient that is zero in exact arithmetic passes as rounding
noise below 1e-5 of the largest gradient (ZERO_GRADIENT_NOISE). num_batches_tracked must match
exactly.

`--fixtures DIR` writes the small reference cases of Tests/ConvKitTests/ModelParityTests.swift.
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile
import zlib

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

import models

TOLERANCE = 1e-4
# Gradients when the models run `automatic`, which picks Winograd F(4x4) for wide 3x3 layers: its
# extra rounding (about 1e-6 of a layer's scale against im2col's 1e-7) moves a few ReLU inputs
# that sit that close to 0 across the kink, and each such input changes its block's gradients
# (measured worst: 1.2e-3, resnet18-small-stem in evaluation). With PARITY_CONVOLUTION=im2col every
# row meets TOLERANCE or twice PyTorch float32's own error.
WINOGRAD_GRADIENT_TOLERANCE = 2e-3
# A parameter gradient that is zero in exact arithmetic (float64 reference below 1e-9 of the run's
# largest gradient: the bias of a convolution followed by instance norm, whose per-plane mean
# subtraction cancels it) is rounding noise in float32 on both sides, and noise is not compared
# with noise: it passes when it stays below ZERO_GRADIENT_NOISE × the floor, i.e. 1e-5 of the
# run's largest gradient (measured worst: 2.9e-3 × the floor, cyclegan-ngf8-b2's last transposed
# convolution, 2×8×64×64 values summed; PyTorch float32 3.2e-4).
ZERO_GRADIENT_NOISE = 1e-2
CONVOLUTION = os.environ.get("PARITY_CONVOLUTION", "automatic")
TRAIN_SEED = 1234

# name, PyTorch constructor, convkit-parity arguments, input shape
CASES = [
    ("resnet18", lambda: models.ResNet(*models.RESNET[18], num_classes=10),
     ["--model", "resnet", "--depth", "18", "--classes", "10"], (2, 3, 64, 64)),
    ("resnet18-small-stem", lambda: models.ResNet(*models.RESNET[18], num_classes=10, small_stem=True),
     ["--model", "resnet", "--depth", "18", "--classes", "10", "--stem", "small"], (2, 3, 32, 32)),
    ("resnet34-w32", lambda: models.ResNet(*models.RESNET[34], num_classes=10, width=32),
     ["--model", "resnet", "--depth", "34", "--classes", "10", "--width", "32"], (2, 3, 64, 64)),
    ("resnet50-w16", lambda: models.ResNet(*models.RESNET[50], num_classes=10, width=16),
     ["--model", "resnet", "--depth", "50", "--classes", "10", "--width", "16"], (4, 3, 64, 64)),
    ("vgg11_bn-w16", lambda: models.VGG(11, num_classes=10, width=16, hidden=256),
     ["--model", "vgg", "--depth", "11", "--classes", "10", "--width", "16", "--hidden", "256"], (4, 3, 32, 32)),
    ("vgg16_bn-w16", lambda: models.VGG(16, num_classes=10, width=16, hidden=256),
     ["--model", "vgg", "--depth", "16", "--classes", "10", "--width", "16", "--hidden", "256"], (2, 3, 32, 32)),
    ("alexnet-h512", lambda: models.AlexNet(num_classes=10, hidden=512),
     ["--model", "alexnet", "--classes", "10", "--hidden", "512"], (2, 3, 64, 64)),
    ("mobilenet_v2-w0.5", lambda: models.MobileNetV2(num_classes=10, width_mult=0.5),
     ["--model", "mobilenetv2", "--classes", "10", "--width-multiplier", "0.5"], (4, 3, 64, 64)),
    ("unet-w8", lambda: models.UNet(3, 2, width=8),
     ["--model", "unet", "--classes", "2", "--width", "8"], (2, 3, 64, 64)),
    ("cyclegan-ngf8-b2", lambda: models.ResnetGenerator(3, 3, ngf=8, n_blocks=2),
     ["--model", "cyclegan", "--classes", "3", "--width", "8", "--blocks", "2"], (2, 3, 64, 64)),
]


def build(constructor, shape, seed):
    """The model with random weights, batch-norm affine parameters and running statistics (two
    training passes on random images, then a random perturbation), and a batch with labels (a
    classifier) or a target (N(0, 1), the output's shape; an image-to-image model)."""
    torch.manual_seed(seed)
    model = constructor()
    with torch.no_grad():
        model.train()
        for _ in range(2):
            model(torch.randn(shape))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_var.mul_(torch.empty_like(m.running_var).uniform_(0.8, 1.25))
                m.num_batches_tracked.fill_(7)
    # A ReLU input within float32 rounding of 0 takes either side of the kink depending on the
    # order of the sums, in any library, and moves a whole block's gradients (a resnet50 batch had
    # one at 7e-8 of its tensor's scale, and its bias gradients differed by 6e-3 while every
    # convolution ran the naive kernel). The comparison is about arithmetic, so the batch is the
    # one whose ReLU inputs stay farthest from the kink among KINK_DRAWS seeded draws.
    x, best = None, -1.0
    for _ in range(KINK_DRAWS):
        candidate = torch.randn(shape)
        margin = kink_margin(model, candidate)
        if margin > best:
            x, best = candidate, margin
    if is_classifier(model):
        return model, x, torch.randint(0, model_classes(model), (shape[0],))
    with torch.no_grad():
        output_shape = copy.deepcopy(model).eval()(x).shape
    return model, x, torch.randn(output_shape)


KINK_DRAWS = 30


def kink_margin(model, x):
    """Smallest distance of a ReLU input to the kink (ReLU6: to 0 or 6) / max |input| over every
    ReLU and ReLU6 call, in float64, training (with the parity's dropout seed) and evaluation mode."""
    worst = float("inf")

    def hook(module, inputs):  # before the call: the ReLUs run in place
        nonlocal worst
        v = inputs[0].detach()
        if v.numel():
            distance = v.abs() if isinstance(module, torch.nn.ReLU) else torch.minimum(v.abs(), (v - 6).abs())
            worst = min(worst, (distance.min() / v.abs().max().clamp_min(1e-300)).item())

    for training in (True, False):
        m = copy.deepcopy(model).double()
        m.train(training)
        models.set_dropout_seed(m, TRAIN_SEED)
        for module in m.modules():
            if isinstance(module, (torch.nn.ReLU, torch.nn.ReLU6)):
                module.register_forward_pre_hook(hook)
        with torch.no_grad():
            m(x.double())
    return worst


def is_classifier(model):
    return any(isinstance(m, torch.nn.Linear) for m in model.modules())


def model_classes(model):
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    return last.out_features


def reference(model, x, labels, training):
    """PyTorch's results for one mode: logits, loss, input gradient, parameter gradients and the
    state_dict after the pass. `labels` are class indices (cross-entropy) or a floating-point
    target (mean squared error)."""
    ref = copy.deepcopy(model)
    ref.train(training)
    models.set_dropout_seed(ref, TRAIN_SEED)
    xg = x.clone().requires_grad_(True)
    logits = ref(xg)
    if labels.is_floating_point():
        loss = F.mse_loss(logits, labels.to(logits.dtype))
    else:
        loss = F.cross_entropy(logits, labels)
    loss.backward()
    out = {"logits": logits.detach(), "loss": loss.detach().reshape(1), "input_gradient": xg.grad}
    for name, p in ref.named_parameters():
        out["grad." + name] = p.grad
    return out, {k: v.clone() for k, v in ref.state_dict().items()}


def max_abs(t):
    return t.double().abs().max().item() if t.numel() else 0.0


def compare(ours, theirs, exact, ckpt_state, exact_state, parameter_names):
    """Per quantity (logits, loss, input gradient, parameter gradients, buffers): ConvKit's worst
    error, PyTorch float32's worst error (both against the float64 reference), and whether every
    tensor passes."""
    floor = 1e-3 * max((max_abs(exact["grad." + n]) for n in parameter_names), default=0.0)

    def err(a, b, floor=0.0):
        if a.shape != b.shape:
            return float("inf")
        scale = max(max_abs(b), floor, 1e-30)
        return (a.double() - b.double()).abs().max().item() / scale if a.numel() else 0.0

    row, ok = {}, True
    row["failing"] = []  # names of the tensors that fail, printed under the row

    def add(quantity, pairs, names=None):
        nonlocal ok
        worst_ours = worst_theirs = 0.0
        for k, (a, t, b, f) in enumerate(pairs):
            e_ours, e_theirs = err(a, b, f), (err(t, b, f) if t is not None else 0.0)
            tolerance = WINOGRAD_GRADIENT_TOLERANCE if CONVOLUTION == "automatic" and quantity in (
                "input_gradient", "grads") else TOLERANCE
            if quantity == "grads" and max_abs(b) <= 1e-6 * f:  # zero in exact arithmetic
                tolerance = ZERO_GRADIENT_NOISE
            if e_ours > max(tolerance, 2 * e_theirs):
                ok = False
                row["failing"].append(f"{names[k] if names else quantity}: {e_ours:.2e} ({e_theirs:.2e})")
            worst_ours, worst_theirs = max(worst_ours, e_ours), max(worst_theirs, e_theirs)
        row[quantity] = (worst_ours, worst_theirs)

    for q in ("logits", "loss", "input_gradient"):
        add(q, [(ours[q], theirs[q], exact[q], 0.0)])
    add("grads", [(ours["grad." + n], theirs["grad." + n], exact["grad." + n], floor) for n in parameter_names],
        ["grad." + n for n in parameter_names])
    stats = []
    for k, v in exact_state.items():
        if k.endswith("num_batches_tracked"):
            ok = ok and int(ckpt_state[k]) == int(v)
        elif k.endswith("running_mean") or k.endswith("running_var"):
            stats.append((ckpt_state[k], theirs["state." + k], v, 0.0))
        else:  # parameters are unchanged by a pass
            ok = ok and torch.equal(ckpt_state[k].double(), v)
    add("stats", stats)
    return row, ok


def run_case(binary, name, constructor, arguments, shape, threads, work):
    model, x, labels = build(constructor, shape, seed=zlib.crc32(name.encode()) % 10_000)
    weights = os.path.join(work, name + "-weights.safetensors")
    batch = os.path.join(work, name + "-batch.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
    if labels.is_floating_point():
        save_file({"input": x.contiguous(), "target": labels.contiguous()}, batch)
        arguments = [*arguments, "--loss", "mse"]
    else:
        save_file({"input": x.contiguous(), "labels": labels}, batch)
    parameter_names = [n for n, _ in model.named_parameters()]
    rows = []
    model64 = copy.deepcopy(model).double()
    for mode in ("training", "evaluation"):
        theirs, state32 = reference(model, x, labels, mode == "training")
        theirs.update({"state." + k: v for k, v in state32.items()})
        exact, exact_state = reference(model64, x.double(), labels.double() if labels.is_floating_point() else labels,
                                       mode == "training")
        for t in threads:
            out = os.path.join(work, f"{name}-{mode}-{t}-out.safetensors")
            ckpt = os.path.join(work, f"{name}-{mode}-{t}-ckpt.safetensors")
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t))
            subprocess.run([binary, *arguments, "--weights", weights, "--batch", batch, "--mode", mode,
                            "--seed", str(TRAIN_SEED), "--threads", str(t), "--convolution", CONVOLUTION, "--output", out,
                            "--checkpoint-output", ckpt], check=True, env=env)
            ours = load_file(out)
            # ConvKit's checkpoint back into PyTorch, strictly.
            back = copy.deepcopy(model)
            back.load_state_dict(load_file(ckpt), strict=True)
            row, ok = compare(ours, theirs, exact, back.state_dict(), exact_state, parameter_names)
            rows.append((name, mode, t, ok))
            print_row(name, mode, t, row, ok)
    return rows


QUANTITIES = ("logits", "loss", "input_gradient", "grads", "stats")


def print_header():
    print("Worst relative error against PyTorch float64: ConvKit (PyTorch float32)")
    print(f"| {'model':<20} | {'mode':<10} | threads | " + " | ".join(f"{q:>19}" for q in QUANTITIES) + " | result |")
    print("|" + "-" * 22 + "|" + "-" * 12 + "|---------|" + "|".join("-" * 21 for _ in QUANTITIES) + "|--------|",
          flush=True)


def print_row(name, mode, t, row, ok):
    cells = " | ".join(f"{row[q][0]:.2e} ({row[q][1]:.2e})" for q in QUANTITIES)
    print(f"| {name:<20} | {mode:<10} | {t:>7} | {cells} | {'pass' if ok else 'FAIL':<6} |", flush=True)
    for failing in row["failing"]:
        print(f"    fails: {failing}", flush=True)


# --- fixtures for the Swift test suite --------------------------------------------------------

FIXTURES = [
    # name, constructor, input shape. Batch norm in training mode is ill-conditioned over few
    # values per channel, so the deepest batch norms see at least 16 (batch 4, 2×2 maps); five
    # classes keep the last bias gradient (a sum of softmax − one-hot over the batch) away from 0.
    ("resnet-basic-1111-w4-small", lambda: models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=5, width=4,
                                                          small_stem=True), (4, 3, 16, 16)),
    ("vgg11_bn-w2", lambda: models.VGG(11, num_classes=5, width=2, hidden=8), (4, 3, 32, 32)),
    # Image-to-image models (mean squared error against a random target): U-Net at base width 1
    # (1-2-4-8-16 channels), the CycleGAN generator at ngf 2 with one residual block.
    ("unet-w1", lambda: models.UNet(3, 2, width=1), (2, 3, 32, 32)),
    ("cyclegan-ngf2-b1", lambda: models.ResnetGenerator(3, 3, ngf=2, n_blocks=1), (2, 3, 16, 16)),
]


def write_fixtures(directory):
    os.makedirs(directory, exist_ok=True)
    for name, constructor, shape in FIXTURES:
        model, x, labels = build(constructor, shape, seed=7)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(directory, name + "-weights.safetensors"))
        expected = {"input": x, "target" if labels.is_floating_point() else "labels": labels}
        for mode in ("training", "evaluation"):
            theirs, state = reference(model, x, labels, mode == "training")
            for k, v in theirs.items():
                # Gradients in training mode only (evaluation's backward is checked by
                # `make parity`), to keep the committed files small.
                if mode == "training" or k in ("logits", "loss"):
                    expected[f"{mode}.{k}"] = v
            for k, v in state.items():  # the running statistics a training pass leaves
                if mode == "training" and ("running" in k or "num_batches" in k):
                    expected[f"{mode}.{k}"] = v
        save_file({k: v.contiguous() for k, v in expected.items()}, os.path.join(directory, name + "-expected.safetensors"))
        print(f"fixture {name}: {sum(p.numel() for p in model.parameters())} parameters")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", help="convkit-parity executable")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--models", default="", help="comma-separated names (default: all)")
    parser.add_argument("--fixtures", help="write the test-suite fixtures to this folder and exit")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.fixtures:
        write_fixtures(args.fixtures)
        return 0
    threads = [int(t) for t in args.threads.split(",")]
    wanted = set(filter(None, args.models.split(",")))
    print_header()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="convkit-parity-") as work:
        for name, constructor, arguments, shape in CASES:
            if wanted and name not in wanted:
                continue
            for (_, _, _, ok) in run_case(args.binary, name, constructor, arguments, shape, threads, work):
                failures += not ok
    print(f"parity: {'all rows pass' if failures == 0 else f'{failures} rows FAIL'} "
          f"(convolution {CONVOLUTION}; tolerance {TOLERANCE:g}"
          + (f", gradients {WINOGRAD_GRADIENT_TOLERANCE:g}" if CONVOLUTION == "automatic" else "")
          + ", or twice PyTorch float32's error)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
