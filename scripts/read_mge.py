#!/usr/bin/env python3
"""Read an ntrain .mge checkpoint (docs/mge-format.md) with the standard library only.

Usage: read_mge.py FILE [--json]
Prints the tensor table and verifies every CRC; --json prints one object with the metadata and
each tensor's dtype, shape and values. Exits 1 on a damaged file.
"""
import json, struct, sys, zlib

FORMATS = {"F32": ("f", 4), "I32": ("i", 4), "I64": ("q", 8), "U8": ("B", 1)}


def read_mge(path):
    buf = open(path, "rb").read()
    if len(buf) < 28 or buf[:8] != b"NTRNMGE1":
        raise ValueError("not an ntrain checkpoint")
    version, flags, hlen = struct.unpack_from("<IIQ", buf, 8)
    if version != 1 or flags != 0 or hlen > 16 << 20:
        raise ValueError(f"unsupported version {version} / flags {flags} / header length {hlen}")
    if zlib.crc32(buf[:-4]) != struct.unpack_from("<I", buf, len(buf) - 4)[0]:
        raise ValueError("file CRC32 mismatch")
    header = json.loads(buf[24:24 + hlen].decode("utf-8"))
    data_start = (24 + hlen + 63) // 64 * 64
    tensors = {}
    for name, e in sorted(header["tensors"].items(), key=lambda kv: kv[1]["offset"]):
        code, size = FORMATS[e["dtype"]]
        count = 1
        for d in e["shape"]:
            count *= d
        if count * size != e["length"] or e["offset"] % 64:
            raise ValueError(f"tensor {name}: bad length or alignment")
        start = data_start + e["offset"]
        raw = buf[start:start + e["length"]]
        if start + e["length"] > len(buf) - 4 or zlib.crc32(raw) != e["crc32"]:
            raise ValueError(f"tensor {name}: out of bounds or CRC32 mismatch")
        values = list(struct.unpack(f"<{count}{code}", raw))
        tensors[name] = {"dtype": e["dtype"], "shape": e["shape"], "offset": e["offset"], "values": values}
    return header["metadata"], tensors


def main():
    args = [a for a in sys.argv[1:] if a != "--json"]
    if len(args) != 1:
        sys.exit(__doc__)
    try:
        metadata, tensors = read_mge(args[0])
    except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
        sys.exit(f"{args[0]}: {e}")
    if "--json" in sys.argv:
        json.dump({"metadata": metadata, "tensors": tensors}, sys.stdout, sort_keys=True)
        print()
        return
    print(f"{'name':40} {'dtype':5} {'shape':20} {'offset':>10}")
    for name, t in tensors.items():
        print(f"{name:40} {t['dtype']:5} {str(t['shape']):20} {t['offset']:>10}")
    print(f"{len(tensors)} tensors, all CRC32 checks passed")


if __name__ == "__main__":
    main()
