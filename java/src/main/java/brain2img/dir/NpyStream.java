package brain2img.dir;

import brain2img.io.Npy;
import brain2img.tensor.DType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A C-order .npy written row block by row block, so a layer of any size passes through bounded memory. Data go
 * to a hidden sibling that {@link #commit} renames into place once every value promised by the header is there;
 * {@link #close} without commit deletes it (nothing half-written is ever visible under the real name).
 */
final class NpyStream implements AutoCloseable {
    private final Path target, tmp;
    private final FileChannel ch;
    private final long expected, header;
    private long written;
    private boolean committed;

    NpyStream(Path target, DType dtype, long... shape) throws IOException {
        this.target = target;
        Files.createDirectories(target.toAbsolutePath().getParent());
        this.tmp = target.resolveSibling("." + target.getFileName() + ".part");
        this.ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, StandardOpenOption.READ);
        byte[] h = Npy.header(dtype, shape);
        this.header = h.length;
        ch.write(ByteBuffer.wrap(h));
        long n = 1;
        for (long s : shape) n *= s;
        this.expected = n * dtype.bytes;
    }

    void append(float[] v, int from, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v, from, count);
        write(b);
    }

    void append(int[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        write(b);
    }

    private void write(ByteBuffer b) throws IOException {
        written += b.remaining();
        if (written > expected) throw new IllegalStateException(target + ": more data than its shape holds");
        while (b.hasRemaining()) ch.write(b);
    }

    /**
     * Random-access f32 writes for files filled column block by column block: {@code rows} segments of
     * {@code count} values, row r at element (r·rowLength + col0). Call {@link #reserve} first.
     */
    void writeColumns(float[] block, int rows, int count, long rowLength, long col0) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            b.clear();
            b.asFloatBuffer().put(block, r * count, count);
            long pos = header + ((long) r * rowLength + col0) * 4;
            while (b.hasRemaining()) pos += ch.write(b, pos);
        }
    }

    /** Reads values [e0, e0 + count) of the data (for a second pass over a file filled by {@link #writeColumns}). */
    float[] read(long e0, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        long pos = header + e0 * 4;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new IOException(tmp + ": short read");
            pos += n;
        }
        b.flip();
        float[] v = new float[count];
        b.asFloatBuffer().get(v);
        return v;
    }

    /** Overwrites values [e0, e0 + v.length) of the data. */
    void overwrite(long e0, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        long pos = header + e0 * 4;
        while (b.hasRemaining()) pos += ch.write(b, pos);
    }

    /** Marks the whole data as present (after {@link #writeColumns} has filled every value). */
    void reserve() {
        written = expected;
    }

    void commit() throws IOException {
        if (written != expected) throw new IllegalStateException(target + ": " + written + " of " + expected + " data bytes written");
        ch.close();
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            ch.close();
            Files.deleteIfExists(tmp);
        }
    }
}
