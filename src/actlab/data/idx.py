"""The IDX format of MNIST and Fashion-MNIST (LeCun et al.), raw or gzip-compressed.

Layout: a 4-byte magic number 0x00 0x00 <type> <ndim>, then ndim big-endian uint32
sizes, then the array in C order, big-endian. Labels are idx1 (magic 2049), images
idx3 (magic 2051), both of type 0x08 (unsigned byte).
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import ActlabError

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder(">") if dt.itemsize > 1 else dt: code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise ActlabError(f"{path}: corrupt or truncated gzip file ({exc}); re-download it") from None


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip detected from its first bytes) into a numpy array.

    ndim: the number of dimensions expected (1 for labels, 3 for images); a file with
    another magic number raises ActlabError, as does a file shorter or longer than its
    header says.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ActlabError(f"{path}: truncated IDX file ({len(data)} bytes, not even a header)")
    zero, code, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _DTYPES or (ndim is not None and dims != ndim):
        want = f"0x0000{0x08:02x}{ndim:02x} ({0x0800 + ndim})" if ndim is not None else "0x0000<type><ndim>"
        raise ActlabError(
            f"{path}: not an IDX{'' if ndim is None else ndim} file: magic number 0x{data[:4].hex()} "
            f"({int.from_bytes(data[:4], 'big')}), expected {want}"
        )
    header = 4 + 4 * dims
    if len(data) < header:
        raise ActlabError(f"{path}: truncated IDX file (header needs {header} bytes, file has {len(data)})")
    shape = struct.unpack(f">{dims}I", data[4:header])
    dtype = _DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "oversized"
        raise ActlabError(f"{path}: {what} IDX file: header says shape {shape} ({expected} bytes), file has {len(data)} bytes")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file; gzip-compressed when compress is True or the name ends in .gz."""
    path = Path(path)
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if dtype not in _CODES:
        raise ActlabError(f"IDX cannot store dtype {array.dtype}; allowed: uint8, int8, int16, int32, float32, float64")
    payload = struct.pack(f">HBB{array.ndim}I", 0, _CODES[dtype], array.ndim, *array.shape)
    payload += np.ascontiguousarray(array, dtype=dtype).tobytes()
    if compress or (compress is None and path.suffix == ".gz"):
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path
