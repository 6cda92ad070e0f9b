package brain2img.io;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}}, then the data.
 * Tensors are views into the mapping (no copy, no 2 GiB limit); everything is validated when opened.
 */
public final class SafeTensors implements TensorFile {
    /** Headers above this size are refused: real ones are a few MB at most. */
    private static final long MAX_HEADER = 100L << 20;

    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensors(Path file, Arena arena, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafeTensors open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new FormatException(file + ": " + size + " bytes is too short for a safetensors file");
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw new FormatException(file + ": header length " + headerLen + " is impossible for a file of "
                        + size + " bytes (truncated or not safetensors)");
            }
            byte[] hb = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header = Json.parse(new String(hb, StandardCharsets.UTF_8).strip(), file + " header");
            if (!header.isObject()) throw new FormatException(file + ": header is not a JSON object");
            MemorySegment data = all.asSlice(8 + headerLen);
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, Entry> entries = parseEntries(file, header, data.byteSize(), meta);
            return new SafeTensors(file, arena, data, entries, meta);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Entry> parseEntries(Path file, JsonNode header, long dataSize, Map<String, String> meta) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                v.fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String where = file + ": tensor '" + name + "'";
            DType dtype = DType.fromSafetensors(v.path("dtype").asText(""));
            if (dtype == null) throw new FormatException(where + " has unsupported dtype '" + v.path("dtype").asText() + "'");
            JsonNode shapeNode = v.path("shape"), offs = v.path("data_offsets");
            if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
                throw new FormatException(where + " lacks a shape array or a data_offsets pair");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) throw new FormatException(where + " has a negative or non-integer dimension");
            }
            long begin = offs.get(0).asLong(-1), end = offs.get(1).asLong(-1);
            long need = Tensor.numel(shape) * dtype.bytes;
            if (begin < 0 || end < begin || end > dataSize) {
                throw new FormatException(where + " has data_offsets [" + begin + "," + end + "] outside the "
                        + dataSize + " bytes of data (truncated file?)");
            }
            if (end - begin != need) {
                throw new FormatException(where + ": " + (end - begin) + " bytes stored but " + dtype.lower()
                        + java.util.Arrays.toString(shape) + " needs " + need);
            }
            entries.put(name, new Entry(name, dtype, shape, begin, end));
        }
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.begin() < prev.end() && cur.end() > cur.begin()) {
                throw new FormatException(file + ": tensors '" + prev.name() + "' and '" + cur.name() + "' overlap");
            }
        }
        return entries;
    }

    @Override
    public Path file() { return file; }

    @Override
    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    /** Tensor names in header order. */
    @Override
    public List<String> names() { return List.copyOf(entries.keySet()); }

    @Override
    public boolean contains(String name) { return entries.containsKey(name); }

    @Override
    public DType dtype(String name) { return entry(name).dtype(); }

    @Override
    public long[] shape(String name) { return entry(name).shape().clone(); }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new FormatException(file + ": no tensor named '" + name + "'");
        return e;
    }

    /** The stored tensor as a zero-copy view of the mapping, in its stored dtype. */
    @Override
    public Tensor get(String name) {
        Entry e = entry(name);
        return Tensor.wrap(data.asSlice(e.begin(), e.end() - e.begin()), e.dtype(), e.shape());
    }

    @Override
    public void close() {
        arena.close();
    }

    // ------------------------------------------------------------------ writing

    /** Writes tensors (in map order) and string metadata atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = Json.MAPPER.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", t.dtype().safetensorsName);
            var shape = n.putArray("shape");
            for (long s : t.shape()) shape.add(s);
            long len = t.numel() * t.dtype().bytes;
            n.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] hb = Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsBytes(header);
        int padded = (hb.length + 7) / 8 * 8; // keeps the data 8-byte aligned
        byte[] headerBytes = java.util.Arrays.copyOf(hb, padded);
        java.util.Arrays.fill(headerBytes, hb.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            byte[] len = new byte[8];
            java.nio.ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len);
            out.write(headerBytes);
            for (Tensor t : tensors.values()) writeData(out, t);
        });
    }

    static void writeData(java.io.OutputStream out, Tensor t) throws IOException {
        MemorySegment seg = t.segment();
        long len = t.numel() * t.dtype().bytes;
        byte[] buf = new byte[1 << 20];
        for (long pos = 0; pos < len; pos += buf.length) {
            int n = (int) Math.min(buf.length, len - pos);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, buf, 0, n);
            out.write(buf, 0, n);
        }
    }
}
