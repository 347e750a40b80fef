"""Time the networks suite through a peer framework and write JSON lines (`make compare`, COMPARE_SUITE=networks).

Usage: python networks.py --peer {torch,onnxruntime} --threads N --suite networks.json [--min-time S] [--repeats R]
                          [--onnx-dir DIR]
       python networks.py --export SPEC_JSON --onnx PATH          (used by the onnxruntime peer: a torch process)

The suite comes from `convkit-bench --suite networks --print-suite` (name, model, depth, stem, batch, input size,
classes, loss). The models are Tools/parity/models.py's torch.nn definitions (torchvision's module layout and key
names; LeNet-5 is the project anchor's nn.Sequential, below), with nn.Dropout for ConvKit's seeded dropout.

- torch, variants `nchw` and `channels_last`: `infer` = eval() under torch.no_grad(); `train` = zero_grad, forward in
  train(), CrossEntropyLoss (MSELoss for the CycleGAN generator), backward, SGD(lr, momentum 0.9) step.
- onnxruntime, variant `all`: inference only, the torch model (eval) exported with the TorchScript-based exporter
  (dynamo=False, opset 17) in a separate torch process, run with intra_op_num_threads = threads,
  inter_op_num_threads 1, sequential execution, all graph optimisations, input and output bound once.

One JSON object per line on stdout:
  {"peer": "torch", "variant": "nchw", "name": "resnet18", "batch": 16, "direction": "train", "threads": 2,
   "median_ms": ..., "min_ms": ..., "images_per_s": ..., "peak_rss_bytes": ..., "baseline_rss_bytes": ...,
   "parameters": ..., "samples": ..., "calls_per_sample": ..., "warm_up_calls": ..., "loss_first": ..., "loss_last": ...}
plus one {"meta": true, ...} line. Timing as convkit-bench's networks suite: warm-up >= 0.25 s (at least one call), then
up to `repeats` samples of >= min-time, fewer when they would take more than 5 s (at least 3). Peak RSS: VmHWM of this
process, reset (after malloc_trim) before each row; baseline: VmRSS before the model was built.
"""
import argparse, ctypes, gc, json, math, os, re, subprocess, sys, tempfile, time

WARM_UP_SECONDS = 0.25     # NetworkTimer.warmUpSeconds
BUDGET_SECONDS = 5.0       # NetworkTimer.budgetSeconds
MINIMUM_SAMPLES = 3        # NetworkTimer.minimumSamples
LEARNING_RATE = 1e-3       # NetworkCatalogue.learningRate
MOMENTUM = 0.9             # NetworkCatalogue.momentum

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tools", "parity"))


def measure(fn, min_time, repeats):
    """(median s, min s, samples, calls per sample, warm-up calls) as NetworkTimer.measure."""
    start = time.perf_counter()
    warm = 0
    while True:
        t0 = time.perf_counter(); fn(); per = time.perf_counter() - t0
        warm += 1
        if time.perf_counter() - start >= WARM_UP_SECONDS:
            break
    calls = max(1, math.ceil(min_time / max(per, 1e-9)))
    affordable = int(BUDGET_SECONDS / max(per * calls, 1e-9))
    n = max(min(MINIMUM_SAMPLES, repeats), min(repeats, affordable))
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - t0) / calls)
    samples.sort()
    median = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    return median, samples[0], n, calls, warm


class Memory:
    """VmHWM / VmRSS of this process; reset_peak() trims the heap first (see ResidentMemory.swift)."""
    libc = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None

    @staticmethod
    def field(name):
        try:
            m = re.search(rf"^{name}:\s+(\d+) kB", open("/proc/self/status").read(), re.M)
            return int(m.group(1)) * 1024 if m else None
        except OSError:
            return None

    @classmethod
    def reset_peak(cls):
        gc.collect()
        if cls.libc is not None:
            cls.libc.malloc_trim(0)
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    @classmethod
    def measured(cls, body):
        reset = cls.reset_peak()
        value = body()
        return value, (cls.field("VmHWM") if reset else None)


