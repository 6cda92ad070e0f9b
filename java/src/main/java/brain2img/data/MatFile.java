package brain2img.data;

import brain2img.io.AtomicFiles;
import brain2img.io.FormatException;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Node;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;

/**
 * MATLAB MAT files: level 5 (v5/v6/v7, plain or zlib-compressed {@code miCOMPRESSED} elements) read by the
 * small parser below, and v7.3 (HDF5 with a 512-byte header) read through jhdf. Numeric and char matrices
 * are returned as {@link Var}s in MATLAB's column-major order; cells, structs, objects and sparse
 * matrices are listed but cannot be read as numbers. A writer for level 5 serves tests and the synthetic NSD tree.
 */
public final class MatFile {
    /** A variable: MATLAB dims, class name ("double", "uint8", "char", ...), values column-major (null if not numeric). */
    public record Var(String name, int[] dims, String matlabClass, double[] data) {
        public int rows() { return dims[0]; }
        public int cols() { return dims.length < 2 ? 1 : Math.toIntExact(Arrays.stream(dims).skip(1).asLongStream().reduce(1, (a, b) -> a * b)); }
        public long numel() { return Arrays.stream(dims).asLongStream().reduce(1, (a, b) -> a * b); }

        /** Value at (row, col) of the matrix seen as rows × cols. */
        public double at(int row, int col) { return data[col * dims[0] + row]; }

