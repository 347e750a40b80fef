"""Merge convkit-bench's JSON with the peers' JSON lines into one Markdown table and one SVG chart.

Usage: python combine.py --convkit convkit.json --peers a.jsonl [b.jsonl ...] --markdown out.md --svg out.svg
       [--svg-detail gflops.svg] [--suite suite.json] [--json combined.json] [--note "text"]

Each row of the table is one layer x direction x thread count: the algorithm ConvKit's `automatic` runs
(conv rows; other rows: the fastest verified algorithm), every peer variant's median time (GFLOP/s or GB/s in
parentheses) and the ratio fastest peer time / ConvKit time (> 1: ConvKit is faster; < 1: the peer is).
When convkit-bench ran with --cold, the summary also gives fastest peer (warm) / ConvKit's first call after
a pause.
The summary (first) gives, per suite (`suite` field of convkit-bench --print-suite: default, broad),
direction and thread count, the geometric mean of that ratio over the conv layers, the cells below 0.8
and the worst cell. --svg draws that ratio per conv layer (the headline chart, 1200 px wide);
--svg-detail the raw GFLOP/s of every algorithm and peer and ConvKit's fraction of the BLAS ceiling.
"""
import argparse, html, json, math

PEER_LABEL = {("torch", "nchw"): "torch NCHW", ("torch", "channels_last"): "torch CL",
              ("torch", "plain"): "torch", ("onnxruntime", "all"): "ORT all", ("onnxruntime", "basic"): "ORT basic"}
SHORT = {"forward": "fwd", "backwardData": "bwd data", "backwardFilter": "bwd filter",
         "backwardWeights": "bwd weights", "backward": "bwd", "inference": "infer"}


def label(peer, variant):
    return PEER_LABEL.get((peer, variant), f"{peer} {variant}")


def fmt(x):
    if x is None or not math.isfinite(x):
        return "–"
    a = abs(x)
    return f"{x:.0f}" if a >= 100 else f"{x:.1f}" if a >= 10 else f"{x:.2f}" if a >= 1 else f"{x:.3g}"


def load(args):
    ck = json.load(open(args.convkit))
    peers, meta = [], []
    for path in args.peers:
        for line in open(path):
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            (meta if d.get("meta") else peers).append(d)
    return ck, peers, meta


def load_suites(path):
    """name -> suite ('default', 'broad', 'quick') from convkit-bench --print-suite (default when absent)."""
    if not path:
        return {}
    return {s["name"]: s.get("suite") or "default" for s in json.load(open(path))}


def build_rows(ck, peers, suites=None):
    """One dict per (name, direction, threads) present in ConvKit's fast results."""
    suites = suites or {}
    columns = []
    for p in peers:
        key = label(p["peer"], p["variant"])
        if key not in columns:
            columns.append(key)
    rows = []
    fast = [r for r in ck["results"] if r.get("verified") is not None]
    naive = {(r["name"], r["direction"]): r for r in ck["results"] if r.get("verified") is None}
    keys = []
    for r in fast:
        k = (r["name"], r["direction"], r["threads"])
        if k not in keys:
            keys.append(k)
    for name, direction, threads in keys:
        mine = [r for r in fast if (r["name"], r["direction"], r["threads"]) == (name, direction, threads)]
        fastest_mine = min(mine, key=lambda r: r["median_ms"])
        # What a user gets: the row of the algorithm `automatic` runs (conv), else the fastest one.
        best = next((r for r in mine if r.get("chosen_by_automatic")), fastest_mine)
        cells = {}
        for p in peers:
            if (p["name"], p["direction"], p["threads"]) == (name, direction, threads):
                cells[label(p["peer"], p["variant"])] = p
        fastest = min(cells.values(), key=lambda p: p["median_ms"]) if cells else None
        rows.append(dict(name=name, suite=suites.get(name, "default"), direction=direction, threads=threads,
                         convkit=best, fastest_convkit=fastest_mine, all_convkit=mine,
                         auto_over_best=best["median_ms"] / fastest_mine["median_ms"],
                         cold_ratio=fastest["median_ms"] / best["cold_ms"] if fastest and best.get("cold_ms") else None,
                         naive=naive.get((name, direction)), peers=cells, fastest=fastest,
                         ratio=fastest["median_ms"] / best["median_ms"] if fastest else None))
    return columns, rows


