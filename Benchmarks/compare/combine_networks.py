"""Merge convkit-bench's networks JSON with the peers' JSON lines (networks.py) into a Markdown table and an SVG chart.

Usage: python combine_networks.py --convkit convkit-networks.json --peers a.jsonl [b.jsonl ...] --markdown out.md
       --svg out.svg [--json combined.json] [--note "text"]

Each row is one network x batch x direction (train, infer) x thread count: ConvKit's median ms, every peer variant's
(torch NCHW, torch channels-last, ONNX Runtime for inference) and the ratios peer time / ConvKit time, i.e. ConvKit's
speed / the peer's (above 1: ConvKit is faster): against the faster torch layout, against ONNX Runtime and against the
fastest peer. The summary gives the geometric mean of each ratio per direction and thread count. Peak resident memory:
ConvKit's and the lower of the torch layouts'. Exits 1 (after writing) when a network's parameter count differs
between ConvKit and a peer: the two would not be running the same architecture.
"""
import argparse, html, json, math, sys

from combine import fmt, geomean, LOW, THREAD_COLORS

PEER_LABEL = {("torch", "nchw"): "torch NCHW", ("torch", "channels_last"): "torch CL", ("onnxruntime", "all"): "ORT"}
DIRECTIONS = ("train", "infer")
AXIS_MAX = 16.0   # top of the chart's ratio axis: one outlier (a peer stalled by load) must not flatten the rest
TITLE = {"train": "training step (forward, loss, backward, SGD momentum)", "infer": "inference (evaluation mode)"}


def label(p):
    return PEER_LABEL.get((p["peer"], p["variant"]), f"{p['peer']} {p['variant']}")


def load(args):
    ck = json.load(open(args.convkit))
    peers, meta = [], []
    for path in args.peers:
        for line in open(path):
            line = line.strip()
            if line:
                d = json.loads(line)
                (meta if d.get("meta") else peers).append(d)
    return ck, peers, meta


def build_rows(ck, peers):
    rows = []
    for c in ck["networks"]:
        key = (c["name"], c["batch"], c["direction"], c["threads"])
        cells = {label(p): p for p in peers if (p["name"], p["batch"], p["direction"], p["threads"]) == key}
        torch = [p for p in cells.values() if p["peer"] == "torch"]
        best_torch = min(torch, key=lambda p: p["median_ms"]) if torch else None
        ort = cells.get("ORT")
        fastest = min(cells.values(), key=lambda p: p["median_ms"]) if cells else None
        ratio = lambda p: p["median_ms"] / c["median_ms"] if p else None
        torch_peak = min((p["peak_rss_bytes"] for p in torch if p.get("peak_rss_bytes")), default=None)
        rows.append(dict(name=c["name"], batch=c["batch"], direction=c["direction"], threads=c["threads"], convkit=c,
                         peers=cells, best_torch=best_torch, ort=ort, fastest=fastest, vs_torch=ratio(best_torch),
                         vs_ort=ratio(ort), vs_fastest=ratio(fastest), torch_peak=torch_peak))
    return rows


def parameter_checks(ck, peers):
    """[(network/batch, ConvKit count, {peer label: count})] and whether every count agrees."""
    out, ok = [], True
    seen = []
    for c in ck["networks"]:
        key = (c["name"], c["batch"])
        if key in seen:
            continue
        seen.append(key)
        counts = {}
        for p in peers:
            if (p["name"], p["batch"]) == key and p.get("parameters") is not None:
                counts[label(p)] = p["parameters"]
        ok = ok and all(v == c["parameters"] for v in counts.values())
        out.append((f"{c['name']}/{c['batch']}", c["parameters"], counts))
    return out, ok


def mib(b):
    return f"{b / 2**20:.0f}" if b else "–"


def ratio_text(v):
    return "–" if v is None else (f"**{v:.2f}**" if v < 1 else f"{v:.2f}")


