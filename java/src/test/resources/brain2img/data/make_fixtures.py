# Writes the HDF5 test fixtures of brain2img.data (h5py 3.7 from Debian python3-h5py: python3 make_fixtures.py).
# betas_chunked.hdf5: NSD's own HDF5 betas layout, dataset /betas, int16, shape (T, Z, Y, X) = (6, 3, 4, 5),
# chunked one voxel's time series per chunk (6, 1, 1, 1) as nsd export.m does, value(t, z, y, x) = x + 10*y + 100*z - 1000*t.
import h5py
import numpy as np

t, z, y, x = np.meshgrid(np.arange(6), np.arange(3), np.arange(4), np.arange(5), indexing="ij")
with h5py.File("betas_chunked.hdf5", "w") as f:
    f.create_dataset("betas", data=(x + 10 * y + 100 * z - 1000 * t).astype(np.int16), chunks=(6, 1, 1, 1))

# imgbrick_uint8.hdf5: dataset imgBrick, uint8 (images, H, W, 3) = (2, 3, 4, 3) as nsd_stimuli.hdf5 stores it,
# value(i, r, c, k) = 130*i + 20*r + 5*c + k (so values above 127 test the unsigned reading)
i, r, c, k = np.meshgrid(np.arange(2), np.arange(3), np.arange(4), np.arange(3), indexing="ij")
with h5py.File("imgbrick_uint8.hdf5", "w") as f:
    f.create_dataset("imgBrick", data=(130 * i + 20 * r + 5 * c + k).astype(np.uint8))

# v73.mat: a MATLAB v7.3 file as MATLAB lays it out: a 512-byte user block starting with the MAT header text,
# then HDF5; MATLAB's X = [1 2 3; 4 5 6] (2×3 double) is stored transposed, HDF5 shape (3, 2); stim is uint8 1×4
with h5py.File("v73.mat", "w", userblock_size=512) as f:
    x = f.create_dataset("X", data=np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float64).T)
    x.attrs["MATLAB_class"] = np.bytes_("double")
    s = f.create_dataset("stim", data=np.array([[0], [7], [200], [255]], dtype=np.uint8))
    s.attrs["MATLAB_class"] = np.bytes_("uint8")
with open("v73.mat", "r+b") as f:
    f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by: brain2img make_fixtures.py HDF5 schema 1.00 .".ljust(116, b" "))
    f.seek(124)
    f.write(b"\x00\x02IM")