def rate(r):
    """'ms (GFLOP/s)' or 'ms (GB/s)'."""
    if r is None:
        return "–"
    extra = r.get("gflops") if r.get("gflops") is not None else r.get("gbps")
    unit = "" if r.get("gflops") is not None else " GB/s"
    return f"{fmt(r['median_ms'])} ({fmt(extra)}{unit})" if extra is not None else fmt(r["median_ms"])


LOW = 0.8   # a cell below this ratio counts as "well behind the fastest peer"
DIRECTIONS = ("forward", "backwardData", "backwardFilter")
SUITE_TITLE = {"default": "default suite (the anchors' ten conv layers)", "broad": "broad suite (layer families, docs/Benchmarks.md)",
               "quick": "quick suite"}


def suite_order(rows):
    names = []
    for r in rows:
        if r["suite"] not in names:
            names.append(r["suite"])
    return names


def conv_rows(rows):
    return [r for r in rows if r["convkit"].get("op") == "conv2d" and r["ratio"] is not None]


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def cells(rows, suite, direction, threads):
    return [r for r in conv_rows(rows) if r["suite"] == suite and r["direction"] == direction and r["threads"] == threads]


def summary(rows):
    """Per suite, direction and thread count: the geometric mean over the conv layers of
    (fastest peer / ConvKit), the cells below LOW and the worst cell; then each conv layer's
    2-thread / 1-thread speed-up of the algorithm `automatic` runs."""
    conv = conv_rows(rows)
    if not conv:
        return []
    out = ["## Summary over the conv layers", "",
           f"Ratio = fastest peer time / ConvKit time (above 1.0: ConvKit is faster), ConvKit running the algorithm "
           f"`automatic` picks; geometric mean over the suite's conv layers; cells below {LOW} and the worst cell "
           f"(ConvKit's algorithm vs the fastest peer). `cold`: the same with ConvKit's first call after a pause "
           f"(peers warm); `auto / fastest`: how much slower `automatic` is than ConvKit's fastest algorithm "
           f"(worst row; rows above 1.10).", ""]
    for suite in suite_order(conv):
        out += [f"### {SUITE_TITLE.get(suite, suite)}", "",
                f"| direction | threads | layers | geomean (fastest peer / ConvKit) | cells < {LOW} | worst cell "
                f"| cold geomean | cold cells < {LOW} | auto / fastest (worst) | rows > 1.10 |",
                "|---|--:|--:|--:|--:|---|--:|--:|---|--:|"]
        for direction in DIRECTIONS:
            for threads in sorted({r["threads"] for r in conv}):
                sel = cells(rows, suite, direction, threads)
                if not sel:
                    continue
                worst = min(sel, key=lambda r: r["ratio"])
                peer = label(worst["fastest"]["peer"], worst["fastest"]["variant"])
                low = sorted((r for r in sel if r["ratio"] < LOW), key=lambda r: r["ratio"])
                cold = [r["cold_ratio"] for r in sel if r.get("cold_ratio")]
                cold_cells = (f"{geomean(cold):.2f} ({len(cold)}) | {sum(1 for v in cold if v < LOW)}" if cold else "– | –")
                slow = max(sel, key=lambda r: r["auto_over_best"])
                out.append(f"| {direction} | {threads} | {len(sel)} | {geomean([r['ratio'] for r in sel]):.2f} | {len(low)} | "
                           f"{worst['name']} {worst['ratio']:.2f} ({worst['convkit']['algorithm']} vs {peer}) | {cold_cells} | "
                           f"{slow['name']} {slow['auto_over_best']:.2f} | {sum(1 for r in sel if r['auto_over_best'] > 1.10)} |")
        out.append("")
    one = {(r["name"], r["direction"]): r for r in conv if r["threads"] == 1}
    two = [r for r in conv if r["threads"] == 2 and (r["name"], r["direction"]) in one]
    if two:
        out += ["ConvKit 2 threads / 1 thread (`automatic`'s algorithm at each count; layers above 1 GFLOP in bold):", "",
                "| layer | GFLOP | forward | backwardData | backwardFilter |", "|---|--:|--:|--:|--:|"]
        names = []
        for r in two:
            if r["name"] not in names:
                names.append(r["name"])
        for name in names:
            cells_, gflop = [], None
            for direction in DIRECTIONS:
                r2 = next((r for r in two if r["name"] == name and r["direction"] == direction), None)
                if r2 is None:
                    cells_.append("–")
                    continue
                gflop = r2["convkit"]["flops"] / 1e9
                cells_.append(f"{one[(name, direction)]['convkit']['median_ms'] / r2['convkit']['median_ms']:.2f}x")
            big = gflop is not None and gflop > 1
            out.append(f"| {'**' + name + '**' if big else name} | {gflop:.2f} | " + " | ".join(cells_) + " |")
        out.append("")
    return out


