package brain2img.io.torch;

import brain2img.io.FormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted pickle reader: it interprets the opcodes a PyTorch state dict uses (protocols 2 to 5) and builds
 * plain Java values from them — {@link Map} (dicts, {@code OrderedDict}s), {@link List} (lists, sets),
 * {@link Tuple}, {@link Long} / {@link BigInteger}, {@link Double}, {@link String}, {@code byte[]},
 * {@link Boolean}, {@code null} — and nothing else. A class or function reference ({@code GLOBAL},
 * {@code STACK_GLOBAL}) is accepted only when {@link Calls} knows it; any other global is refused at once, naming
 * it, so no code is ever run. Calls ({@code REDUCE}) go to {@link Calls}, persistent ids to the caller's loader.
 *
 * <p>Every read is bounds-checked: a damaged stream gives a {@link FormatException} naming the source and the
 * byte offset, never another exception.
 */
final class Pickle {
    /** A Python tuple (kept apart from lists so that call arguments and persistent ids are recognisable). */
    record Tuple(List<Object> items) {
        Object get(int i) { return items.get(i); }
        int size() { return items.size(); }
    }

    /** A reference to an allowed global (a class or function), as {@code module.name}. */
    record Global(String name) {}

    /** What a persistent id ({@code BINPERSID}) stands for: torch's storages. */
    interface PersistentLoader {
        Object load(Object pid);
    }

    /** A nested structure deeper than this is refused (real state dicts nest a few levels). */
    private static final int MAX_STACK = 1 << 20;

    private final String where;
    private final MemorySegment data;
    private final long end;
    private final PersistentLoader persistent;
    private long pos;

    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private Pickle(String where, MemorySegment data, long start, PersistentLoader persistent) {
        this.where = where;
        this.data = data;
        this.end = data.byteSize();
        this.pos = start;
        this.persistent = persistent;
    }

    /** The result of one pickle and the offset just after its STOP (the next pickle in the stream starts there). */
    record Result(Object value, long end) {}

    /**
     * Reads one pickle that starts at {@code start} of {@code data}; {@code where} names the source in errors
     * (file and record).
     */
    static Result read(String where, MemorySegment data, long start, PersistentLoader persistent) {
        Pickle p = new Pickle(where, data, start, persistent);
        Object v = p.run();
        return new Result(v, p.pos);
    }

    private FormatException bad(long at, String problem) {
        return new FormatException(where + ": " + problem + " (pickle byte " + at + ")");
    }