def build_torch(spec):
    """The torch.nn model of a suite entry, in training mode, nn.Dropout in place of ConvKitDropout."""
    import torch.nn as nn
    import models
    m, classes = spec["model"], spec["classes"]
    if m == "lenet5":   # LeNet5.make: the anchor's nn.Sequential, keys 0, 3, 7, 9, 11
        model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))
    elif m == "alexnet":
        model = models.AlexNet(num_classes=classes)
    elif m == "resnet":
        block, layers = models.RESNET[spec["depth"]]
        model = models.ResNet(block, layers, num_classes=classes, small_stem=spec.get("stem") == "small")
    elif m == "vgg":
        model = models.VGG(spec["depth"], batch_norm=spec.get("batchNorm", True), num_classes=classes)
    elif m == "mobilenetv2":
        model = models.MobileNetV2(num_classes=classes)
    elif m == "cyclegan":
        model = models.ResnetGenerator(spec["channels"], classes, 64, n_blocks=9)
    else:
        raise SystemExit(f"networks.py: unknown model {m}")
    for parent in list(model.modules()):   # ConvKit's seeded masks (numpy) would time numpy: plain nn.Dropout
        for key, child in parent.named_children():
            if isinstance(child, models.ConvKitDropout):
                setattr(parent, key, nn.Dropout(child.p))
    return model


def input_shape(spec):
    return [spec["batch"], spec["channels"], spec["height"], spec["width"]]


def row(em, variant, spec, direction, timing, peak, baseline, parameters, **extra):
    median, minimum, n, calls, warm = timing
    r = dict(peer=em.peer, variant=variant, name=spec["name"], model=spec["model"], batch=spec["batch"], direction=direction,
             threads=em.threads, median_ms=median * 1e3, min_ms=minimum * 1e3, images_per_s=spec["batch"] / median,
             peak_rss_bytes=peak, baseline_rss_bytes=baseline, parameters=parameters, samples=n, calls_per_sample=calls,
             warm_up_calls=warm, **extra)
    print(json.dumps(r), flush=True)
    print(f"  {em.peer} {variant} {spec['name']}/{spec['batch']} {direction} {em.threads}T: {median * 1e3:.4g} ms"
          f" ({n}x{calls}), peak RSS {peak / 2**20 if peak else float('nan'):.0f} MiB", file=sys.stderr, flush=True)


class Emitter:
    def __init__(self, peer, threads, min_time, repeats):
        self.peer, self.threads, self.min_time, self.repeats = peer, threads, min_time, repeats


def run_torch(suite, em, onnx_dir=None):
    import torch
    import torch.nn as nn
    torch.set_num_threads(em.threads)
    print(json.dumps(dict(meta=True, peer="torch", version=torch.__version__, threads=torch.get_num_threads(),
                          mkldnn=torch.backends.mkldnn.is_available(),
                          cpu_capability=torch.backends.cpu.get_cpu_capability())), flush=True)
    for spec in suite:
        for variant, fmt in (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last)):
            Memory.reset_peak()
            baseline = Memory.field("VmRSS")
            torch.manual_seed(0)
            model = build_torch(spec).to(memory_format=fmt)
            parameters = sum(p.numel() for p in model.parameters())
            x = torch.rand(input_shape(spec)).mul_(2).sub_(1).contiguous(memory_format=fmt)
            if spec["loss"] == "mse":
                target = torch.rand(spec["batch"], spec["classes"], spec["height"], spec["width"]).mul_(2).sub_(1)
                criterion = nn.MSELoss()
            else:
                target = torch.randint(0, spec["classes"], (spec["batch"],))
                criterion = nn.CrossEntropyLoss()
            model.eval()

            def infer():
                with torch.no_grad():
                    return model(x)
            finite = bool(torch.isfinite(infer()).all())
            timing, peak = Memory.measured(lambda: measure(infer, em.min_time, em.repeats))
            row(em, variant, spec, "infer", timing, peak, baseline, parameters, output_finite=finite)

            model.train()
            optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
            losses = []

            def train():
                optimizer.zero_grad(set_to_none=True)
                loss = criterion(model(x), target)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            timing, peak = Memory.measured(lambda: measure(train, em.min_time, em.repeats))
            row(em, variant, spec, "train", timing, peak, baseline, parameters, loss_first=losses[0], loss_last=losses[-1])
            del model, optimizer, x, target, losses


