#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus under Tests/FuzzCorpus/<reader>/ (standard library only).

Each reader gets valid files, truncated ones and malformed ones (bad magic, unsupported types,
headers that announce far more data than the file holds). Deterministic: rerunning rewrites
the same bytes. Run from anywhere: python3 Fuzz/make-corpus.py
"""
import gzip, json, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FuzzCorpus")


def write(reader, name, data):
    d = os.path.join(ROOT, reader)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


# --- IDX ---------------------------------------------------------------------------------
def idx(dims, data, type_code=8):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


labels = idx([10], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
images = idx([2, 4, 4], range(0, 256, 8))
idx_files = {
    "labels-10.idx": labels,
    "images-2x4x4.idx": images,
    "matrix-3x5.idx": idx([3, 5], range(15)),
    "empty-0.idx": idx([0], []),
    "empty-images-0x28x28.idx": idx([0, 28, 28], []),
    "truncated-data.idx": images[:-5],
    "truncated-dims.idx": images[:9],
    "trailing-bytes.idx": labels + b"\x00\x01",
    "bad-magic.idx": b"\x01\x00" + labels[2:],
    "type-float32.idx": idx([2], b"\x00" * 8, type_code=0x0D),
    "rank-0.idx": bytes([0, 0, 8, 0]),
    "huge-dims.idx": idx([0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], [1, 2, 3]),
    "huge-count-empty-rows.idx": idx([0xFFFFFF, 0, 28], []),
    "labels-out-of-range.idx": idx([3], [0, 10, 255]),
    # Crasher found by fuzz-idx (base64 AAAIAwADAAAAAAAAALwAvQ==): [196608, 0, 12320957], no data;
    # MNIST.images(padding: 2) asked for 196608·4·12320961 floats before the rows/columns check.
    "crash-mnist-empty-images.idx": idx([196608, 0, 12320957], []),
}


def gz(data, **kw):
    return gzip.compress(bytes(data), compresslevel=kw.get("level", 9), mtime=0)


def gz_flags(data):
    """A member with FEXTRA, FNAME, FCOMMENT and FHCRC, deflate body from zlib."""
    body = gz(data)[10:]
    head = bytes([0x1F, 0x8B, 8, 0x1E, 0, 0, 0, 0, 0, 3])
    return head + struct.pack("<H", 4) + b"ab\x00c" + b"name.idx\x00" + b"comment\x00" + b"\x00\x00" + body


def gz_stored(data):
    """A member with one stored (uncompressed) deflate block."""
    import zlib
    c = zlib.compressobj(0, zlib.DEFLATED, -15)
    body = c.compress(bytes(data)) + c.flush()
    return bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]) + body + struct.pack("<II", zlib.crc32(bytes(data)), len(data))


gz_files = {
    "labels-10.idx.gz": gz(labels),
    "images-2x4x4.idx.gz": gz(images, level=1),
    "runs-1x64x64.idx.gz": gz(idx([1, 64, 64], [7] * 4096)),
    "flags.idx.gz": gz_flags(labels),
    "stored.idx.gz": gz_stored(images),
    "two-members.idx.gz": gz(labels[:7]) + gz(labels[7:]),
    "truncated.idx.gz": gz(images)[:-6],
    "bad-crc.idx.gz": gz(labels)[:-8] + b"\x00\x00\x00\x00" + gz(labels)[-4:],
    "huge-dims.idx.gz": gz(idx_files["huge-dims.idx"]),
}

def gz_zeros(head, zeros):
    """A gzip member of `head` then `zeros` zero bytes (about 1000:1), written in chunks."""
    import zlib
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body, crc, chunk = c.compress(head), zlib.crc32(head), bytes(1 << 20)
    for _ in range(zeros >> 20):
        body += c.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    body += c.flush()
    return bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]) + body + struct.pack("<II", crc, (len(head) + zeros) & 0xFFFFFFFF)


# Reader limits (docs/Fuzzing.md): bombs of 256 MiB that must stop at once. Larger than
# FUZZ_MAX_LEN, so Fuzz/run.sh replays them one by one with their peak RSS.
gz_files.update({
    "bomb-past-announced.idx.gz": gz_zeros(idx([16], range(16)), 256 << 20),  # 24 bytes announced
    "bomb-no-header.idx.gz": gz_zeros(b"", 256 << 20),                         # type 0x00 after 4 bytes
    "announces-4GiB.idx.gz": gz_zeros(bytes([0, 0, 8, 2]) + struct.pack(">II", 65536, 65536), 1 << 20),
})
for name, data in {**idx_files, **gz_files}.items():
    write("idx", name, data)
# fuzz-idx-gzip prepends a fixed 10-byte header: its seeds are the members without theirs.
for name, data in gz_files.items():
    if data[3] == 0:
        write("idx-gzip", name.replace(".idx.gz", ".deflate"), data[10:])

# --- .npy --------------------------------------------------------------------------------
def npy(header, data=b"", major=1):
    h = header.encode("latin-1")
    prefix = 10 if major == 1 else 12
    pad = (-(prefix + len(h) + 1)) % 64
    h = h + b" " * pad + b"\n"
    size = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + size + h + data


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


def dict_(shape, descr="<f4", fortran="False"):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)


m23 = npy(dict_("(2, 3)"), f32([1, -2, 3.5, float("inf"), 0, -0.0]))
npy_files = {
    "f4-2x3.npy": m23,
    "f4-scalar.npy": npy(dict_("()"), f32([42])),
    "f4-vector-3.npy": npy(dict_("(3,)"), f32([0.5, float("nan"), -1e-40])),
    "f4-empty-0x4.npy": npy(dict_("(0, 4)")),
    "f4-1x2x3-v2.npy": npy(dict_("(1, 2, 3)"), f32(range(6)), major=2),
    "f4-v3.npy": npy(dict_("(2,)"), f32([1, 2]), major=3),
    "f4-long-suffix.npy": npy(dict_("(2L, 1L)"), f32([1, 2])),
    "f4-double-quotes.npy": npy('{"descr": "<f4", "fortran_order": False, "shape": (1,)}', f32([7])),
    "f8.npy": npy(dict_("(2,)", descr="<f8"), b"\x00" * 16),
    "big-endian-f4.npy": npy(dict_("(2,)", descr=">f4"), b"\x00" * 8),
    "fortran.npy": npy(dict_("(2, 2)", fortran="True"), f32([1, 2, 3, 4])),
    "truncated-data.npy": m23[:-3],
    "truncated-header.npy": m23[:30],
    "trailing-bytes.npy": m23 + b"\x00\x00\x00\x00",
    "bad-magic.npy": b"\x93NUMPZ" + m23[6:],
    "version-4.npy": m23[:6] + b"\x04\x00" + m23[8:],
    "huge-shape.npy": npy(dict_("(1000000000000,)"), f32([1])),
    "overflowing-shape.npy": npy(dict_("(4294967296, 4294967296, 4294967296)"), f32([1])),
    "negative-shape.npy": npy(dict_("(-1, 2)"), f32([1, 2])),
    "not-a-dict.npy": npy("[1, 2, 3]"),
    "missing-shape.npy": npy("{'descr': '<f4', 'fortran_order': False}"),
    "header-length-past-end.npy": b"\x93NUMPY\x01\x00\xff\xff{'descr'",
}
for name, data in npy_files.items():
    write("npy", name, data)

# --- safetensors -------------------------------------------------------------------------
def st(header, data=b"", length=None):
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h) if length is None else length) + h + data


two = st({"__metadata__": {"format": "pt"},
          "conv.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
          "conv.bias": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]}},
         f32([1, 2, 3, 4, 5, 6, -1, 0.25]))
st_files = {
    "two-tensors-metadata.safetensors": two,
    "scalar.safetensors": st({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}, f32([3])),
    "empty-tensor.safetensors": st({"e": {"dtype": "F32", "shape": [0, 5], "data_offsets": [0, 0]},
                                    "f": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, f32([9])),
    "no-tensors.safetensors": st({}),
    "escaped-name.safetensors": st({"a\"b\\c\n\u00e9": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, f32([1])),
    "f16.safetensors": st({"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, b"\x00" * 4),
    "overlap.safetensors": st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                               "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32([1, 2, 3])),
    "offsets-past-end.safetensors": st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32([1])),
    "size-mismatch.safetensors": st({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, f32([1, 2])),
    "huge-shape.safetensors": st({"a": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 4]}}, f32([1])),
    "overflowing-shape.safetensors": st({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]}}, f32([1])),
    "negative-dim.safetensors": st({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, f32([1])),
    "float-dim.safetensors": st(b'{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', f32([1])),
    "huge-offset.safetensors": st(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551616]}}', f32([1])),
    "header-length-huge.safetensors": st({}, length=1 << 62),
    "header-length-past-end.safetensors": st({}, length=4096),
    "not-json.safetensors": st(b"{'a': 1}"),
    "not-object.safetensors": st(b"[1,2,3]"),
    "deep-nesting.safetensors": st(b"[" * 600 + b"]" * 600),
    "metadata-not-strings.safetensors": st({"__metadata__": {"n": 1}}),
    "truncated.safetensors": two[:-3],
    "short.safetensors": b"\x10\x00\x00",
}
# Reader limits: one tensor past the cap of 65,536 (zero-size tensors count), 3.3 MB.
st_files["tensor-count-65537.safetensors"] = st(
    b"{" + b",".join(b'"%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}' % i for i in range(65537)) + b"}")
for name, data in st_files.items():
    write("safetensors", name, data)