    private Object run() {
        while (true) {
            long at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto < 2 || proto > 5) throw bad(at, "pickle protocol " + proto + " is not supported (2 to 5)");
                }
                case 0x95 -> frame(i64()); // FRAME: the length of the next frame; frames need no special handling
                case 0x2e -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) throw bad(at, "STOP with " + stack.size() + " values on the stack");
                    return stack.getFirst();
                }
                case 0x28 -> marks.add(stack.size()); // MARK
                case 0x30 -> pop(at); // POP
                case 0x31 -> popMark(at); // POP_MARK
                case 0x32 -> push(peek(at)); // DUP
                case 0x4e -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 0x4a -> push((long) i32()); // BININT
                case 0x4b -> push((long) u8()); // BININT1
                case 0x4d -> push((long) u16()); // BININT2
                case 0x8a -> push(longFrom(bytes(u8()))); // LONG1
                case 0x8b -> push(longFrom(bytes(length(i32(), at)))); // LONG4
                case 0x47 -> push(Double.longBitsToDouble(be64())); // BINFLOAT (big-endian)
                case 0x58 -> push(utf8(length(u32(), at))); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(length(i64(), at))); // BINUNICODE8
                case 0x55 -> push(latin1(u8())); // SHORT_BINSTRING
                case 0x54 -> push(latin1(length(i32(), at))); // BINSTRING
                case 0x43 -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x42 -> push(bytes(length(u32(), at))); // BINBYTES
                case 0x8e -> push(bytes(length(i64(), at))); // BINBYTES8
                case 0x96 -> push(bytes(length(i64(), at))); // BYTEARRAY8
                case 0x29 -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case 0x85 -> push(tuple(at, 1)); // TUPLE1
                case 0x86 -> push(tuple(at, 2)); // TUPLE2
                case 0x87 -> push(tuple(at, 3)); // TUPLE3
                case 0x74 -> push(new Tuple(nullSafe(popMark(at)))); // TUPLE
                case 0x5d, 0x8f -> push(new ArrayList<>()); // EMPTY_LIST, EMPTY_SET (a set is kept as a list)
                case 0x6c, 0x91 -> push(new ArrayList<>(popMark(at))); // LIST, FROZENSET
                case 0x7d -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 0x64 -> { // DICT
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putPairs(at, m, popMark(at));
                    push(m);
                }
                case 0x61 -> { // APPEND
                    Object v = pop(at);
                    list(at, peek(at)).add(v);
                }
                case 0x65, 0x90 -> { // APPENDS, ADDITEMS
                    List<Object> items = popMark(at);
                    list(at, peek(at)).addAll(items);
                }
                case 0x73 -> { // SETITEM
                    Object v = pop(at), k = pop(at);
                    putPairs(at, dict(at, peek(at)), java.util.Arrays.asList(k, v));
                }
                case 0x75 -> { // SETITEMS
                    List<Object> items = popMark(at);
                    putPairs(at, dict(at, peek(at)), items);
                }
                case 0x71 -> memo.put((long) u8(), peek(at)); // BINPUT
                case 0x72 -> memo.put(u32(), peek(at)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek(at)); // MEMOIZE
                case 0x68 -> push(memoGet(at, u8())); // BINGET
                case 0x6a -> push(memoGet(at, u32())); // LONG_BINGET
                case 0x63 -> push(global(at, line() + "." + line())); // GLOBAL "module\nname\n"
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at), module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw bad(at, "STACK_GLOBAL needs two strings");
                    }
                    push(global(at, m + "." + n));
                }
                case 0x52 -> { // REDUCE
                    Object args = pop(at), callable = pop(at);
                    if (!(callable instanceof Global g)) throw bad(at, "REDUCE on " + describe(callable) + ", not a callable");
                    if (!(args instanceof Tuple t)) throw bad(at, "REDUCE arguments are " + describe(args) + ", not a tuple");
                    push(call(at, g, t));
                }
                case 0x62 -> { // BUILD: object state; only the state of an OrderedDict (torch's _metadata) is allowed
                    Object state = pop(at);
                    Object target = peek(at);
                    if (!(target instanceof Map<?, ?>)) throw bad(at, "BUILD (setting object state) on " + describe(target) + " is not allowed");
                    if (state != null && !(state instanceof Map<?, ?>) && !(state instanceof Tuple)) {
                        throw bad(at, "BUILD state is " + describe(state));
                    }
                }
                case 0x51 -> { // BINPERSID
                    Object pid = pop(at);
                    try {
                        push(persistent.load(pid));
                    } catch (FormatException e) {
                        throw bad(at, e.getMessage());
                    }
                }
                case 0x81, 0x92 -> throw bad(at, "object construction (NEWOBJ) is not allowed in a state dict");
                case 0x69, 0x6f -> throw bad(at, "object construction (INST/OBJ) is not allowed in a state dict");
                case 0x82, 0x83, 0x84 -> throw bad(at, "extension registry codes (EXT) are not allowed");
                case 0x50 -> throw bad(at, "text persistent ids (PERSID) are not used by torch");
                case 0x97, 0x98 -> throw bad(at, "out-of-band buffers are not supported");
                default -> throw bad(at, String.format("unknown or unsupported pickle opcode 0x%02x", op));
            }
        }
    }

    private Object global(long at, String name) {
        if (!Calls.isAllowed(name)) {
            throw bad(at, "global " + quote(name) + " is not allowed (a state dict needs only torch's tensor and storage"
                    + " rebuild functions and collections.OrderedDict); nothing was executed");
        }
        Object constant = Calls.constant(name);
        return constant != null ? constant : new Global(name);
    }

    private Object call(long at, Global g, Tuple args) {
        try {
            return Calls.call(g.name(), args);
        } catch (FormatException e) {
            throw bad(at, e.getMessage());
        }
    }

    private void putPairs(long at, Map<Object, Object> m, List<Object> items) {
        if (items.size() % 2 != 0) throw bad(at, "odd number of items for a dict");
        for (int i = 0; i < items.size(); i += 2) {
            Object k = items.get(i);
            if (k != null && !(k instanceof String) && !(k instanceof Long) && !(k instanceof Boolean) && !(k instanceof Tuple)
                    && !(k instanceof Double) && !(k instanceof BigInteger)) {
                throw bad(at, "dict key of unhashable kind " + describe(k));
            }
            m.put(k, items.get(i + 1));
        }
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(long at, Object o) {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw bad(at, "SETITEM(S) on " + describe(o) + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(long at, Object o) {
        if (o instanceof List<?> l) return (List<Object>) l;
        throw bad(at, "APPEND(S) on " + describe(o) + ", not a list");
    }

    private Tuple tuple(long at, int n) {
        if (stack.size() - floor() < n) throw bad(at, "stack underflow building a " + n + "-tuple");
        List<Object> items = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        return new Tuple(nullSafe(items));
    }

    /** Tuples may hold None: an unmodifiable view of the list that allows nulls. */
    private static List<Object> nullSafe(List<Object> items) {
        return java.util.Collections.unmodifiableList(items);
    }

    private Object memoGet(long at, long key) {
        if (!memo.containsKey(key)) throw bad(at, "memo key " + key + " was never stored");
        return memo.get(key);
    }

    /**
     * A name read from the file, quoted for a one-line message: control and non-ASCII characters escaped as
     * \\uXXXX, cut after 80 characters.
     */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < s.length() && sb.length() <= 80; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) sb.append(c);
            else sb.append(String.format("\\u%04x", (int) c));
        }
        if (sb.length() > 80) sb.setLength(80);
        return sb.append(sb.length() >= 80 ? "…'" : "'").toString();
    }

    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return "global " + g.name();
        if (o instanceof Calls.StorageType s) return "storage class " + s.name();
        if (o instanceof Tuple) return "a tuple";
        if (o instanceof Map<?, ?>) return "a dict";
        if (o instanceof List<?>) return "a list";
        if (o instanceof String) return "a string";
        if (o instanceof byte[]) return "bytes";
        if (o instanceof TorchTensor) return "a tensor";
        if (o instanceof Storage) return "a storage";
        return "a " + o.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    }

    // ------------------------------------------------------------------ stack

    private int floor() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    private void push(Object o) {
        if (stack.size() >= MAX_STACK) throw bad(pos, "pickle stack grows beyond " + MAX_STACK + " values");
        stack.add(o);
    }

    private Object pop(long at) {
        if (stack.size() <= floor()) throw bad(at, "stack underflow");
        return stack.removeLast();
    }

    private Object peek(long at) {
        if (stack.size() <= floor()) throw bad(at, "stack underflow");
        return stack.getLast();
    }

    private List<Object> popMark(long at) {
        if (marks.isEmpty()) throw bad(at, "no MARK on the stack");
        int m = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    // ------------------------------------------------------------------ bytes

    private void need(long n) {
        if (n < 0 || n > end - pos) throw bad(pos, "truncated: " + n + " bytes needed, " + (end - pos) + " left");
    }

    private void frame(long n) {
        if (n < 0 || n > end - pos) throw bad(pos, "frame of " + n + " bytes runs past the end (" + (end - pos) + " left)");
    }

    private int u8() {
        need(1);
        return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, pos++));
    }

    private int u16() {
        need(2);
        int v = Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos));
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
        pos += 4;
        return v;
    }

    private long u32() {
        return Integer.toUnsignedLong(i32());
    }

    private long i64() {
        need(8);
        long v = data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
        pos += 8;
        return v;
    }

    private long be64() {
        need(8);
        long v = data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), pos);
        pos += 8;
        return v;
    }

    /** A length field checked against what is left (so no huge allocation follows a damaged length). */
    private int length(long n, long at) {
        if (n < 0 || n > end - pos) throw bad(at, "length " + n + " runs past the end (" + (end - pos) + " bytes left)");
        if (n > Integer.MAX_VALUE - 8) throw bad(at, "length " + n + " is too large for one value");
        return (int) n;
    }

    private byte[] bytes(int n) {
        need(n);
        byte[] b = data.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private String utf8(int n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String latin1(int n) {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    /** A newline-terminated ASCII line (the GLOBAL opcode's module and name), at most 256 bytes. */
    private String line() {
        long start = pos;
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') return sb.toString();
            if (c < 0x20 || c > 0x7e || pos - start > 256) throw bad(start, "malformed GLOBAL name");
            sb.append((char) c);
        }
    }

    /** Little-endian two's complement (LONG1/LONG4) as a Long where it fits, else a BigInteger. */
    private static Object longFrom(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }
}