def export_onnx(spec, path):
    """The torch model (eval) as ONNX with static shapes; prints its parameter count as JSON."""
    import torch
    torch.manual_seed(0)
    model = build_torch(spec).eval()
    x = torch.rand(input_shape(spec))
    kwargs = dict(input_names=["x"], output_names=["y"], opset_version=17)
    try:
        torch.onnx.export(model, (x,), path, dynamo=False, **kwargs)
    except TypeError:   # a torch without the `dynamo` argument: the TorchScript exporter is its only one
        torch.onnx.export(model, (x,), path, **kwargs)
    print(json.dumps(dict(parameters=sum(p.numel() for p in model.parameters()), torch=torch.__version__)))


def run_onnxruntime(suite, em, onnx_dir=None):
    import numpy as np
    import onnxruntime as ort
    print(json.dumps(dict(meta=True, peer="onnxruntime", version=ort.__version__, threads=em.threads,
                          execution="sequential, inter_op 1, ORT_ENABLE_ALL")), flush=True)
    folder = onnx_dir or tempfile.mkdtemp(prefix="convkit-networks-")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for spec in suite:
        path = os.path.join(folder, f"{spec['name']}-{spec['batch']}.onnx")
        info_path = path + ".json"
        if not (os.path.exists(path) and os.path.exists(info_path)):
            # torch stays out of this process, so that its libraries do not count in the peak memory.
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--export", json.dumps(spec), "--onnx", path],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"networks.py: exporting {spec['name']}/{spec['batch']} to ONNX failed:\n{out.stderr}")
            open(info_path, "w").write(out.stdout.strip().splitlines()[-1])
        parameters = json.load(open(info_path))["parameters"]
        Memory.reset_peak()
        baseline = Memory.field("VmRSS")
        so = ort.SessionOptions()
        so.intra_op_num_threads = em.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        x = (rng.random(input_shape(spec), dtype=np.float32) * 2 - 1)
        y_shape = sess.get_outputs()[0].shape
        io = sess.io_binding()
        io.bind_ortvalue_input("x", ort.OrtValue.ortvalue_from_numpy(x))
        y = ort.OrtValue.ortvalue_from_shape_and_type(list(y_shape), np.float32)
        io.bind_ortvalue_output("y", y)
        infer = lambda: sess.run_with_iobinding(io)
        infer()
        finite = bool(np.isfinite(y.numpy()).all())
        timing, peak = Memory.measured(lambda: measure(infer, em.min_time, em.repeats))
        row(em, "all", spec, "infer", timing, peak, baseline, parameters, output_finite=finite)
        del sess, io, y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", choices=["torch", "onnxruntime"])
    ap.add_argument("--threads", type=int)
    ap.add_argument("--suite", help="JSON from convkit-bench --suite networks --print-suite")
    ap.add_argument("--min-time", type=float, default=0.05)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--onnx-dir", help="where the exported models are kept (default: a temporary folder)")
    ap.add_argument("--export", help=argparse.SUPPRESS)
    ap.add_argument("--onnx", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.export:
        export_onnx(json.loads(a.export), a.onnx)
        return
    if not (a.peer and a.threads and a.suite):
        ap.error("--peer, --threads and --suite are required")
    em = Emitter(a.peer, a.threads, a.min_time, a.repeats)
    {"torch": run_torch, "onnxruntime": run_onnxruntime}[a.peer](json.load(open(a.suite)), em, a.onnx_dir)


if __name__ == "__main__":
    main()
