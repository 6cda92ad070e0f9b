package brain2img.data;

import brain2img.io.AtomicFiles;
import brain2img.io.FormatException;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * NIfTI-1 single-file images ({@code .nii}, or gzip-compressed {@code .nii.gz}), either byte order. Data are
 * in Fortran order (x fastest, then y, z, t); {@link #readVolumes} streams one 3-D volume at a time so a
 * 4-D file of any size needs only one volume of memory. Values are scaled by {@code scl_slope}/{@code scl_inter}
 * when the slope is non-zero (0 means unscaled, as NSD writes them).
 */
public final class Nifti {
    /** The header fields an importer needs; {@code dims} are dim[1..dim[0]]. */
    public record Header(int[] dims, int datatype, int bytesPerVoxel, long voxOffset, float slope, float inter,
                         ByteOrder order, boolean gzip) {
        public int x() { return dims[0]; }
        public int y() { return dims.length > 1 ? dims[1] : 1; }
        public int z() { return dims.length > 2 ? dims[2] : 1; }
        public int t() { return dims.length > 3 ? Math.toIntExact(Arrays.stream(dims).skip(3).asLongStream().reduce(1, (a, b) -> a * b)) : 1; }
        public int volumeSize() { return Math.multiplyExact(Math.multiplyExact(x(), y()), z()); }
        boolean scaled() { return slope != 0 && Float.isFinite(slope); }
    }

    public static final int UINT8 = 2, INT16 = 4, INT32 = 8, FLOAT32 = 16, FLOAT64 = 64, INT8 = 256, UINT16 = 512,
            UINT32 = 768, INT64 = 1024;

    private Nifti() {}

    @FunctionalInterface
    public interface VolumeSink {
        /** Volume t (0-based) as X·Y·Z values in Fortran order; the array is reused for the next volume. */
        void accept(int t, float[] volume) throws IOException;
    }

    public static Header header(Path file) {
        try (InputStream in = open(file)) {
            return parseHeader(in, file);
        } catch (IOException e) {
            throw ioError(file, e);
        }
    }

    /** Streams every 3-D volume of the file in order. */
    public static Header readVolumes(Path file, VolumeSink sink) {
        try (InputStream raw = open(file)) {
            Header h = parseHeader(raw, file);
            DataInputStream in = new DataInputStream(raw);
            skipFully(in, h.voxOffset() - 348, file);
            int n = h.volumeSize();
            byte[] bytes = new byte[Math.multiplyExact(n, h.bytesPerVoxel())];
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(h.order());
            float[] vol = new float[n];
            for (int t = 0; t < h.t(); t++) {
                try {
                    in.readFully(bytes);
                } catch (EOFException e) {
                    throw new FormatException(file + ": truncated: data end in volume " + t + " of " + h.t()
                            + " (expected " + ((long) n * h.bytesPerVoxel() * h.t()) + " data bytes)");
                }
                decode(buf, h, vol);
                sink.accept(t, vol);
            }
            return h;
        } catch (IOException e) {
            throw ioError(file, e);
        }
    }

    /** The whole image (at most 2^31 values) as floats in Fortran order. */
    public static float[] readAll(Path file) {
        Header h = header(file);
        float[] all = new float[Math.multiplyExact(h.volumeSize(), h.t())];
        readVolumes(file, (t, vol) -> System.arraycopy(vol, 0, all, t * vol.length, vol.length));
        return all;
    }

    /**
     * The voxel-to-world affine (4×4 row-major): the sform rows when sform_code &gt; 0, else the voxel sizes
     * (pixdim) on the diagonal. The qform quaternion is not read (NSD writes qform_code 0).
     */
    public static double[] affine(Path file) {
        byte[] hb = new byte[348];
        try (InputStream in = open(file)) {
            new DataInputStream(in).readFully(hb);
        } catch (IOException e) {
            throw ioError(file, e);
        }
        ByteBuffer b = ByteBuffer.wrap(hb).order(parseOrder(hb, file));
        double[] a = new double[16];
        if (b.getShort(254) > 0) {
            for (int i = 0; i < 12; i++) a[i] = b.getFloat(280 + 4 * i);
        } else {
            for (int r = 0; r < 3; r++) a[r * 4 + r] = b.getFloat(80 + 4 * r);
        }
        a[15] = 1;
        return a;
    }

    private static ByteOrder parseOrder(byte[] hb, Path file) {
        if (ByteBuffer.wrap(hb).order(ByteOrder.LITTLE_ENDIAN).getInt(0) == 348) return ByteOrder.LITTLE_ENDIAN;
        if (ByteBuffer.wrap(hb).order(ByteOrder.BIG_ENDIAN).getInt(0) == 348) return ByteOrder.BIG_ENDIAN;
        throw new FormatException(file + ": not a NIfTI-1 file (sizeof_hdr is not 348)");
    }

    private static FormatException ioError(Path file, IOException e) {
        if (e instanceof NoSuchFileException) return new FormatException(file + ": no such file");
        if (e instanceof java.util.zip.ZipException) return new FormatException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
        if (e instanceof EOFException) return new FormatException(file + ": truncated (unexpected end of file)", e);
        return new FormatException(file + ": cannot read (" + e.getMessage() + ")", e);
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int a = in.read(), b = in.read();
        in.reset();
        return a == 0x1f && b == 0x8b ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
    }

    private static void skipFully(DataInputStream in, long n, Path file) throws IOException {
        if (n < 0) throw new FormatException(file + ": vox_offset " + (n + 348) + " lies inside the 348-byte header");
        in.skipNBytes(n);
    }

    private static Header parseHeader(InputStream in, Path file) throws IOException {
        byte[] hb = new byte[348];
        try {
            new DataInputStream(in).readFully(hb);
        } catch (EOFException e) {
            throw new FormatException(file + ": too short for a NIfTI-1 header (348 bytes)");
        }
        boolean gzip = file.getFileName().toString().endsWith(".gz");
        ByteBuffer b = ByteBuffer.wrap(hb).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 348) {
            b.order(ByteOrder.BIG_ENDIAN);
            if (b.getInt(0) != 348) {
                int le = ByteBuffer.wrap(hb).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
                throw new FormatException(file + ": not a NIfTI-1 file (sizeof_hdr " + le + ", expected 348"
                        + (le == 540 ? "; NIfTI-2 is not supported" : "") + ")");
            }
        }
        String magic = new String(hb, 344, 3, StandardCharsets.US_ASCII);
        if (magic.equals("ni1")) throw new FormatException(file + ": a .hdr/.img pair header; only single-file .nii(.gz) is supported");
        if (!magic.equals("n+1")) throw new FormatException(file + ": bad NIfTI-1 magic '" + magic.replaceAll("[^ -~]", "?") + "' (expected n+1)");
        int rank = b.getShort(40);
        if (rank < 1 || rank > 7) throw new FormatException(file + ": dim[0] = " + rank + " (must be 1..7)");
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = b.getShort(42 + 2 * i);
            if (dims[i] < 1) throw new FormatException(file + ": dim[" + (i + 1) + "] = " + dims[i] + " (must be ≥ 1)");
        }
        int datatype = b.getShort(70), bitpix = b.getShort(72);
        int bytes = switch (datatype) {
            case UINT8, INT8 -> 1;
            case INT16, UINT16 -> 2;
            case INT32, UINT32, FLOAT32 -> 4;
            case FLOAT64, INT64 -> 8;
            default -> throw new FormatException(file + ": unsupported NIfTI datatype " + datatype
                    + " (supported: uint8 2, int16 4, int32 8, float32 16, float64 64, int8 256, uint16 512, uint32 768, int64 1024)");
        };
        if (bitpix != bytes * 8) throw new FormatException(file + ": bitpix " + bitpix + " does not match datatype " + datatype + " (" + bytes * 8 + " bits)");
        float voxOffset = b.getFloat(108);
        if (!(voxOffset >= 348) || voxOffset != Math.rint(voxOffset)) throw new FormatException(file + ": bad vox_offset " + voxOffset);
        return new Header(dims, datatype, bytes, (long) voxOffset, b.getFloat(112), b.getFloat(116), b.order(), gzip);
    }

    private static void decode(ByteBuffer b, Header h, float[] out) {
        int n = out.length;
        switch (h.datatype()) {
            case UINT8 -> { for (int i = 0; i < n; i++) out[i] = Byte.toUnsignedInt(b.get(i)); }
            case INT8 -> { for (int i = 0; i < n; i++) out[i] = b.get(i); }
            case INT16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(2 * i); }
            case UINT16 -> { for (int i = 0; i < n; i++) out[i] = Short.toUnsignedInt(b.getShort(2 * i)); }
            case INT32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i); }
            case UINT32 -> { for (int i = 0; i < n; i++) out[i] = Integer.toUnsignedLong(b.getInt(4 * i)); }
            case FLOAT32 -> { for (int i = 0; i < n; i++) out[i] = b.getFloat(4 * i); }
            case FLOAT64 -> { for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(8 * i); }
            case INT64 -> { for (int i = 0; i < n; i++) out[i] = b.getLong(8 * i); }
            default -> throw new AssertionError(h.datatype());
        }
        if (h.scaled()) {
            for (int i = 0; i < n; i++) out[i] = out[i] * h.slope() + h.inter();
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes a NIfTI-1 file the way NSD's nsd_savenifti does: sform_code 1 with 1.8 mm voxels centred on the
     * volume, qform_code 0, TR 4/3 s, scl_slope = scl_inter = 0 unless given. Values are stored as
     * {@code datatype} (int16, float32 or float64), rounded for int16; gzip when the name ends in .gz.
     */
    public static void write(Path file, int[] dims, int datatype, float[] data, float slope, float inter) throws IOException {
        int[] grid = {dims[0], dims.length > 1 ? dims[1] : 1, dims.length > 2 ? dims[2] : 1};
        write(file, dims, datatype, data, slope, inter, VolumeGeometry.centredAffine(grid, 1.8f));
    }

    /** As {@link #write(Path, int[], int, float[], float, float)} with the given sform (4×4 row-major; pixdim = its column norms). */
    public static void write(Path file, int[] dims, int datatype, float[] data, float slope, float inter, double[] affine) throws IOException {
        long n = Arrays.stream(dims).asLongStream().reduce(1, (a, c) -> a * c);
        if (n != data.length) throw new IllegalArgumentException(data.length + " values for dims " + Arrays.toString(dims));
        int bytes = switch (datatype) {
            case INT16 -> 2;
            case FLOAT32 -> 4;
            case FLOAT64 -> 8;
            default -> throw new IllegalArgumentException("writing datatype " + datatype + " is not supported");
        };
        ByteBuffer h = ByteBuffer.allocate(352).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0, 348);
        h.putShort(40, (short) dims.length);
        for (int i = 0; i < dims.length; i++) h.putShort(42 + 2 * i, (short) dims[i]);
        h.putShort(70, (short) datatype);
        h.putShort(72, (short) (bytes * 8));
        float[] pix = {0, 1, 1, 1, 4f / 3, 1, 1, 1};
        for (int c = 0; c < 3; c++) {
            pix[c + 1] = (float) Math.sqrt(affine[c] * affine[c] + affine[4 + c] * affine[4 + c] + affine[8 + c] * affine[8 + c]);
        }
        for (int i = 0; i < 8; i++) h.putFloat(76 + 4 * i, pix[i]);
        h.putFloat(108, 352);
        h.putFloat(112, slope);
        h.putFloat(116, inter);
        h.put(123, (byte) 10); // mm and seconds
        h.putShort(252, (short) 0);
        h.putShort(254, (short) 1);
        for (int i = 0; i < 12; i++) h.putFloat(280 + 4 * i, (float) affine[i]);
        h.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1');
        boolean gz = file.getFileName().toString().endsWith(".gz");
        AtomicFiles.write(file, raw -> {
            OutputStream out = gz ? new GZIPOutputStream(raw, 1 << 16) : raw;
            out.write(h.array());
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : data) {
                if (buf.remaining() < 8) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
                switch (datatype) {
                    case INT16 -> buf.putShort((short) Math.round(v));
                    case FLOAT32 -> buf.putFloat(v);
                    default -> buf.putDouble(v);
                }
            }
            out.write(buf.array(), 0, buf.position());
            if (gz) ((GZIPOutputStream) out).finish();
        });
    }
}