def markdown(ck, meta, columns, rows, note):
    m = ck["machine"]
    out = ["# ConvKit beside its peers", "",
           f"- CPU: {m['cpu_model']}, {m['cores']} cores; threads {', '.join(map(str, m['threads']))}; "
           f"date {m['date']}; load average {', '.join(str(x) for x in m['load_average'])}"
           + (" (noisy)" if m.get("noisy") else ""),
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
    out += [""] + summary(rows)
    out += ["## Every row", "", "Cells: median ms per call (GFLOP/s, or GB/s for memory-bound rows). `ratio` = fastest peer time / "
            "ConvKit time: above 1 ConvKit is faster, below 1 the peer is. ConvKit = the algorithm `automatic` "
            "runs (named; `fastest` names ConvKit's fastest algorithm where that is another one, with its time); `of BLAS` = ConvKit's time share of the bare sgemm calls it issues (memory-bound rows: copy time "
            "of the same bytes / ConvKit time). GB/s use ConvKit's byte counts on every side.", ""]
    head = ["layer", "direction", "threads", "ConvKit", "of BLAS"] + columns + ["fastest peer", "ratio"]
    suites = suite_order(rows)
    previous = None
    for r in sorted(rows, key=lambda r: suites.index(r["suite"])):
        if r["suite"] != previous:
            if len(suites) > 1:
                out += ["", f"### {SUITE_TITLE.get(r['suite'], r['suite'])}", ""]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * 3 + "--:|" * (len(head) - 3))
        previous = r["suite"]
        c = r["convkit"]
        cells = [r["name"], SHORT.get(r["direction"], r["direction"]), str(r["threads"]),
                 f"{rate(c)} {c['algorithm']}" + (f" (fastest {r['fastest_convkit']['algorithm']} {fmt(r['fastest_convkit']['median_ms'])})"
                                                   if r["fastest_convkit"] is not c else ""),
                 f"{c['fraction_of_blas'] * 100:.0f}%" if c.get("fraction_of_blas") is not None
                 else f"{c['fraction_of_copy'] * 100:.0f}% of copy" if c.get("fraction_of_copy") is not None else "–"]
        cells += [rate(r["peers"].get(col)) for col in columns]
        cells += [label(r["fastest"]["peer"], r["fastest"]["variant"]) if r["fastest"] else "–",
                  (fmt(r["ratio"]) + "x") if r["ratio"] is not None else "–"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


PALETTE = ["#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def panel(title, groups, series, y0, log, ref=None, colors=None):
    """Grouped bars; series = [(name, [value or None per group])]; colors: name -> colour (default: palette
    order). Returns (svg text, width, height)."""
    colors = colors or {}
    color = lambda i, name: colors.get(name, PALETTE[i % len(PALETTE)])
    left, top, ph, bottom, bw = 70, 56, 260, 110, 7
    gw = max(26, len(series) * bw + 10)
    width = left + len(groups) * gw + 20
    vals = [v for _, vs in series for v in vs if v is not None and v > 0 and math.isfinite(v)] or [1]
    pt, pb = y0 + top, y0 + top + ph
    if log:
        lo = 10 ** math.floor(math.log10(min(vals))); hi = max(lo * 10, 10 ** math.ceil(math.log10(max(vals))))
        ticks, t = [], lo
        while t <= hi * 1.0001:
            ticks.append(t); t *= 10
        ypos = lambda v: pb - (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * ph
    else:
        mx = max(max(vals), ref or 0) * 1.05
        raw = mx / 5; mag = 10 ** math.floor(math.log10(raw)); step = next(s * mag for s in (1, 2, 5, 10) if s * mag >= raw)
        hi = math.ceil(mx / step) * step
        ticks = [i * step for i in range(int(round(hi / step)) + 1)]
        ypos = lambda v: pb - v / hi * ph
    right = left + len(groups) * gw
    o = [f'<text x="{left}" y="{y0 + 18}" font-size="13" font-weight="bold">{html.escape(title)}</text>']
    lx = left
    for i, (name, _) in enumerate(series):
        o.append(f'<rect x="{lx}" y="{y0 + 28}" width="10" height="10" fill="{color(i, name)}"/>')
        o.append(f'<text x="{lx + 14}" y="{y0 + 37}" font-size="11">{html.escape(name)}</text>')
        lx += 24 + len(name) * 6.5
    for t in ticks:
        y = ypos(t)
        o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#dddddd"/>')
        o.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{fmt(t)}</text>')
    if ref is not None:
        o.append(f'<line x1="{left}" y1="{ypos(ref):.1f}" x2="{right}" y2="{ypos(ref):.1f}" stroke="#444" stroke-dasharray="4 3"/>')
    o.append(f'<line x1="{left}" y1="{pb}" x2="{right}" y2="{pb}" stroke="black"/>')
    for g, lab in enumerate(groups):
        gx = left + g * gw + 5
        for i, (name, vs) in enumerate(series):
            v = vs[g]
            if v is None or not (v > 0) or not math.isfinite(v):
                continue
            y = ypos(v)
            o.append(f'<rect x="{gx + i * bw:.1f}" y="{y:.1f}" width="{bw - 1}" height="{max(0, pb - y):.1f}" '
                     f'fill="{color(i, name)}"><title>{html.escape(f"{lab}, {name}: {fmt(v)}")}</title></rect>')
        tx, ty = gx + len(series) * bw / 2, pb + 10
        o.append(f'<text x="{tx:.1f}" y="{ty}" font-size="10" text-anchor="end" transform="rotate(-55 {tx:.1f} {ty})">{html.escape(lab)}</text>')
    return "\n".join(o), width, top + ph + bottom


THREAD_COLORS = {1: ("#4e79a7", "#d62728"), 2: ("#a0cbe8", "#ff9896")}   # (normal, below LOW) per thread count


def svg(ck, columns, rows, width=1200):
    """The headline chart: per direction, one panel of fastest peer time / ConvKit time per conv layer and
    thread count, on a log axis around 1.0 (bars up: ConvKit faster; down: a peer is faster; red: below LOW)."""
    conv = conv_rows(rows)
    m = ck["machine"]
    title = f"ConvKit vs the fastest peer (PyTorch NCHW/channels-last, ONNX Runtime): {m['cpu_model']}, {m['date']}" \
        + (" (noisy)" if m.get("noisy") else "")
    o = [f'<text x="10" y="22" font-size="15" font-weight="bold">{html.escape(title)}</text>',
         f'<text x="10" y="42" font-size="13">Bar = fastest peer time ÷ ConvKit time, log scale. '
         f'Above 1.0: ConvKit faster; below 1.0: the peer is faster; red: below {LOW}.</text>']
    if not conv:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" font-family="sans-serif">\n'
                + "\n".join(o) + "\n</svg>\n")
    threads = sorted({r["threads"] for r in conv})
    layers = []
    for r in conv:
        if (r["suite"], r["name"]) not in layers:
            layers.append((r["suite"], r["name"]))
    suites = suite_order(conv)
    layers.sort(key=lambda sn: suites.index(sn[0]))
    ratios = [r["ratio"] for r in conv]
    lo = min(0.25, 2 ** math.floor(math.log2(min(ratios)))) if min(ratios) > 0 else 0.25
    hi = max(4.0, 2 ** math.ceil(math.log2(max(ratios))))
    left, right, ph, label_h = 62, 12, 210, 120
    gw = (width - left - right) / len(layers)
    bw = min(14.0, (gw - 4) / len(threads))
    y = 54
    # legend
    lx = left
    for t in threads:
        normal, low = THREAD_COLORS.get(t, ("#777777", "#d62728"))
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
        if not any(r["direction"] == direction for r in conv):
            continue
        stats = []
        for suite in suites:
            for t in threads:
                sel = cells(rows, suite, direction, t)
                if sel:
                    stats.append(f"{suite} {t}T: geomean {geomean([r['ratio'] for r in sel]):.2f}, "
                                 f"{sum(1 for r in sel if r['ratio'] < LOW)}/{len(sel)} below {LOW}")
        o.append(f'<text x="{left}" y="{y + 16}" font-size="14" font-weight="bold">{direction}</text>')
        o.append(f'<text x="{left + 130}" y="{y + 16}" font-size="11">{html.escape("; ".join(stats))}</text>')
        top = y + 26
        for tick in ticks:
            ty = ypos(tick, top)
            o.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" stroke="#e4e4e4"/>')
            o.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" text-anchor="end">{fmt(tick)}</text>')
        o.append(f'<line x1="{left}" y1="{ypos(LOW, top):.1f}" x2="{width - right}" y2="{ypos(LOW, top):.1f}" '
                 f'stroke="#d62728" stroke-dasharray="5 4"/>')
        base = ypos(1.0, top)
        # suite separators and names
        for i, (suite, name) in enumerate(layers):
            if i > 0 and suite != layers[i - 1][0]:
                sx = left + i * gw
                o.append(f'<line x1="{sx:.1f}" y1="{top - 6}" x2="{sx:.1f}" y2="{top + ph + 4}" stroke="#555" stroke-dasharray="2 3"/>')
            if i == 0 or suite != layers[i - 1][0]:
                o.append(f'<text x="{left + i * gw + 3:.1f}" y="{top + 8}" font-size="11" fill="#555">{html.escape(suite)} suite</text>')
            gx = left + i * gw + (gw - bw * len(threads)) / 2
            for j, t in enumerate(threads):
                r = next((r for r in conv if r["name"] == name and r["direction"] == direction and r["threads"] == t), None)
                if r is None:
                    continue
                normal, low = THREAD_COLORS.get(t, ("#777777", "#d62728"))
                v = r["ratio"]
                vy = ypos(v, top)
                peer = label(r["fastest"]["peer"], r["fastest"]["variant"])
                tip = f"{name} {direction} {t}T: {v:.2f} (ConvKit {r['convkit']['algorithm']} {fmt(r['convkit']['median_ms'])} ms, {peer} {fmt(r['fastest']['median_ms'])} ms)"
                o.append(f'<rect x="{gx + j * bw:.1f}" y="{min(vy, base):.1f}" width="{bw - 1:.1f}" height="{max(abs(base - vy), 1):.1f}" '
                         f'fill="{low if v < LOW else normal}"><title>{html.escape(tip)}</title></rect>')
        o.append(f'<line x1="{left}" y1="{base:.1f}" x2="{width - right}" y2="{base:.1f}" stroke="black" stroke-width="1.5"/>')
        o.append(f'<text x="{width - right - 4}" y="{ypos(hi, top) + 11:.1f}" font-size="11" text-anchor="end" fill="#555">ConvKit faster ↑</text>')
        o.append(f'<text x="{width - right - 4}" y="{ypos(lo, top) - 4:.1f}" font-size="11" text-anchor="end" fill="#555">peer faster ↓</text>')
        for i, (suite, name) in enumerate(layers):
            tx, ty = left + (i + 0.5) * gw, top + ph + 10
            o.append(f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="11" text-anchor="end" transform="rotate(-60 {tx:.1f} {ty:.1f})">{html.escape(name)}</text>')
        y = top + ph + label_h
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{int(y)}" viewBox="0 0 {width} {int(y)}" font-family="sans-serif">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(o) + "\n</svg>\n")


def svg_detail(ck, columns, rows):
    """The raw figures: GFLOP/s of naive, every ConvKit algorithm and every peer (log), ConvKit's fraction of
    the BLAS ceiling, GB/s of the memory-bound rows; at the highest thread count."""
    threads = max(r["threads"] for r in rows)
    sel = [r for r in rows if r["threads"] == threads and r["convkit"].get("flops")]
    groups = [f"{r['name']} {SHORT.get(r['direction'], r['direction'])}" for r in sel]
    algos = []
    for r in sel:
        for c in r["all_convkit"]:
            if c["algorithm"] not in algos:
                algos.append(c["algorithm"])
    series = [("naive (1T, scaled)", [r["naive"]["gflops"] if r["naive"] else None for r in sel])]
    for a in algos:
        series.append((f"ConvKit {a}", [next((c["gflops"] for c in r["all_convkit"] if c["algorithm"] == a), None) for r in sel]))
    for col in columns:
        series.append((col, [r["peers"][col]["gflops"] if col in r["peers"] else None for r in sel]))
    parts, y, width = [], 30, 640
    if sel:
        p, w, h = panel(f"GFLOP/s at {threads} thread(s), log scale (higher is better)", groups, series, y, True)
        parts.append(p); y += h; width = max(width, w)
        frac = [(f"ConvKit {a}", [next((c.get("fraction_of_blas") for c in r["all_convkit"] if c["algorithm"] == a), None) for r in sel]) for a in algos]
        colors = {name: PALETTE[i % len(PALETTE)] for i, (name, _) in enumerate(series)}
        p, w, h = panel("ConvKit: fraction of the BLAS ceiling (bare sgemm, same shapes and threads)", groups, frac, y, False, 1.0, colors)
        parts.append(p); y += h; width = max(width, w)
    mem = [r for r in rows if r["threads"] == threads and r["convkit"].get("gbps") is not None]
    if mem:
        mg = [f"{r['name']} {SHORT.get(r['direction'], r['direction'])}" for r in mem]
        ms = [("ConvKit", [r["convkit"]["gbps"] for r in mem])]
        ms += [(col, [r["peers"][col].get("gbps") if col in r["peers"] else None for r in mem]) for col in columns]
        p, w, h = panel(f"GB/s at {threads} thread(s)", mg, ms, y, False)
        parts.append(p); y += h; width = max(width, w)
    m = ck["machine"]
    title = f"ConvKit beside its peers: {m['cpu_model']}, OpenBLAS {m['blas_core']}, {m['date']}" + (" (noisy)" if m.get("noisy") else "")
    width = max(width, len(title) * 8.5)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" height="{int(y)}" viewBox="0 0 {int(width)} {int(y)}" font-family="sans-serif">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n<text x="10" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>\n'
            + "\n".join(parts) + "\n</svg>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convkit", required=True)
    ap.add_argument("--peers", nargs="*", default=[])
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--svg", required=True, help="headline chart: fastest peer / ConvKit per conv layer")
    ap.add_argument("--svg-detail", help="raw GFLOP/s (and BLAS-ceiling fractions, GB/s) chart")
    ap.add_argument("--suite", help="convkit-bench --print-suite JSON (suite of each layer)")
    ap.add_argument("--json")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    ck, peers, meta = load(a)
    columns, rows = build_rows(ck, peers, load_suites(a.suite))
    open(a.markdown, "w").write(markdown(ck, meta, columns, rows, a.note))
    open(a.svg, "w").write(svg(ck, columns, rows))
    if a.svg_detail:
        open(a.svg_detail, "w").write(svg_detail(ck, columns, rows))
    if a.json:
        json.dump(dict(machine=ck["machine"], peers_meta=meta, convkit=ck["results"], peers=peers), open(a.json, "w"), indent=1)
    print(open(a.markdown).read())


if __name__ == "__main__":
    main()
