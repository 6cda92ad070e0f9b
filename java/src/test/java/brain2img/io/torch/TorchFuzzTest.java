package brain2img.io.torch;

import brain2img.io.FormatException;
import brain2img.io.WeightFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static brain2img.io.torch.TorchFileTest.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged and hostile checkpoints: every one gives a {@link FormatException} naming the file and the problem,
 * never another exception, and no global outside the allow-list is ever accepted.
 */
class TorchFuzzTest {
    @TempDir
    Path tmp;

    /** Opens a file and reads every tensor; returns the FormatException, or null when the file was fine. */
    private static FormatException openAndRead(Path file) {
        try (WeightFile w = WeightFile.open(file)) {
            for (String n : w.names()) w.get(n).toDoubleArray();
            return null;
        } catch (FormatException e) {
            assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
            return e;
        } catch (Throwable t) {
            throw new AssertionError(file.getFileName() + ": " + t + " escaped instead of a FormatException", t);
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void everyTruncationIsAClearError() throws IOException {
        for (String src : new String[]{"zip.pth", "legacy.pth", "zip64.pth", "nested_legacy.pth.tar"}) {
            byte[] all = Files.readAllBytes(resource(src));
            for (int len = 0; len < all.length; len += len < 64 ? 1 : 29) {
                Path p = write("cut-" + src, java.util.Arrays.copyOf(all, len));
                assertTrue(openAndRead(p) != null, src + " cut at " + len + " of " + all.length + " must be refused");
            }
        }
    }

    /** Longer runs: -Dbrain2img.fuzz.flips=5000 -Dbrain2img.fuzz.seed=7. */
    @Test
    void flippedPickleBytesNeverEscapeAsOtherExceptions() throws IOException {
        Random rnd = new Random(Long.getLong("brain2img.fuzz.seed", 42));
        int flips = Integer.getInteger("brain2img.fuzz.flips", 400);
        // the legacy file starts with its pickles; the zip file's data.pkl is a stored record inside it
        for (String src : new String[]{"legacy.pth", "zip.pth"}) {
            byte[] all = Files.readAllBytes(resource(src));
            int start = 0, len = 1500;
            if (src.equals("zip.pth")) {
                byte[] pkl;
                try (ZipFile z = new ZipFile(resource(src).toFile())) {
                    pkl = z.getInputStream(z.getEntry("zip/data.pkl")).readAllBytes();
                }
                start = indexOf(all, pkl);
                len = pkl.length;
            }
            int refused = 0;
            for (int i = 0; i < flips; i++) {
                byte[] bad = all.clone();
                int at = start + rnd.nextInt(len);
                bad[at] = (byte) (i % 3 == 0 ? bad[at] ^ 0xFF : rnd.nextInt(256));
                if (openAndRead(write("flip-" + src, bad)) != null) refused++;
            }
            assertTrue(refused > flips / 5, src + ": most damaged pickles are refused (" + refused + ")");
        }
    }

    @Test
    void storageLayoutsOutsideTheStorageAreRefused() throws IOException {
        Map<String, byte[]> four = Map.of("0", new byte[16]);
        // rebuild (2,) at offset 3 of a 4-float storage: element 4 does not exist
        assertRefused(zip(tensorPickle("FloatStorage", 4, 3, new long[]{2}, new long[]{1}), four),
                "reaches element 4 of storage '0', which has 4");
        assertRefused(zip(tensorPickle("FloatStorage", 4, 0, new long[]{2, 2}, new long[]{3, 1}), four),
                "reaches element 4");
        // the pickle claims 8 floats, the record holds 16 bytes
        assertRefused(zip(tensorPickle("FloatStorage", 8, 0, new long[]{8}, new long[]{1}), four),
                "holds 16 bytes but 8 float32 elements");
        assertRefused(zip(tensorPickle("FloatStorage", 4, 0, new long[]{4}, new long[]{1}), Map.of()),
                "'t/data/0' is missing");
        assertRefused(zip(tensorPickle("CharStorage", 4, 0, new long[]{4}, new long[]{1}), four),
                "torch.CharStorage (int8)");
        // a well-formed one passes, so the failures above are about the layouts
        try (WeightFile w = WeightFile.open(zip(tensorPickle("FloatStorage", 4, 1, new long[]{3}, new long[]{1}), four))) {
            assertEquals(3, w.get("w").numel());
        }
    }

    @Test
    void codeExecutingGlobalsAreRefusedByName() throws IOException {
        byte[] osSystem = new Pickler().proto(2).global("os", "system").str("touch /tmp/pwned").tuple(1).op(0x52).stop();
        assertRefused(zip(osSystem, Map.of()), "global 'os.system' is not allowed");
        assertRefused(legacy(osSystem), "global 'os.system' is not allowed");
        byte[] eval = new Pickler().proto(4).str("builtins").str("eval").op(0x93).str("1+1").tuple(1).op(0x52).stop();
        assertRefused(zip(eval, Map.of()), "global 'builtins.eval' is not allowed");
        assertRefused(legacy(eval), "global 'builtins.eval' is not allowed");
        byte[] nested = new Pickler().proto(2).op(0x7d).str("state_dict").global("subprocess", "Popen").str("ls")
                .tuple(1).op(0x52).op(0x73).stop();
        assertRefused(zip(nested, Map.of()), "global 'subprocess.Popen' is not allowed");
        // allowed names cannot be misused either: calling a storage class, or building object state on a tensor
        byte[] callStorage = new Pickler().proto(2).global("torch", "FloatStorage").op(0x29).op(0x52).stop();
        assertRefused(zip(callStorage, Map.of()), "REDUCE on storage class torch.FloatStorage");
        byte[] newobj = new Pickler().proto(2).global("collections", "OrderedDict").op(0x29).op(0x81).stop();
        assertRefused(zip(newobj, Map.of()), "NEWOBJ");
    }

    @Test
    void aPickledModuleIsRefusedWithAHint() throws IOException {
        byte[] module = new Pickler().proto(2).mark().str("module").global("collections", "OrderedDict").none().none()
                .op(0x74).op(0x51).stop();
        assertRefused(legacy(module), "pickled nn.Module");
    }

    private void assertRefused(Path file, String expected) {
        FormatException e = openAndRead(file);
        if (e == null) fail(file.getFileName() + " was accepted; expected: " + expected);
        assertTrue(e.getMessage().contains(expected), "'" + expected + "' in: " + e.getMessage());
    }

    // ------------------------------------------------------------------ building files

    /** {'w': _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())} over storage key "0". */
    private static byte[] tensorPickle(String storageType, long numel, long offset, long[] size, long[] stride) {
        Pickler p = new Pickler().proto(2).op(0x7d).str("w").global("torch._utils", "_rebuild_tensor_v2").mark();
        p.mark().str("storage").global("torch", storageType).str("0").str("cpu").integer(numel).op(0x74).op(0x51);
        p.integer(offset).mark();
        for (long s : size) p.integer(s);
        p.op(0x74).mark();
        for (long s : stride) p.integer(s);
        p.op(0x74).op(0x89).global("collections", "OrderedDict").op(0x29).op(0x52);
        p.op(0x74).op(0x52).op(0x73);
        return p.stop();
    }

    private int counter;

    /** A zip-format checkpoint t/data.pkl + t/data/KEY, stored uncompressed as torch writes it. */
    private Path zip(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        records.put("t/data.pkl", pickle);
        storages.forEach((k, v) -> records.put("t/data/" + k, v));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (var r : records.entrySet()) {
                ZipEntry e = new ZipEntry(r.getKey());
                e.setMethod(ZipEntry.STORED);
                e.setSize(r.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(r.getValue());
                e.setCrc(crc.getValue());
                z.putNextEntry(e);
                z.write(r.getValue());
                z.closeEntry();
            }
        }
        return write("crafted-" + (counter++) + ".pth", bytes.toByteArray());
    }

    /** A legacy-format file: magic, protocol 1001, sys info, then the given pickle and an empty key list. */
    private Path legacy(byte[] main) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new Pickler().proto(2).op(0x8a).op(10).raw(new byte[]{0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9,
                0x20, 0x6a, (byte) 0xa8, 0x50, 0x19}).stop());
        out.write(new Pickler().proto(2).integer(1001).stop());
        out.write(new Pickler().proto(2).op(0x7d).str("little_endian").op(0x88).op(0x73).stop());
        out.write(main);
        out.write(new Pickler().proto(2).op(0x5d).stop());
        return write("crafted-legacy-" + (counter++) + ".pth", out.toByteArray());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Pickle opcodes by hand (values as in CPython's pickle.py), for crafting hostile streams. */
    private static final class Pickler {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickler op(int code) { out.write(code); return this; }

        Pickler raw(byte[] b) { out.writeBytes(b); return this; }

        Pickler proto(int v) { return op(0x80).op(v); }

        Pickler mark() { return op(0x28); }

        Pickler none() { return op(0x4e); }

        /** TUPLE1..3 of the last n values (longer tuples: mark() … op(0x74)). */
        Pickler tuple(int n) { return op(0x84 + n); }

        Pickler str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op(0x58);
            for (int i = 0; i < 4; i++) out.write(b.length >>> (8 * i));
            out.writeBytes(b);
            return this;
        }

        Pickler integer(long v) {
            op(0x8a).op(8);
            for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
            return this;
        }

        Pickler global(String module, String name) {
            return op(0x63).raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        byte[] stop() {
            op(0x2e);
            return out.toByteArray();
        }
    }
}
