package brain2img.io.torch;

import brain2img.io.FormatException;
import brain2img.io.TensorFile;
import brain2img.io.torch.Pickle.Tuple;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tensors of a PyTorch checkpoint ({@code torch.save} of a state dict: {@code .pth}, {@code .pt},
 * {@code .pth.tar}, {@code .bin}, {@code .ckpt}), read without Python.
 *
 * <p>Both containers are read, told apart by content: the zip format of torch ≥ 1.6 ({@code NAME/data.pkl} plus
 * one record {@code NAME/data/KEY} per storage; stored records are memory-mapped, zero-copy) and the legacy format
 * (a pickled magic number, protocol 1001 and system info, the pickled object, the list of storage keys, then each
 * storage as an 8-byte element count and its raw little-endian bytes). The object is read by a restricted
 * unpickler ({@link Pickle}) that knows only the globals a state dict needs and refuses any other by name.
 *
 * <p>The tensors are the leaves of the pickled dict, nested dicts flattened with dots. Which dict: by default the
 * top level, unless it holds no tensor itself and has a dict under one of {@link #STATE_DICT_KEYS} (as
 * {@code {"state_dict": …, "epoch": 90}} checkpoints do); {@link #open(Path, String)} picks one explicitly. Names
 * are kept as stored ({@code module.} prefixes included). Scalars and strings at the top level
 * ({@code epoch}, {@code arch}) are {@link #metadata()}; other non-tensor leaves are ignored. Contiguous tensors
 * are views of the mapping (valid until {@link #close()}); tensors with other strides are copied to C order;
 * bool tensors read as u8 (0/1).
 */
public final class TorchFile implements TensorFile {
    /** Keys that conventionally hold the state dict inside a training checkpoint, tried in this order. */
    public static final List<String> STATE_DICT_KEYS = List.of("state_dict", "model", "model_state_dict", "net");

    /** The container kind, detected from the first bytes. */
    public enum Format { ZIP, LEGACY }

    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    private static final int MAX_DEPTH = 64;

    private final Path file;
    private final Format format;
    private final Arena arena;
    private final Map<String, TorchTensor> tensors;
    private final Map<String, MemorySegment> storageBytes; // storage key -> bytes from its element 0
    private final Map<String, String> metadata;

    private TorchFile(Path file, Format format, Arena arena, Map<String, TorchTensor> tensors,
                      Map<String, MemorySegment> storageBytes, Map<String, String> metadata) {
        this.file = file;
        this.format = format;
        this.arena = arena;
        this.tensors = tensors;
        this.storageBytes = storageBytes;
        this.metadata = metadata;
    }

    /**
     * The format of a PyTorch file from its first bytes, or null when it is neither (e.g. safetensors). A zip
     * that is not a torch checkpoint is detected as ZIP and refused by {@link #open}.
     */
    public static Format detect(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4);
            while (b.hasRemaining() && ch.read(b) > 0) { /* fill */ }
            b.flip();
            if (b.remaining() >= 4 && b.getInt(0) == 0x504b0304) return Format.ZIP; // "PK\3\4"
            if (b.remaining() >= 2 && (b.get(0) & 0xff) == 0x80 && (b.get(1) & 0xff) >= 2) return Format.LEGACY; // pickle PROTO
            return null;
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Opens a checkpoint, taking the state dict as described in the class comment. */
    public static TorchFile open(Path file) {
        return open(file, null);
    }

    /**
     * Opens a checkpoint and takes the tensors under {@code dictPath}: "" for the top level, a key such as
     * {@code state_dict}, or a dotted path of keys ({@code model.ema}); null chooses as the class comment says.
     */
    public static TorchFile open(Path file, String dictPath) {
        Format format = detect(file);
        if (format == null) throw new FormatException(file + ": not a PyTorch checkpoint (neither a zip nor a pickle)");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            Loaded loaded = format == Format.ZIP ? readZip(file, all) : readLegacy(file, all);
            Object root = loaded.root;
            Map<?, ?> dict = select(file, root, dictPath);
            Map<String, TorchTensor> tensors = new LinkedHashMap<>();
            flatten(file, dict, "", tensors, 0, Collections.newSetFromMap(new IdentityHashMap<>()));
            for (TorchTensor t : tensors.values()) {
                if (!loaded.storages.containsKey(t.storage().key())) {
                    throw new FormatException(file + ": storage " + Pickle.quote(t.storage().key()) + " is missing");
                }
            }
            return new TorchFile(file, format, arena, tensors, loaded.storages, topLevelScalars(root));
        } catch (IOException e) {
            arena.close();
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            if (e instanceof FormatException) throw e;
            // any slip past the explicit checks still surfaces as a format error naming the file
            throw new FormatException(file + ": damaged PyTorch file (" + e + ")", e);
        }
    }

    /** The unpickled object and the bytes of every storage it refers to, checked against their element counts. */
    private record Loaded(Object root, Map<String, MemorySegment> storages) {}

    // ------------------------------------------------------------------ zip container

    private static Loaded readZip(Path file, MemorySegment all) {
        ZipArchive zip = ZipArchive.read(file.toString(), all);
        String prefix = null;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (prefix != null) throw new FormatException(file + ": more than one data.pkl in the zip");
                prefix = name.substring(0, slash + 1);
            }
        }
        if (prefix == null) throw new FormatException(file + ": zip file without a NAME/data.pkl record (not a PyTorch checkpoint)");
        ZipArchive.Entry order = zip.entries().get(prefix + "byteorder");
        if (order != null) {
            String bo = new String(zip.bytes(order).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
            if (!bo.equals("little")) throw new FormatException(file + ": storages are " + bo + "-endian; only little-endian is read");
        }
        Map<String, Storage> byKey = new LinkedHashMap<>();
        String where = file + " (" + prefix + "data.pkl)";
        Object root = Pickle.read(where, zip.bytes(zip.entries().get(prefix + "data.pkl")), 0,
                pid -> zipStorage(pid, byKey)).value();
        Map<String, MemorySegment> storages = new LinkedHashMap<>();
        for (Storage s : byKey.values()) {
            ZipArchive.Entry e = zip.entries().get(prefix + "data/" + s.key());
            if (e == null) throw new FormatException(file + ": storage record " + Pickle.quote(prefix + "data/" + s.key()) + " is missing");
            MemorySegment bytes = zip.bytes(e);
            checkSize(file, s, bytes.byteSize());
            storages.put(s.key(), bytes);
        }
        return new Loaded(root, storages);
    }

    /** Zip persistent id: ('storage', storage type, key, location, numel). */
    private static Storage zipStorage(Object pid, Map<String, Storage> byKey) {
        Tuple t = storagePid(pid, 5);
        Calls.StorageType type = storageType(t.get(1));
        String key = string(t.get(2), "storage key");
        long numel = count(t.get(4), "storage size");
        Storage s = byKey.computeIfAbsent(key, k -> new Storage(k, type, numel, 0));
        if (!s.type().equals(type) || s.numel() != numel) {
            throw new FormatException("storage " + Pickle.quote(key) + " is referred to with two different types or sizes");
        }
        return s;
    }

    private static void checkSize(Path file, Storage s, long bytes) {
        long need;
        try {
            need = Math.multiplyExact(Math.addExact(s.elementOffset(), s.numel()), (long) s.elementBytes());
        } catch (ArithmeticException e) {
            throw new FormatException(file + ": storage " + Pickle.quote(s.key()) + " size overflows");
        }
        if (bytes < need) {
            throw new FormatException(file + ": storage " + Pickle.quote(s.key()) + " holds " + bytes + " bytes but " + s.numel() + " "
                    + s.type().torchDtype() + " elements" + (s.elementOffset() > 0 ? " at offset " + s.elementOffset() : "")
                    + " need " + need + " (truncated file or storage offset out of range)");
        }
    }

    // ------------------------------------------------------------------ legacy container

    private static Loaded readLegacy(Path file, MemorySegment all) {
        String where = file + " (legacy torch format)";
        Pickle.PersistentLoader none = pid -> { throw new FormatException("unexpected persistent id in the header"); };
        Pickle.Result magic = Pickle.read(where, all, 0, none);
        if (!LEGACY_MAGIC.equals(asBig(magic.value()))) throw new FormatException(where + ": wrong magic number (not a PyTorch file)");
        Pickle.Result protocol = Pickle.read(where, all, magic.end(), none);
        if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol.value())) {
            throw new FormatException(where + ": protocol " + protocol.value() + ", expected " + LEGACY_PROTOCOL);
        }
        Pickle.Result sysInfo = Pickle.read(where, all, protocol.end(), none);
        if (sysInfo.value() instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
            throw new FormatException(where + ": written on a big-endian machine; only little-endian is read");
        }
        Map<String, Storage> views = new LinkedHashMap<>();
        Map<String, Calls.StorageType> roots = new LinkedHashMap<>();
        Pickle.Result main = Pickle.read(where, all, sysInfo.end(), pid -> legacyStorage(pid, views, roots));
        Pickle.Result keys = Pickle.read(where, all, main.end(), none);
        if (!(keys.value() instanceof List<?> keyList)) throw new FormatException(where + ": storage key list is missing");

        Map<String, MemorySegment> storages = new LinkedHashMap<>();
        long pos = keys.end();
        for (Object k : keyList) {
            String key = string(k, "storage key");
            Calls.StorageType type = roots.get(key);
            if (type == null) throw new FormatException(where + ": storage " + Pickle.quote(key) + " is listed but never used");
            if (pos > all.byteSize() - 8) throw new FormatException(where + ": truncated before storage " + Pickle.quote(key));
            long numel = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
            long bytes = numel < 0 || numel > (all.byteSize() - pos - 8) / type.dtype().bytes ? -1 : numel * type.dtype().bytes;
            if (bytes < 0) {
                throw new FormatException(where + ": storage " + Pickle.quote(key) + " claims " + numel + " elements, more than the "
                        + (all.byteSize() - pos - 8) + " bytes left (truncated file?)");
            }
            storages.put(key, all.asSlice(pos + 8, bytes));
            pos += 8 + bytes;
        }
        for (Storage s : views.values()) {
            MemorySegment bytes = storages.get(s.key());
            if (bytes == null) throw new FormatException(where + ": storage " + Pickle.quote(s.key()) + " is used but not stored");
            checkSize(file, s, bytes.byteSize());
        }
        return new Loaded(main.value(), storages);
    }

    /**
     * Legacy persistent id: ('storage', storage type, root key, location, numel, view_metadata), the view
     * metadata being None or (view key, element offset, element count) for a view into the root storage.
     */
    private static Storage legacyStorage(Object pid, Map<String, Storage> views, Map<String, Calls.StorageType> roots) {
        if (pid instanceof Tuple t && t.size() > 0 && "module".equals(t.get(0))) {
            throw new FormatException("the file holds a pickled nn.Module, not a state dict (save model.state_dict())");
        }
        Tuple t = storagePid(pid, 6);
        Calls.StorageType type = storageType(t.get(1));
        String key = string(t.get(2), "storage key");
        long numel = count(t.get(4), "storage size");
        Calls.StorageType known = roots.putIfAbsent(key, type);
        if (known != null && !known.equals(type)) {
            throw new FormatException("storage " + Pickle.quote(key) + " is referred to with two different types");
        }
        if (t.get(5) == null) return views.computeIfAbsent(key, k -> new Storage(k, type, numel, 0));
        if (!(t.get(5) instanceof Tuple view) || view.size() != 3) throw new FormatException("storage " + Pickle.quote(key) + " has malformed view metadata");
        String viewKey = string(view.get(0), "view key");
        long offset = count(view.get(1), "view offset"), size = count(view.get(2), "view size");
        return views.computeIfAbsent("view:" + viewKey, k -> new Storage(key, type, size, offset));
    }

    // ------------------------------------------------------------------ pickle values

    private static Tuple storagePid(Object pid, int size) {
        if (!(pid instanceof Tuple t) || t.size() != size || !"storage".equals(t.get(0))) {
            throw new FormatException("persistent id " + Pickle.describe(pid) + " is not a ('storage', …) tuple of " + size);
        }
        return t;
    }

    private static Calls.StorageType storageType(Object o) {
        if (o instanceof Calls.StorageType s) return s;
        throw new FormatException("storage type is " + Pickle.describe(o) + ", not a torch storage class");
    }

    private static String string(Object o, String what) {
        if (o instanceof String s) return s;
        throw new FormatException(what + " is " + Pickle.describe(o) + ", not a string");
    }

    private static long count(Object o, String what) {
        if (o instanceof Long v && v >= 0) return v;
        throw new FormatException(what + " " + (o instanceof Long || o instanceof BigInteger ? o : Pickle.describe(o)) + " is not a valid count");
    }

    private static BigInteger asBig(Object o) {
        if (o instanceof BigInteger b) return b;
        if (o instanceof Long l) return BigInteger.valueOf(l);
        return null;
    }

    // ------------------------------------------------------------------ state dict

    private static Map<?, ?> select(Path file, Object root, String dictPath) {
        if (!(root instanceof Map<?, ?> top)) {
            throw new FormatException(file + ": the checkpoint holds " + Pickle.describe(root) + ", not a dict of tensors");
        }
        if (dictPath == null) {
            if (top.values().stream().anyMatch(v -> v instanceof TorchTensor)) return top;
            for (String k : STATE_DICT_KEYS) if (top.get(k) instanceof Map<?, ?> m) return m;
            return top;
        }
        if (dictPath.isEmpty()) return top;
        Map<?, ?> cur = top;
        String rest = dictPath;
        while (!rest.isEmpty()) { // the longest key that matches a prefix of the path (keys may contain dots)
            String key = null;
            for (Object k : cur.keySet()) {
                String ks = String.valueOf(k);
                if ((rest.equals(ks) || rest.startsWith(ks + ".")) && (key == null || ks.length() > key.length())) key = ks;
            }
            Object next = key == null ? null : cur.get(keyObject(cur, key));
            if (!(next instanceof Map<?, ?> m)) {
                throw new FormatException(file + ": no dict " + Pickle.quote(dictPath) + " in the checkpoint (top-level keys: "
                        + topKeys(top) + ")");
            }
            cur = m;
            rest = rest.length() == key.length() ? "" : rest.substring(key.length() + 1);
        }
        return cur;
    }

    private static Object keyObject(Map<?, ?> m, String key) {
        for (Object k : m.keySet()) if (String.valueOf(k).equals(key)) return k;
        return null;
    }

    private static String topKeys(Map<?, ?> top) {
        List<String> ks = new ArrayList<>();
        for (Object k : top.keySet()) ks.add(Pickle.quote(String.valueOf(k)));
        return ks.size() > 20 ? String.join(", ", ks.subList(0, 20)) + ", …" : String.join(", ", ks);
    }

    /** Tensor leaves of dicts, lists and tuples, named by their dotted key path. */
    private static void flatten(Path file, Object node, String prefix, Map<String, TorchTensor> out, int depth, Set<Object> open) {
        if (depth > MAX_DEPTH) throw new FormatException(file + ": nesting deeper than " + MAX_DEPTH + " at " + Pickle.quote(prefix));
        if (node instanceof TorchTensor t) {
            if (out.put(prefix, t) != null) throw new FormatException(file + ": two tensors are named " + Pickle.quote(prefix));
            return;
        }
        boolean container = node instanceof Map<?, ?> || node instanceof List<?> || node instanceof Tuple;
        if (!container) return; // numbers, strings, None, storages: not part of the tensor dict
        if (!open.add(node)) throw new FormatException(file + ": the object refers to itself at " + Pickle.quote(prefix));
        String p = prefix.isEmpty() ? "" : prefix + ".";
        if (node instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) flatten(file, e.getValue(), p + e.getKey(), out, depth + 1, open);
        } else {
            List<?> items = node instanceof Tuple t ? t.items() : (List<?>) node;
            for (int i = 0; i < items.size(); i++) flatten(file, items.get(i), p + i, out, depth + 1, open);
        }
        open.remove(node);
    }

    private static Map<String, String> topLevelScalars(Object root) {
        Map<String, String> meta = new LinkedHashMap<>();
        if (root instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object v = e.getValue();
                if (v instanceof String || v instanceof Long || v instanceof Double || v instanceof Boolean || v instanceof BigInteger) {
                    meta.put(String.valueOf(e.getKey()), String.valueOf(v));
                }
            }
        }
        return meta;
    }

    // ------------------------------------------------------------------ access

    @Override
    public Path file() { return file; }

    public Format format() { return format; }

    @Override
    public List<String> names() { return List.copyOf(tensors.keySet()); }

    @Override
    public boolean contains(String name) { return tensors.containsKey(name); }

    private TorchTensor tensor(String name) {
        TorchTensor t = tensors.get(name);
        if (t == null) throw new FormatException(file + ": no tensor named " + Pickle.quote(name));
        return t;
    }

    @Override
    public DType dtype(String name) { return tensor(name).dtype(); }

    @Override
    public long[] shape(String name) { return tensor(name).shape().clone(); }

    /** The tensor in its stored dtype: a view of the file when contiguous, else a C-order copy. */
    @Override
    public Tensor get(String name) {
        TorchTensor t = tensor(name);
        try {
            return t.materialise(storageBytes.get(t.storage().key()));
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) { // the layout checks at open should make this unreachable
            throw new FormatException(file + ": tensor " + Pickle.quote(name) + " lies outside its storage (" + e.getMessage() + ")", e);
        }
    }

    /** Top-level numbers and strings of the checkpoint ({@code epoch}, {@code arch}, …) as text. */
    @Override
    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    @Override
    public void close() {
        arena.close();
    }
}
