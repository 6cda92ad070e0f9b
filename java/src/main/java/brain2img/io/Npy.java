package brain2img.io;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * NumPy {@code .npy} (format 1.0, 2.0 and 3.0 headers; little-endian, C order) reading and writing, and
 * {@code .npz} reading. Supported dtypes: f32, f64, f16, i32, i64, u8 (and bool read as u8).
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    public static Tensor read(Path file) {
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
            return read(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + describe(e) + ")", e);
        }
    }

    /** An I/O error's message, or its kind when it has none (an EOFException carries no message). */
    static String describe(IOException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** Dtype, shape and where the data starts, as given by a .npy header. */
    public record Header(DType dtype, long[] shape, long dataOffset) {}

    /** Reads one array from a stream; {@code what} names the source in errors. */
    public static Tensor read(InputStream raw, String what) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        Header h = readHeader(in, what);
        DType dtype = h.dtype();
        long[] shape = h.shape();
        Tensor t = Tensor.allocateHeap(dtype, shape);
        long bytes = t.numel() * dtype.bytes;
        byte[] buf = new byte[1 << 20];
        MemorySegment seg = t.segment();
        for (long pos = 0; pos < bytes; ) {
            int n = (int) Math.min(buf.length, bytes - pos);
            int r = in.read(buf, 0, n);
            if (r < 0) throw new FormatException(what + ": truncated: header promises " + bytes + " data bytes for "
                    + t.shapeString() + ", file has " + pos);
            MemorySegment.copy(buf, 0, seg, ValueLayout.JAVA_BYTE, pos, r);
            pos += r;
        }
        // Heap storage is native-endian; npy is little-endian. Same on every platform this runs on (x86-64, arm64).
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) throw new FormatException("big-endian hosts are not supported");
        return t;
    }

    /** Parses the magic and header of a .npy stream, leaving {@code in} at the first data byte. */
    public static Header readHeader(DataInputStream in, String what) throws IOException {
        byte[] magic = new byte[6];
        try {
            in.readFully(magic);
        } catch (EOFException e) {
            throw new FormatException(what + ": too short to be a .npy file");
        }
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new FormatException(what + ": not a .npy file (bad magic)");
        int major = readOrTruncated(in, 2, what, "the version")[0] & 0xff;
        long headerLen;
        if (major == 1) {
            byte[] b = readOrTruncated(in, 2, what, "the header length");
            headerLen = (b[0] & 0xff) | (b[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            byte[] b = readOrTruncated(in, 4, what, "the header length");
            headerLen = (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
        } else {
            throw new FormatException(what + ": unsupported .npy format version " + major);
        }
        if (headerLen > 1 << 24) throw new FormatException(what + ": implausible .npy header length " + headerLen);
        byte[] hb = readOrTruncated(in, (int) headerLen, what, "the header");
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) throw new FormatException(what + ": malformed .npy header: " + header.strip());
        if (f.group(1).equals("True")) {
            throw new FormatException(what + ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
        }
        int prefix = 6 + 2 + (major == 1 ? 2 : 4);
        return new Header(dtypeOf(d.group(1), what), parseShape(s.group(1), what), prefix + headerLen);
    }

    /** Reads exactly n bytes, or fails naming the part, the bytes expected and the bytes there were. */
    private static byte[] readOrTruncated(InputStream in, int n, String what, String part) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new FormatException(what + ": truncated .npy file: " + part + " needs " + n + " bytes, only "
                    + b.length + " left");
        }
        return b;
    }

    /**
     * Maps a .npy file read-only instead of reading it: the tensor is a view of the file (any size), unmapped
     * when the GC finds it unreachable. Checks that the file holds all the data its header promises.
     */
    public static Tensor map(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h;
            try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                h = readHeader(new DataInputStream(in), file.toString());
            }
            long bytes = Tensor.numel(h.shape()) * h.dtype().bytes;
            if (ch.size() < h.dataOffset() + bytes) {
                throw new FormatException(file + ": truncated: header promises " + bytes + " data bytes for "
                        + h.dtype().lower() + java.util.Arrays.toString(h.shape()) + ", file has " + (ch.size() - h.dataOffset()));
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), Math.max(bytes, 0), Arena.ofAuto());
            return Tensor.wrap(seg, h.dtype(), h.shape());
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + describe(e) + ")", e);
        }
    }

    private static DType dtypeOf(String descr, String what) {
        if (descr.startsWith(">") && !descr.equals(">u1") && !descr.equals(">i1")) {
            throw new FormatException(what + ": big-endian dtype '" + descr + "' is not supported; convert with arr.astype('<" + descr.substring(1) + "')");
        }
        return switch (descr) {
            case "<f4" -> DType.F32;
            case "<f8" -> DType.F64;
            case "<f2" -> DType.F16;
            case "<i4" -> DType.I32;
            case "<i8" -> DType.I64;
            case "|u1", "<u1", "|b1" -> DType.U8;
            default -> throw new FormatException(what + ": unsupported dtype '" + descr + "' (supported: <f4 <f8 <f2 <i4 <i8 |u1)");
        };
    }

    private static long[] parseShape(String body, String what) {
        List<Long> dims = new ArrayList<>();
        for (String part : body.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            if (p.endsWith("L")) p = p.substring(0, p.length() - 1);
            try {
                dims.add(Long.parseLong(p));
            } catch (NumberFormatException e) {
                throw new FormatException(what + ": bad shape entry '" + p + "'");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    // ------------------------------------------------------------------ writing

    public static void write(Path file, Tensor t) throws IOException {
        AtomicFiles.write(file, out -> write(out, t));
    }

    /** Takes the rows of a float32 .npy being written, in order. */
    @FunctionalInterface
    public interface RowSink {
        void row(float[] values) throws IOException;
    }

    /** Produces the rows of a float32 .npy into a {@link RowSink}. */
    @FunctionalInterface
    public interface RowSource {
        void writeTo(RowSink rows) throws IOException;
    }

    /**
     * Writes a (rows, cols) float32 .npy atomically, row by row as {@code source} produces them, so the array is never
     * held whole. A row of another length, or a count other than {@code rows}, fails and leaves no file.
     */
    public static void writeRows(Path file, long rows, int cols, RowSource source) throws IOException {
        AtomicFiles.write(file, out -> {
            out.write(header(DType.F32, new long[]{rows, cols}));
            ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(cols, 4)).order(ByteOrder.LITTLE_ENDIAN);
            long[] written = {0};
            source.writeTo(values -> {
                if (values.length != cols) {
                    throw new IllegalArgumentException(file + ": row " + written[0] + " has " + values.length + " values, the others " + cols);
                }
                if (written[0] == rows) throw new IllegalArgumentException(file + ": more than the " + rows + " rows announced");
                buf.clear();
                buf.asFloatBuffer().put(values);
                out.write(buf.array());
                written[0]++;
            });
            if (written[0] != rows) throw new IllegalArgumentException(file + ": " + written[0] + " rows written, " + rows + " announced");
        });
    }

    public static void write(OutputStream out, Tensor t) throws IOException {
        out.write(header(t.dtype(), t.shape()));
        SafeTensors.writeData(out, t);
    }

    /** The header bytes of a C-order .npy of this dtype and shape; the data (little-endian) follows it. */
    public static byte[] header(DType dtype, long[] s) throws IOException {
        if (dtype.numpyDescr == null) throw new IllegalArgumentException(dtype + " has no NumPy equivalent");
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) shape.append(s[i]).append(s.length == 1 ? "," : (i + 1 < s.length ? ", " : ""));
        shape.append(")");
        String dict = "{'descr': '" + dtype.numpyDescr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int base = MAGIC.length + 2 + 2;
        int total = (base + dict.length() + 1 + 63) / 64 * 64;
        boolean v2 = total - base > 65535;
        if (v2) {
            base += 2;
            total = (base + dict.length() + 1 + 63) / 64 * 64;
        }
        StringBuilder h = new StringBuilder(dict);
        while (base + h.length() + 1 < total) h.append(' ');
        h.append('\n');
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(MAGIC);
        head.write(v2 ? 2 : 1);
        head.write(0);
        ByteBuffer len = ByteBuffer.allocate(v2 ? 4 : 2).order(ByteOrder.LITTLE_ENDIAN);
        if (v2) len.putInt(h.length()); else len.putShort((short) h.length());
        head.write(len.array());
        head.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        return head.toByteArray();
    }

    // ------------------------------------------------------------------ npz

    /** Reads every array of an .npz (stored or deflated zip of .npy files), keyed by name without ".npy". */
    public static Map<String, Tensor> readNpz(Path file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                if (e.isDirectory()) continue;
                String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                try (InputStream in = zip.getInputStream(e)) {
                    out.put(name, read(in, file + ":" + e.getName()));
                }
            }
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": not a readable .npz (" + describe(e) + ")", e);
        }
        return out;
    }
}
