package brain2img.io.torch;

import brain2img.io.FormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The entries of a zip file held in memory (a mapping of the whole file), read from the central directory,
 * ZIP64 included. PyTorch writes every record stored (uncompressed) and 64-byte aligned, so an entry's bytes are
 * a zero-copy slice of the mapping; deflated entries (a zip repacked by another tool) are inflated to the heap.
 */
final class ZipArchive {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EOCD = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
    private static final long MAX32 = 0xFFFFFFFFL;
    static final int STORED = 0, DEFLATED = 8;

    /** One file in the archive: where its (possibly compressed) bytes start in the zip, and their sizes. */
    record Entry(String name, int method, long compressedSize, long size, long dataOffset) {}

    private final String where;
    private final MemorySegment zip;
    private final Map<String, Entry> entries;

    private ZipArchive(String where, MemorySegment zip) {
        this.where = where;
        this.zip = zip;
        this.entries = readCentralDirectory();
    }

    /** Reads the directory of the zip in {@code zip}; {@code where} names the file in errors. */
    static ZipArchive read(String where, MemorySegment zip) {
        return new ZipArchive(where, zip);
    }

    Map<String, Entry> entries() {
        return entries;
    }

    private FormatException bad(String problem) {
        return new FormatException(where + ": " + problem);
    }

    private void check(long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset > zip.byteSize() - length) {
            throw bad(what + " at byte " + offset + " (+" + length + ") lies outside the " + zip.byteSize()
                    + "-byte file (truncated zip?)");
        }
    }

    private int u16(long at) { return Short.toUnsignedInt(zip.get(U16, at)); }

    private long u32(long at) { return Integer.toUnsignedLong(zip.get(U32, at)); }

    private long u64(long at, String what) {
        long v = zip.get(U64, at);
        if (v < 0) throw bad(what + " " + Long.toUnsignedString(v) + " is out of range");
        return v;
    }

    /** The end-of-central-directory record: the last 22+ bytes, after which only a comment of ≤ 65535 bytes may follow. */
    private long findEndRecord() {
        long size = zip.byteSize();
        for (long at = size - 22; at >= Math.max(0, size - 22 - 0xFFFF); at--) {
            if (zip.get(U32, at) == EOCD && at + 22 + u16(at + 20) == size) return at;
        }
        throw bad("no zip end-of-central-directory record (truncated or not a zip file)");
    }

    private Map<String, Entry> readCentralDirectory() {
        long eocd = findEndRecord();
        long count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16);
        if (eocd >= 20 && zip.get(U32, eocd - 20) == ZIP64_LOCATOR) {
            long z = u64(eocd - 20 + 8, "ZIP64 end record offset");
            check(z, 56, "ZIP64 end record");
            if (zip.get(U32, z) != ZIP64_EOCD) throw bad("ZIP64 locator points to byte " + z + ", which is not a ZIP64 end record");
            count = u64(z + 32, "entry count");
            cdSize = u64(z + 40, "central directory size");
            cdOffset = u64(z + 48, "central directory offset");
        }
        check(cdOffset, cdSize, "central directory");
        Map<String, Entry> out = new LinkedHashMap<>();
        long at = cdOffset, cdEnd = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (at + 46 > cdEnd || zip.get(U32, at) != CENTRAL) throw bad("central directory entry " + i + " is damaged (byte " + at + ")");
            Entry e = centralEntry(at, cdEnd);
            if (out.put(e.name(), e) != null) throw bad("entry " + Pickle.quote(e.name()) + " appears twice");
            at += 46 + u16(at + 28) + u16(at + 30) + u16(at + 32);
        }
        return out;
    }

    private Entry centralEntry(long at, long cdEnd) {
        int flags = u16(at + 8), method = u16(at + 10);
        long csize = u32(at + 20), usize = u32(at + 24), local = u32(at + 42);
        int nameLen = u16(at + 28), extraLen = u16(at + 30);
        if (at + 46 + nameLen + extraLen > cdEnd) throw bad("central directory entry at byte " + at + " runs past the directory");
        String name = new String(zip.asSlice(at + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        if ((flags & 1) != 0) throw bad("entry " + Pickle.quote(name) + " is encrypted");
        if (method != STORED && method != DEFLATED) throw bad("entry " + Pickle.quote(name) + " uses compression method " + method + " (stored or deflate only)");
        // ZIP64 extra field: 64-bit values for exactly the fields saturated at 0xFFFFFFFF, in this order
        long x = at + 46 + nameLen, xEnd = x + extraLen;
        while (x + 4 <= xEnd) {
            int id = u16(x), len = u16(x + 2);
            if (x + 4 + len > xEnd) throw bad("entry " + Pickle.quote(name) + " has a damaged extra field");
            if (id == 0x0001) {
                long p = x + 4, pEnd = p + len;
                if (usize == MAX32) { usize = zip64Value(p, pEnd, name); p += 8; }
                if (csize == MAX32) { csize = zip64Value(p, pEnd, name); p += 8; }
                if (local == MAX32) { local = zip64Value(p, pEnd, name); }
            }
            x += 4 + len;
        }
        check(local, 30, "local header of " + Pickle.quote(name));
        if (zip.get(U32, local) != LOCAL) throw bad("entry " + Pickle.quote(name) + ": no local header at byte " + local);
        long data = local + 30 + u16(local + 26) + u16(local + 28);
        check(data, csize, "data of " + Pickle.quote(name));
        if (method == STORED && csize != usize) throw bad("stored entry " + Pickle.quote(name) + " has sizes " + csize + " and " + usize);
        return new Entry(name, method, csize, usize, data);
    }

    private long zip64Value(long p, long pEnd, String name) {
        if (p + 8 > pEnd) throw bad("entry " + Pickle.quote(name) + " has a short ZIP64 extra field");
        return u64(p, "ZIP64 size or offset of " + Pickle.quote(name));
    }

    /** An entry's bytes: a slice of the mapping when stored, an inflated heap copy when deflated. */
    MemorySegment bytes(Entry e) {
        MemorySegment raw = zip.asSlice(e.dataOffset(), e.compressedSize());
        if (e.method() == STORED) return raw;
        if (e.size() > Integer.MAX_VALUE - 8) throw bad("deflated entry " + Pickle.quote(e.name()) + " is too large to inflate (" + e.size() + " bytes)");
        byte[] out = new byte[(int) e.size()];
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(raw.asByteBuffer());
            int n = 0;
            while (n < out.length) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) break;
                n += k;
            }
            if (n != out.length) throw bad("deflated entry " + Pickle.quote(e.name()) + " inflates to " + n + " bytes, not " + e.size());
        } catch (DataFormatException ex) {
            throw bad("deflated entry " + Pickle.quote(e.name()) + " is corrupt (" + ex.getMessage() + ")");
        } finally {
            inf.end();
        }
        return MemorySegment.ofArray(out);
    }
}
