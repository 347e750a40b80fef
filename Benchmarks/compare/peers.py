"""Run the ConvKit benchmark suite through a peer framework and write JSON lines.

Usage: python peers.py --peer {torch,onnxruntime} --threads N --suite suite.json [--min-time S] [--repeats R]

The suite comes from `convkit-bench --print-suite` (the same layers, same shapes, float32 NCHW; conv rows
carry per-axis strideH/W, padH/W, dilationH/W and groups).
One JSON object per line on stdout:
  {"peer": "torch", "variant": "nchw", "name": "alexnet_c2", "op": "conv2d", "direction": "forward",
   "threads": 2, "median_ms": ..., "min_ms": ..., "flops": ..., "gflops": ..., "bytes": ..., "gbps": ...}
plus one {"meta": true, ...} line describing the peer (version, threads, backend).
Directions use ConvKit's names: forward, backwardData, backwardFilter (conv) / backwardWeights (dense),
backward (pooling, activations), inference (max pooling without indices).
Timing as in ConvKit: warm-up, calls per sample chosen so one sample lasts >= min-time, median and min
over `repeats` samples.
"""
import argparse, json, math, sys, time


def bench(fn, min_time, repeats, first=[True]):
    warm = 0.3 if first[0] else 0.02          # the first measurement of the process warms up longer
    first[0] = False
    t0 = time.perf_counter(); fn(); per = time.perf_counter() - t0
    while time.perf_counter() - t0 < warm:
        a = time.perf_counter(); fn(); per = time.perf_counter() - a
    calls = max(1, math.ceil(min_time / max(per, 1e-9)))
    samples = []
    for _ in range(repeats):
        a = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - a) / calls)
    samples.sort()
    n = len(samples)
    median = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    return median, samples[0], calls


def out_size(size, k, stride, pad, dilation=1):
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def conv_axes(s):
    """Per-axis (strides, pads, dilations) of a conv row; older suite files only have stride and pad."""
    st = [s.get("strideH", s.get("stride", 1)), s.get("strideW", s.get("stride", 1))]
    pd = [s.get("padH", s.get("pad", 0)), s.get("padW", s.get("pad", 0))]
    dl = [s.get("dilationH", 1), s.get("dilationW", 1)]
    return st, pd, dl


def pool_bytes(s):
    """ConvKit's byte counts (so GB/s compare like for like): forward reads the input and writes the
    output and int32 indices; inference (no indices) reads the input and writes the output; backward
    reads the output gradient and indices and writes the input gradient."""
    oh, ow = out_size(s["H"], s["R"], s["stride"], s["pad"]), out_size(s["W"], s["S"], s["stride"], s["pad"])
    inp, out = s["N"] * s["C"] * s["H"] * s["W"], s["N"] * s["C"] * oh * ow
    return 4.0 * (inp + 2 * out), 4.0 * (inp + out), 4.0 * (2 * out + inp), oh, ow


