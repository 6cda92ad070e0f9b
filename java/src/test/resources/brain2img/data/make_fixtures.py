# Writes the HDF5 test fixtures. betas_chunked.hdf5 is the one for NSD's own HDF5 betas layout: dataset /betas, int16, shape
# (T, Z, Y, X) = (6, 3, 4, 5), chunked one voxel's time series per chunk (6, 1, 1, 1) as nsd export.m does,
# value(t, z, y, x) = x + 10*y + 100*z - 1000*t. Made with h5py 3.7 (Debian python3-h5py): python3 make_betas_chunked.py
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
