#!/usr/bin/python3
"""Writes the tiny .npy/.npz fixtures of tests/io/test_npy.cpp with NumPy (run once, from any folder)."""
import os
import numpy as np

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")
os.makedirs(here, exist_ok=True)
j = lambda n: os.path.join(here, n)

base = np.arange(24, dtype="<f8").reshape(2, 3, 4) * 0.5 - 3.0
np.save(j("f8_c.npy"), base)
np.save(j("f4_fortran.npy"), np.asfortranarray(base.astype("<f4")))
for t in ["i1", "i2", "i4", "i8"]:
    info = np.iinfo(t)
    np.save(j(f"{t}.npy"), np.array([info.min, -1, 0, 1, info.max], dtype="<" + t))
for t in ["u1", "u2", "u4", "u8"]:
    info = np.iinfo(t)
    np.save(j(f"{t}.npy"), np.array([0, 1, 7, info.max], dtype="<" + t).reshape(2, 2))
np.save(j("b1.npy"), np.array([[True, False, True], [False, False, True]]))
np.save(j("scalar.npy"), np.float64(2.5))
np.save(j("empty.npy"), np.zeros((0, 3)))
for v in [(2, 0), (3, 0)]:
    with open(j(f"v{v[0]}.npy"), "wb") as f:
        np.lib.format.write_array(f, base, version=v)
np.save(j("big_endian.npy"), base.astype(">f8"))
np.save(j("complex.npy"), np.array([1 + 2j, 3 - 1j]))
np.save(j("object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
np.savez(j("stored.npz"), a=base, b=np.arange(5, dtype="<i4"))
np.savez_compressed(j("compressed.npz"), a=base, b=np.arange(5, dtype="<i4"))

# Every size, offset and count in zip64 records (NumPy does this only for members over 4 GiB):
# lowering zipfile's limits forces the zip64 extra fields and end records on tiny members.
import io
import zipfile
zipfile.ZIP64_LIMIT = 0
zipfile.ZIP_FILECOUNT_LIMIT = 0
with zipfile.ZipFile(j("zip64.npz"), "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
    for name, arr in [("a", base), ("b", np.arange(5, dtype="<i4"))]:
        buf = io.BytesIO()
        np.save(buf, arr)
        z.writestr(name + ".npy", buf.getvalue())