        public String describe() {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < dims.length; i++) s.append(i > 0 ? "×" : "").append(dims[i]);
            return name + " (" + s + " " + matlabClass + ")";
        }
    }

    // MAT-file data types (miINT8 ... miUTF32) and array classes (mxCELL_CLASS ...), per the MAT-file format spec
    private static final int MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6,
            MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15,
            MI_UTF8 = 16, MI_UTF16 = 17, MI_UTF32 = 18;
    private static final String[] CLASSES = {null, "cell", "struct", "object", "char", "sparse", "double", "single",
            "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"};

    private final Path file;
    private final Map<String, Var> vars;

    private MatFile(Path file, Map<String, Var> vars) {
        this.file = file;
        this.vars = vars;
    }

    public Map<String, Var> variables() { return vars; }

    public boolean has(String name) { return vars.containsKey(name); }

    /** The named variable; an unknown name is an error that lists the variables present. */
    public Var get(String name) {
        Var v = vars.get(name);
        if (v == null) throw new FormatException(file + ": no variable '" + name + "' (has: " + String.join(", ", vars.keySet()) + ")");
        if (v.data() == null) throw new FormatException(file + ": variable '" + name + "' is a MATLAB " + v.matlabClass() + ", expected a numeric matrix");
        return v;
    }

    public Path file() { return file; }

    // ------------------------------------------------------------------ reading

    public static MatFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        // a bare HDF5 file (no 512-byte MATLAB header) is read like v7.3: some tools write MATLAB-style HDF5 that way
        if (bytes.length >= 8 && (bytes[0] & 0xff) == 0x89 && bytes[1] == 'H' && bytes[2] == 'D' && bytes[3] == 'F') return readHdf5(file);
        if (bytes.length < 128) throw new FormatException(file + ": " + bytes.length + " bytes is too short for a MAT file (128-byte header)");
        String text = new String(bytes, 0, 116, StandardCharsets.ISO_8859_1);
        if (!text.startsWith("MATLAB")) {
            throw new FormatException(file + ": not a MATLAB MAT file (header does not start with 'MATLAB'; v4 files are not supported)");
        }
        if (text.startsWith("MATLAB 7.3")) return readHdf5(file);
        ByteOrder order;
        if (bytes[126] == 'I' && bytes[127] == 'M') order = ByteOrder.LITTLE_ENDIAN;
        else if (bytes[126] == 'M' && bytes[127] == 'I') order = ByteOrder.BIG_ENDIAN;
        else throw new FormatException(file + ": bad endian indicator in MAT header (expected 'IM' or 'MI')");
        Map<String, Var> vars = new LinkedHashMap<>();
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(order);
        int pos = 128;
        while (pos + 8 <= bytes.length) {
            int type = buf.getInt(pos), n = buf.getInt(pos + 4);
            if (n < 0 || (long) pos + 8 + n > bytes.length) {
                throw new FormatException(file + ": truncated: element at byte " + pos + " claims " + Integer.toUnsignedString(n) + " bytes, only " + (bytes.length - pos - 8) + " remain");
            }
            ByteBuffer body = ByteBuffer.wrap(bytes, pos + 8, n).slice().order(order);
            String where = file + " (element at byte " + pos + ")";
            if (type == MI_COMPRESSED) {
                ByteBuffer inner = ByteBuffer.wrap(inflate(bytes, pos + 8, n, where)).order(order);
                if (inner.remaining() < 8 || inner.getInt(0) != MI_MATRIX) throw new FormatException(where + ": compressed element does not hold a matrix");
                int m = inner.getInt(4);
                if (m < 0 || m > inner.remaining() - 8) throw new FormatException(where + ": compressed matrix claims " + m + " bytes, " + (inner.remaining() - 8) + " inflated");
                addVar(vars, parseMatrix(inner.slice(8, m).order(order), where));
                pos += 8 + n; // compressed elements are not padded
            } else if (type == MI_MATRIX) {
                addVar(vars, parseMatrix(body, where));
                pos += 8 + ((n + 7) & ~7);
            } else {
                throw new FormatException(where + ": top-level element of type " + type + ", expected a matrix (14) or compressed (15)");
            }
        }
        return new MatFile(file, vars);
    }

    private static void addVar(Map<String, Var> vars, Var v) {
        if (v != null) vars.put(v.name(), v);
    }

    private static byte[] inflate(byte[] bytes, int off, int len, String where) {
        Inflater inf = new Inflater();
        inf.setInput(bytes, off, len);
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, len * 4));
        byte[] chunk = new byte[1 << 16];
        try {
            while (!inf.finished()) {
                int k = inf.inflate(chunk);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new FormatException(where + ": compressed data ends early (truncated file?)");
                }
                out.write(chunk, 0, k);
            }
        } catch (DataFormatException e) {
            throw new FormatException(where + ": corrupt compressed data (" + e.getMessage() + ")");
        } finally {
            inf.end();
        }
        return out.toByteArray();
    }

    /** One sub-element: its type and a view of its payload; advances buf past it (and its padding). */
    private record Sub(int type, ByteBuffer data) {}

    private static Sub sub(ByteBuffer buf, String where) {
        if (buf.remaining() < 8) throw new FormatException(where + ": matrix ends inside a sub-element tag");
        int first = buf.getInt(buf.position());
        int type, n, start;
        if ((first >>> 16) != 0) { // small data element: 2 bytes count, 2 bytes type, 4 bytes data
            n = first >>> 16;
            type = first & 0xffff;
            start = buf.position() + 4;
            if (n > 4) throw new FormatException(where + ": small data element claims " + n + " bytes");
            buf.position(buf.position() + 8);
        } else {
            type = first;
            n = buf.getInt(buf.position() + 4);
            start = buf.position() + 8;
            if (n < 0 || n > buf.limit() - start) throw new FormatException(where + ": sub-element of " + n + " bytes overruns its matrix");
            buf.position(Math.min(buf.limit(), start + ((n + 7) & ~7)));
        }
        ByteBuffer data = buf.duplicate().order(buf.order());
        data.position(start).limit(start + n);
        return new Sub(type, data.slice().order(buf.order()));
    }

    private static Var parseMatrix(ByteBuffer m, String where) {
        if (m.remaining() == 0) return null; // an empty matrix element
        Sub flags = sub(m, where);
        if (flags.type() != MI_UINT32 || flags.data().remaining() < 8) throw new FormatException(where + ": bad array-flags sub-element");
        int f = flags.data().getInt(0);
        int cls = f & 0xff;
        boolean complex = (f & 0x800) != 0;
        Sub dimSub = sub(m, where);
        if (dimSub.type() != MI_INT32) throw new FormatException(where + ": dimensions must be int32, got type " + dimSub.type());
        int[] dims = new int[dimSub.data().remaining() / 4];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = dimSub.data().getInt(i * 4);
            if (dims[i] < 0) throw new FormatException(where + ": negative dimension " + dims[i]);
        }
        Sub nameSub = sub(m, where);
        byte[] nb = new byte[nameSub.data().remaining()];
        nameSub.data().get(nb);
        String name = new String(nb, StandardCharsets.UTF_8);
        String w = where + " variable '" + name + "'";
        String clsName = cls > 0 && cls < CLASSES.length ? CLASSES[cls] : "class" + cls;
        if (cls < 4 || cls == 5 || cls >= CLASSES.length) return new Var(name, dims, clsName, null);
        if (complex) throw new FormatException(w + ": complex matrices are not supported");
        long numel = Arrays.stream(dims).asLongStream().reduce(1, (a, b) -> a * b);
        Sub real = sub(m, w);
        double[] data = numbers(real, numel, w);
        return new Var(name, dims, clsName, data);
    }

    /** Decodes numel values stored as any MAT numeric type (MATLAB stores doubles in smaller integer types). */
    private static double[] numbers(Sub s, long numel, String where) {
        ByteBuffer b = s.data();
        int size = switch (s.type()) {
            case MI_INT8, MI_UINT8, MI_UTF8 -> 1;
            case MI_INT16, MI_UINT16, MI_UTF16 -> 2;
            case MI_INT32, MI_UINT32, MI_SINGLE, MI_UTF32 -> 4;
            case MI_DOUBLE, MI_INT64, MI_UINT64 -> 8;
            default -> throw new FormatException(where + ": unsupported data type " + s.type());
        };
        if (s.type() == MI_UTF8 && numel != b.remaining()) {
            throw new FormatException(where + ": UTF-8 char data with multi-byte characters is not supported");
        }
        if ((long) b.remaining() != numel * size) {
            throw new FormatException(where + ": holds " + b.remaining() + " bytes, expected " + numel + " values × " + size + " bytes");
        }
        double[] out = new double[Math.toIntExact(numel)];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (s.type()) {
                case MI_INT8 -> b.get(i);
                case MI_UINT8, MI_UTF8 -> Byte.toUnsignedInt(b.get(i));
                case MI_INT16 -> b.getShort(i * 2);
                case MI_UINT16, MI_UTF16 -> Short.toUnsignedInt(b.getShort(i * 2));
                case MI_INT32 -> b.getInt(i * 4);
                case MI_UINT32, MI_UTF32 -> Integer.toUnsignedLong(b.getInt(i * 4));
                case MI_SINGLE -> b.getFloat(i * 4);
                case MI_DOUBLE -> b.getDouble(i * 8);
                case MI_INT64 -> b.getLong(i * 8);
                default -> { // MI_UINT64
                    long l = b.getLong(i * 8);
                    yield l >= 0 ? l : (l >>> 1) * 2.0 + (l & 1);
                }
            };
        }
        return out;
    }

    /** v7.3: an HDF5 file; each root dataset is a variable with a MATLAB_class attribute, dims reversed. */
    private static MatFile readHdf5(Path file) {
        Map<String, Var> vars = new LinkedHashMap<>();
        try (HdfFile h = new HdfFile(file)) {
            for (Node node : h.getChildren().values()) {
                Attribute a = node.getAttribute("MATLAB_class");
                String cls = a == null ? "unknown" : String.valueOf(a.getData());
                if (!(node instanceof Dataset ds)) {
                    vars.put(node.getName(), new Var(node.getName(), new int[]{0}, cls.equals("unknown") ? "struct" : cls, null));
                    continue;
                }
                int[] h5 = ds.getDimensions();
                int[] dims = new int[h5.length];
                for (int i = 0; i < h5.length; i++) dims[i] = h5[h5.length - 1 - i];
                if (dims.length == 1) dims = new int[]{dims[0], 1};
                // C order over the HDF5 shape (reversed dims) is column-major order over MATLAB's dims
                Object flat = ds.getDataFlat();
                vars.put(node.getName(), new Var(node.getName(), dims, cls, flat.getClass().isArray() ? toDoubles(flat, file, node.getName()) : null));
            }
        } catch (FormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new FormatException(file + ": not a readable MAT v7.3 (HDF5) file (" + e.getMessage() + ")", e);
        }
        return new MatFile(file, vars);
    }

    private static double[] toDoubles(Object flat, Path file, String name) {
        int n = Array.getLength(flat);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            Object v = Array.get(flat, i);
            if (!(v instanceof Number num)) return null; // strings, references: not numeric
            out[i] = num.doubleValue();
        }
        return out;
    }

    // ------------------------------------------------------------------ writing (level 5)

    /**
     * Writes variables as a level-5 MAT file (little-endian). Class "double" values that are all integers in
     * [0, 65535] are stored as uint8/uint16 as MATLAB itself does; "uint8" stores bytes. {@code compress} wraps
     * each variable in a zlib {@code miCOMPRESSED} element, as MATLAB's default -v7 does.
     */
    public static void write(Path file, boolean compress, Var... vars) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] header = new byte[128];
        Arrays.fill(header, 0, 116, (byte) ' ');
        byte[] text = "MATLAB 5.0 MAT-file, Platform: brain2img, Created by: brain2img MatFile.write".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, header, 0, text.length);
        header[124] = 0x00; // version 0x0100, little-endian
        header[125] = 0x01;
        header[126] = 'I';
        header[127] = 'M';
        out.write(header);
        for (Var v : vars) {
            byte[] matrix = matrix(v);
            if (compress) {
                ByteArrayOutputStream z = new ByteArrayOutputStream();
                try (DeflaterOutputStream d = new DeflaterOutputStream(z, new Deflater(6))) {
                    d.write(tag(MI_MATRIX, matrix.length));
                    d.write(matrix);
                }
                out.write(tag(MI_COMPRESSED, z.size()));
                z.writeTo(out);
            } else {
                out.write(tag(MI_MATRIX, matrix.length));
                out.write(matrix);
            }
        }
        AtomicFiles.write(file, out.toByteArray());
    }

    private static byte[] matrix(Var v) throws IOException {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        int cls = Arrays.asList(CLASSES).indexOf(v.matlabClass());
        if (cls != 6 && cls != 9) throw new IllegalArgumentException("writing MATLAB class " + v.matlabClass() + " is not supported");
        ByteBuffer flags = le(8).putInt(cls).putInt(0);
        element(m, MI_UINT32, flags.array());
        ByteBuffer dims = le(4 * v.dims().length);
        for (int d : v.dims()) dims.putInt(d);
        element(m, MI_INT32, dims.array());
        element(m, MI_INT8, v.name().getBytes(StandardCharsets.UTF_8));
        double[] x = v.data();
        boolean integral = Arrays.stream(x).allMatch(d -> d == Math.rint(d) && d >= 0 && d <= 65535);
        double max = Arrays.stream(x).max().orElse(0);
        if (cls == 9 || (integral && max <= 255)) {
            byte[] b = new byte[x.length];
            for (int i = 0; i < x.length; i++) b[i] = (byte) (int) x[i];
            element(m, MI_UINT8, b);
        } else if (integral) {
            ByteBuffer b = le(2 * x.length);
            for (double d : x) b.putShort((short) (int) d);
            element(m, MI_UINT16, b.array());
        } else {
            ByteBuffer b = le(8 * x.length);
            for (double d : x) b.putDouble(d);
            element(m, MI_DOUBLE, b.array());
        }
        return m.toByteArray();
    }

    private static void element(ByteArrayOutputStream m, int type, byte[] data) throws IOException {
        m.write(tag(type, data.length));
        m.write(data);
        m.write(new byte[(8 - data.length % 8) % 8]);
    }

    private static byte[] tag(int type, int n) {
        return le(8).putInt(type).putInt(n).array();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