def conv_flops(s):
    """2·N·K·OH·OW·(C/G)·R·S, as Conv2DGeometry.flops."""
    st, pd, dl = conv_axes(s)
    oh, ow = out_size(s["H"], s["R"], st[0], pd[0], dl[0]), out_size(s["W"], s["S"], st[1], pd[1], dl[1])
    return 2.0 * s["N"] * s["K"] * oh * ow * (s["C"] // (s.get("groups") or 1)) * s["R"] * s["S"], oh, ow


class Emitter:
    def __init__(self, peer, threads, min_time, repeats):
        self.peer, self.threads, self.min_time, self.repeats = peer, threads, min_time, repeats

    def run(self, variant, spec, direction, fn, flops=None, nbytes=None, impl=""):
        median, minimum, calls = bench(fn, self.min_time, self.repeats)
        row = dict(peer=self.peer, variant=variant, name=spec["name"], op=spec["op"], direction=direction,
                   threads=self.threads, median_ms=median * 1e3, min_ms=minimum * 1e3, calls_per_sample=calls,
                   samples=self.repeats, flops=flops, gflops=flops / median / 1e9 if flops else None,
                   bytes=nbytes, gbps=nbytes / median / 1e9 if nbytes else None, impl=impl)
        print(json.dumps(row), flush=True)
        print(f"  {self.peer} {variant} {spec['name']} {direction} {self.threads}T: {median * 1e3:.3g} ms", file=sys.stderr, flush=True)


def run_torch(suite, em):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(em.threads)
    torch.manual_seed(0)
    print(json.dumps(dict(meta=True, peer="torch", version=torch.__version__, threads=torch.get_num_threads(),
                          mkldnn=torch.backends.mkldnn.is_available(),
                          cpu_capability=torch.backends.cpu.get_cpu_capability())), flush=True)
    aten = torch.ops.aten
    with torch.no_grad():
        for s in suite:
            if s["op"] == "conv2d":
                f, oh, ow = conv_flops(s)
                G = s.get("groups") or 1
                x = torch.randn(s["N"], s["C"], s["H"], s["W"])
                w = torch.randn(s["K"], s["C"] // G, s["R"], s["S"])
                b = torch.randn(s["K"])
                gy = torch.randn(s["N"], s["K"], oh, ow)
                st, pd, dl = conv_axes(s)
                for variant, fmt in (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last)):
                    xv, wv, gyv = (t.contiguous(memory_format=fmt) for t in (x, w, gy))
                    em.run(variant, s, "forward", lambda: F.conv2d(xv, wv, b, st, pd, dl, G), f)
                    # what autograd runs for conv2d's backward: input gradient, then weight + bias gradients
                    args = (gyv, xv, wv, [s["K"]], st, pd, dl, False, [0, 0], G)
                    em.run(variant, s, "backwardData", lambda: aten.convolution_backward(*args, [True, False, False]), f)
                    em.run(variant, s, "backwardFilter", lambda: aten.convolution_backward(*args, [False, True, True]), f)
            elif s["op"] == "dense":
                f = 2.0 * s["N"] * s["IN"] * s["OUT"]
                x = torch.randn(s["N"], s["IN"]); w = torch.randn(s["OUT"], s["IN"]); b = torch.randn(s["OUT"])
                gy = torch.randn(s["N"], s["OUT"])
                em.run("plain", s, "forward", lambda: F.linear(x, w, b), f)
                em.run("plain", s, "backwardData", lambda: torch.mm(gy, w), f)
                em.run("plain", s, "backwardWeights", lambda: (torch.mm(gy.t(), x), gy.sum(0)), f)
            elif s["op"] == "maxpool2d":
                fwd_bytes, inf_bytes, bwd_bytes, oh, ow = pool_bytes(s)
                x = torch.randn(s["N"], s["C"], s["H"], s["W"])
                ks, st, pd = [s["R"], s["S"]], [s["stride"]] * 2, [s["pad"]] * 2
                y, idx = aten.max_pool2d_with_indices(x, ks, st, pd, [1, 1], False)
                gy = torch.randn_like(y)
                em.run("nchw", s, "forward", lambda: aten.max_pool2d_with_indices(x, ks, st, pd, [1, 1], False), None, fwd_bytes,
                       "max_pool2d_with_indices (training forward)")
                em.run("nchw", s, "inference", lambda: F.max_pool2d(x, ks, st, pd), None, inf_bytes, "F.max_pool2d, no_grad")
                em.run("nchw", s, "backward", lambda: aten.max_pool2d_with_indices_backward(gy, x, ks, st, pd, [1, 1], False, idx),
                       None, bwd_bytes)
            elif s["op"] == "relu":
                x = torch.randn(s["count"]); y = torch.empty_like(x); gy = torch.randn_like(x)
                em.run("plain", s, "forward", lambda: torch.clamp_min(x, 0.0, out=y), None, 8.0 * s["count"],
                       "clamp_min(out=) preallocated")
                # what autograd runs for ReLU's backward, into a preallocated output
                em.run("plain", s, "backward", lambda: aten.threshold_backward.grad_input(gy, x, 0.0, grad_input=y), None,
                       12.0 * s["count"], "threshold_backward(grad_input=)")


def run_onnxruntime(suite, em):
    import numpy as np
    import onnx
    from onnx import helper, TensorProto, numpy_helper
    import onnxruntime as ort
    print(json.dumps(dict(meta=True, peer="onnxruntime", version=ort.__version__, onnx=onnx.__version__,
                          threads=em.threads)), flush=True)
    rng = np.random.default_rng(0)
    levels = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,      # default: NCHWc layout transform
              "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC}  # plain NCHW: im2col + MLAS sgemm

    def session(model, level):
        so = ort.SessionOptions()
        so.intra_op_num_threads = em.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = levels[level]
        return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])

    def model_of(node, x_shape, y_shape, inits):
        g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_shape))],
                              [numpy_helper.from_array(a, n) for n, a in inits])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m

    def bound(sess, x, y_shape):
        io = sess.io_binding()   # output pre-allocated and bound: no allocation in the timed call
        io.bind_ortvalue_input("x", ort.OrtValue.ortvalue_from_numpy(x))
        io.bind_ortvalue_output("y", ort.OrtValue.ortvalue_from_shape_and_type(list(y_shape), np.float32))
        return lambda: sess.run_with_iobinding(io)

    for s in suite:
        if s["op"] == "conv2d":
            f, oh, ow = conv_flops(s)
            G = s.get("groups") or 1
            x = rng.standard_normal((s["N"], s["C"], s["H"], s["W"]), dtype=np.float32)
            w = rng.standard_normal((s["K"], s["C"] // G, s["R"], s["S"]), dtype=np.float32)
            b = rng.standard_normal((s["K"],), dtype=np.float32)
            y_shape = (s["N"], s["K"], oh, ow)
            st, pd, dl = conv_axes(s)
            node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[s["R"], s["S"]],
                                    strides=st, pads=[pd[0], pd[1], pd[0], pd[1]], dilations=dl, group=G)
            m = model_of(node, x.shape, y_shape, [("w", w), ("b", b)])
            for level in levels:
                em.run(level, s, "forward", bound(session(m, level), x, y_shape), f)
        elif s["op"] == "dense":
            f = 2.0 * s["N"] * s["IN"] * s["OUT"]
            x = rng.standard_normal((s["N"], s["IN"]), dtype=np.float32)
            w = rng.standard_normal((s["OUT"], s["IN"]), dtype=np.float32)
            b = rng.standard_normal((s["OUT"],), dtype=np.float32)
            node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
            m = model_of(node, x.shape, (s["N"], s["OUT"]), [("w", w), ("b", b)])
            em.run("all", s, "forward", bound(session(m, "all"), x, (s["N"], s["OUT"])), f)
        elif s["op"] == "maxpool2d":
            _, inf_bytes, _, oh, ow = pool_bytes(s)
            x = rng.standard_normal((s["N"], s["C"], s["H"], s["W"]), dtype=np.float32)
            y_shape = (s["N"], s["C"], oh, ow)
            node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[s["R"], s["S"]],
                                    strides=[s["stride"]] * 2, pads=[s["pad"]] * 4)
            m = model_of(node, x.shape, y_shape, [])
            em.run("all", s, "inference", bound(session(m, "all"), x, y_shape), None, inf_bytes, "MaxPool (no indices)")
        elif s["op"] == "relu":
            x = rng.standard_normal((s["count"],), dtype=np.float32)
            m = model_of(helper.make_node("Relu", ["x"], ["y"]), x.shape, x.shape, [])
            em.run("all", s, "forward", bound(session(m, "all"), x, x.shape), None, 8.0 * s["count"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", required=True, choices=["torch", "onnxruntime"])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--suite", required=True, help="JSON from convkit-bench --print-suite")
    ap.add_argument("--min-time", type=float, default=0.05)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    suite = json.load(open(a.suite))
    em = Emitter(a.peer, a.threads, a.min_time, a.repeats)
    {"torch": run_torch, "onnxruntime": run_onnxruntime}[a.peer](suite, em)


if __name__ == "__main__":
    main()