def markdown(ck, meta, rows, checks, checks_ok, note):
    m = ck["machine"]
    out = ["# ConvKit beside its peers: whole networks", "",
           f"- CPU: {m['cpu_model']}, {m['cores']} cores; threads {', '.join(map(str, m['threads']))}; date {m['date']}; "
           f"load average {', '.join(str(x) for x in m['load_average'])}" + (" (noisy)" if m.get("noisy") else ""),
           f"- ConvKit: OpenBLAS core `{m['blas_core']}` (`{m['blas_configuration']}`), "
           f"OPENBLAS_CORETYPE={m.get('OPENBLAS_CORETYPE') or 'unset'}, OPENBLAS_L2_SIZE={m.get('OPENBLAS_L2_SIZE') or 'unset'}, "
           f"{m['swift_compiler']} {m['build_configuration']}"]
    for d in meta:
        info = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("meta", "peer", "threads"))
        line = f"- {d['peer']} ({d.get('threads')} threads): {info}"
        if line not in out:
            out.append(line)
    if note:
        out.append(f"- {note}")
    out += ["", "## Summary", "",
            "Ratio = peer time / ConvKit time = ConvKit's speed ÷ the peer's: above 1.00 ConvKit is faster (ratios below 1 "
            "in bold). `torch` = the faster of NCHW and channels-last per row; `ORT` = ONNX Runtime (inference only); "
            "`fastest` = the fastest peer of the row. Geometric means over the networks.", "",
            "| direction | threads | networks | geomean ÷ torch | geomean ÷ ORT | geomean ÷ fastest | below 1.00 (÷ fastest) | worst |",
            "|---|--:|--:|--:|--:|--:|--:|---|"]
    threads = sorted({r["threads"] for r in rows})
    for direction in DIRECTIONS:
        for t in threads:
            sel = [r for r in rows if r["direction"] == direction and r["threads"] == t and r["vs_fastest"] is not None]
            if not sel:
                continue
            g = lambda key: (f"{geomean([r[key] for r in sel if r[key] is not None]):.2f}"
                             if any(r[key] is not None for r in sel) else "–")
            worst = min(sel, key=lambda r: r["vs_fastest"])
            below = sum(1 for r in sel if r["vs_fastest"] < 1)
            out.append(f"| {direction} | {t} | {len(sel)} | {g('vs_torch')} | {g('vs_ort')} | {g('vs_fastest')} | {below} | "
                       f"{worst['name']}/{worst['batch']} {worst['vs_fastest']:.2f} (vs {label(worst['fastest'])}) |")
    out += ["", "## Every network", "",
            "Median ms per call (images/s for ConvKit); `cold`: ConvKit's first call after a pause (peers warm); peak RSS "
            "in MiB: the process's peak resident size during the row (ConvKit's, the lower torch layout's).", "",
            "| network | batch | direction | threads | ConvKit ms | images/s | cold ms | torch NCHW | torch CL | ORT | "
            "÷ torch | ÷ ORT | ÷ fastest | peak RSS ConvKit | peak RSS torch |",
            "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for direction in DIRECTIONS:
        for r in (r for r in rows if r["direction"] == direction):
            c = r["convkit"]
            cell = lambda k: fmt(r["peers"][k]["median_ms"]) if k in r["peers"] else "–"
            out.append(f"| {r['name']} | {r['batch']} | {direction} | {r['threads']} | {fmt(c['median_ms'])} | "
                       f"{fmt(c['images_per_s'])} | {fmt(c.get('cold_ms'))} | {cell('torch NCHW')} | {cell('torch CL')} | "
                       f"{cell('ORT')} | {ratio_text(r['vs_torch'])} | {ratio_text(r['vs_ort'])} | {ratio_text(r['vs_fastest'])} | "
                       f"{mib(c.get('peak_rss_bytes'))} | {mib(r['torch_peak'])} |")
    out += ["", "## Same architecture", "",
            "Trainable parameters per network, ConvKit and each peer (the peers' models are Tools/parity/models.py's).", "",
            "| network | ConvKit | peers | equal |", "|---|--:|---|---|"]
    for name, mine, counts in checks:
        equal = all(v == mine for v in counts.values()) if counts else None
        out.append(f"| {name} | {mine} | {', '.join(f'{k} {v}' for k, v in counts.items()) or '–'} | "
                   f"{'yes' if equal else '–' if equal is None else '**NO**'} |")
    if not checks_ok:
        out += ["", "**Parameter counts differ: the rows above do not compare the same architecture.**"]
    return "\n".join(out) + "\n"


def svg(ck, rows, width=1200):
    """Per direction, one panel of fastest peer time / ConvKit time per network and thread count (log axis
    around 1.0; red: below LOW)."""
    m = ck["machine"]
    title = f"Whole networks, ConvKit vs the fastest peer (PyTorch NCHW/channels-last, ONNX Runtime): {m['cpu_model']}, {m['date']}" \
        + (" (noisy)" if m.get("noisy") else "")
    o = [f'<text x="10" y="22" font-size="15" font-weight="bold">{html.escape(title)}</text>',
         f'<text x="10" y="42" font-size="13">Bar = fastest peer time ÷ ConvKit time, log scale. '
         f'Above 1.0: ConvKit faster; below 1.0: the peer is faster; red: below {LOW}.</text>']
    sel = [r for r in rows if r["vs_fastest"] is not None]
    if not sel:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" font-family="sans-serif">\n'
                + "\n".join(o) + "\n</svg>\n")
    threads = sorted({r["threads"] for r in sel})
    ratios = [r["vs_fastest"] for r in sel]
    lo = min(0.25, 2 ** math.floor(math.log2(min(ratios))))
    hi = min(AXIS_MAX, max(4.0, 2 ** math.ceil(math.log2(max(ratios)))))   # taller bars are cut, their label is exact
    left, right, ph, label_h = 62, 12, 210, 120
    y = 54
    lx = left
    for t in threads:
        normal, _ = THREAD_COLORS.get(t, ("#777777", "#d62728"))
        o.append(f'<rect x="{lx}" y="{y}" width="12" height="12" fill="{normal}"/>')
        o.append(f'<text x="{lx + 16}" y="{y + 11}" font-size="12">{t} thread{"s" if t > 1 else ""}</text>')
        lx += 90
    o.append(f'<rect x="{lx}" y="{y}" width="12" height="12" fill="#d62728"/><rect x="{lx + 12}" y="{y}" width="12" height="12" fill="#ff9896"/>')
    o.append(f'<text x="{lx + 28}" y="{y + 11}" font-size="12">below {LOW} (1 / 2 threads)</text>')
    y += 24
    ypos = lambda v, top: top + (math.log(hi) - math.log(min(max(v, lo), hi))) / (math.log(hi) - math.log(lo)) * ph
    ticks, t = [], lo
    while t <= hi * 1.0001:
        ticks.append(t); t *= 2
    for direction in DIRECTIONS:
        nets = []
        for r in sel:
            if r["direction"] == direction and (r["name"], r["batch"]) not in nets:
                nets.append((r["name"], r["batch"]))
        if not nets:
            continue
        gw = (width - left - right) / len(nets)
        bw = min(22.0, (gw - 6) / len(threads))
        stats = []
        for t in threads:
            vs = [r["vs_fastest"] for r in sel if r["direction"] == direction and r["threads"] == t]
            if vs:
                stats.append(f"{t}T: geomean {geomean(vs):.2f}, {sum(1 for v in vs if v < 1)}/{len(vs)} below 1.0")
        o.append(f'<text x="{left}" y="{y + 16}" font-size="14" font-weight="bold">{html.escape(TITLE[direction])}</text>')
        o.append(f'<text x="{left}" y="{y + 33}" font-size="12">{html.escape("; ".join(stats))}</text>')
        top = y + 44
        for tick in ticks:
            ty = ypos(tick, top)
            o.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" stroke="#e4e4e4"/>')
            o.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" text-anchor="end">{fmt(tick)}</text>')
        o.append(f'<line x1="{left}" y1="{ypos(LOW, top):.1f}" x2="{width - right}" y2="{ypos(LOW, top):.1f}" '
                 f'stroke="#d62728" stroke-dasharray="5 4"/>')
        base = ypos(1.0, top)
        for i, (name, batch) in enumerate(nets):
            gx = left + i * gw + (gw - bw * len(threads)) / 2
            for j, t in enumerate(threads):
                r = next((r for r in sel if (r["name"], r["batch"], r["direction"], r["threads"]) == (name, batch, direction, t)), None)
                if r is None:
                    continue
                normal, low = THREAD_COLORS.get(t, ("#777777", "#d62728"))
                v = r["vs_fastest"]
                vy = ypos(v, top)
                tip = (f"{name}/{batch} {direction} {t}T: {v:.2f} (ConvKit {fmt(r['convkit']['median_ms'])} ms, "
                       f"{label(r['fastest'])} {fmt(r['fastest']['median_ms'])} ms)")
                o.append(f'<rect x="{gx + j * bw:.1f}" y="{min(vy, base):.1f}" width="{bw - 1:.1f}" height="{max(abs(base - vy), 1):.1f}" '
                         f'fill="{low if v < LOW else normal}"><title>{html.escape(tip)}</title></rect>')
                o.append(f'<text x="{gx + j * bw + (bw - 1) / 2:.1f}" y="{(max(vy - 3, top + 9) if v >= 1 else vy + 11):.1f}" font-size="9" '
                         f'text-anchor="middle" fill="#333">{v:.2f}</text>')
        o.append(f'<line x1="{left}" y1="{base:.1f}" x2="{width - right}" y2="{base:.1f}" stroke="black" stroke-width="1.5"/>')
        o.append(f'<text x="{width - right - 4}" y="{ypos(hi, top) + 11:.1f}" font-size="11" text-anchor="end" fill="#555">ConvKit faster ↑</text>')
        o.append(f'<text x="{width - right - 4}" y="{ypos(lo, top) - 4:.1f}" font-size="11" text-anchor="end" fill="#555">peer faster ↓</text>')
        for i, (name, batch) in enumerate(nets):
            tx, ty = left + (i + 0.5) * gw, top + ph + 10
            o.append(f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="12" text-anchor="end" transform="rotate(-40 {tx:.1f} {ty:.1f})">'
                     f'{html.escape(f"{name}, batch {batch}")}</text>')
        y = top + ph + label_h
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{int(y)}" viewBox="0 0 {width} {int(y)}" font-family="sans-serif">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(o) + "\n</svg>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convkit", required=True)
    ap.add_argument("--peers", nargs="*", default=[])
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("--json")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    ck, peers, meta = load(a)
    rows = build_rows(ck, peers)
    checks, ok = parameter_checks(ck, peers)
    open(a.markdown, "w").write(markdown(ck, meta, rows, checks, ok, a.note))
    open(a.svg, "w").write(svg(ck, rows))
    if a.json:
        json.dump(dict(machine=ck["machine"], peers_meta=meta, convkit=ck["networks"], profiles=ck.get("profiles", []),
                       peers=peers), open(a.json, "w"), indent=1)
    print(open(a.markdown).read())
    if not ok:
        print("combine_networks: parameter counts differ between ConvKit and a peer", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
