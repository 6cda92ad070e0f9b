package brain2img.sd;

import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipTokenizerTest {
    private static ClipTokenizer tok;
    private static Path golden;

    @BeforeAll
    static void load() {
        golden = Shared.sdTiny();
        tok = ClipTokenizer.load(golden.resolve("weights/tokenizer"));
    }

    static List<String> captions(Path golden) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : Json.read(golden.resolve("cases/captions.json"))) out.add(n.asText());
        return out;
    }

    @Test
    void goldenCaptionsGiveTheReferenceIdsExactly() {
        List<String> texts = captions(golden);
        Tensor ref = Npy.read(golden.resolve("cases/token_ids.npy"));
        assertArrayEquals(new long[]{texts.size(), 77}, ref.shape());
        int[][] got = tok.encode(texts);
        int[] flat = ref.toIntArray();
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(Arrays.copyOfRange(flat, i * 77, (i + 1) * 77), got[i], "caption " + i + ": '" + texts.get(i) + "'");
        }
    }

    @Test
    void knownVectorsFromTheSdV1Facts() {
        assertArrayEquals(new int[]{49406, 320, 1125, 539, 320, 2368, 49407}, Arrays.copyOf(tok.encode("a photo of a cat"), 7));
        assertArrayEquals(new int[]{49406, 3306, 267, 1002, 256, 49407}, Arrays.copyOf(tok.encode("Hello, world!"), 6));
        int[] empty = tok.encode("");
        assertEquals(49406, empty[0]);
        for (int i = 1; i < 77; i++) assertEquals(49407, empty[i]);
        assertEquals(49408, tok.vocabSize());
    }

    @Test
    void cleanUpFollowsClip() {
        assertEquals("two dogs playing", ClipTokenizer.clean("  Two \t\n  DOGS\u00A0\u3000playing "));
        assertEquals("café & bar", ClipTokenizer.clean("Caf&eacute; &amp;amp; Bar")); // ftfy + html twice
        assertEquals("café", ClipTokenizer.clean("CafÃ©"));                         // mojibake
        assertEquals("don't", ClipTokenizer.clean("Donâ€™t"));                       // mojibake, then uncurled quote
        assertEquals("abc 12", ClipTokenizer.clean("ＡＢＣ　１２"));                   // full width
        assertEquals("office", ClipTokenizer.clean("oﬃce"));                         // ligature
        assertEquals("café", ClipTokenizer.clean("cafe\u0301"));                     // NFC
        // the same ids whichever way the text was spelt
        assertArrayEquals(tok.encode("café"), tok.encode("CAFÃ©"));
        assertArrayEquals(tok.encode("don't"), tok.encode("don\u2019t"));
    }

    @Test
    void specialTokensInTheTextAreKept() {
        int[] ids = tok.encode("a <|endoftext|> b");
        assertEquals(320, ids[1]);
        assertEquals(49407, ids[2]);
    }

    @Test
    void truncationKeepsTheFirst75Tokens() {
        String longText = "cat ".repeat(200);
        int[] bpe = tok.tokens(longText);
        assertEquals(200, bpe.length);
        int[] ids = tok.encode(longText);
        assertEquals(77, ids.length);
        for (int i = 1; i <= 75; i++) assertEquals(bpe[i - 1], ids[i]);
        assertEquals(49407, ids[76]);
    }

    /** Invariants over a few hundred generated strings: ASCII, accents, CJK, emoji, controls, surrogates. */
    @Test
    void invariantsOnVariedStrings() {
        Random rnd = new Random(7);
        String[] pools = {
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789     .,;:!?'\"-_()[]{}#@&%*/+=<>|~`^$\\",
                "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœšžÀÉÎÕÜŁłŚśĘęğış ",
                "日本語の文字列中文字符한국어テキスト ",
                "🍜🐶🐱👍🏽👨‍👩‍👧🇯🇵✨❤️🎉 ",
                "\t\n\r\u00A0\u2028\u200B\uFEFF\u0000\u0007\u001B[31m\u0085\u0301\uFFFD",
                "\uD800x\uDC00y\uDBFF", // lone surrogates
                "&amp;&lt;&#x1F35C;&#0;&#99999999999;&bogus;&eacute&"};
        int asciiChecked = 0;
        for (int n = 0; n < 400; n++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(n < 20 ? 400 : 60);
            int pool = rnd.nextInt(pools.length + 1);
            for (int i = 0; i < len; i++) {
                String p = pools[pool == pools.length ? rnd.nextInt(pools.length) : pool];
                int at = rnd.nextInt(p.length());
                sb.appendCodePoint(p.codePointAt(Character.isLowSurrogate(p.charAt(at)) && at > 0 ? at - 1 : at));
            }
            String text = sb.toString();
            int[] ids = tok.encode(text);
            int[] bpe = tok.tokens(text);
            String what = "string " + n + " '" + text + "'";
            assertEquals(77, ids.length, what);
            assertEquals(49406, ids[0], what);
            int used = Math.min(bpe.length, 75);
            for (int i = 0; i < used; i++) {
                assertEquals(bpe[i], ids[1 + i], what);
                assertTrue(bpe[i] >= 0 && bpe[i] < 49408, what);
            }
            for (int i = 1 + used; i < 77; i++) assertEquals(49407, ids[i], what + " at " + i);
            if (pool == 0 && bpe.length <= 75) {
                asciiChecked++;
                assertAsciiRoundTrip(text, ids, what);
            }
        }
        assertTrue(asciiChecked > 20, "too few ASCII strings checked: " + asciiChecked);
    }

    /** ASCII: decode gives the cleaned text up to spaces between words, and re-encodes to the same ids. */
    private static void assertAsciiRoundTrip(String text, int[] ids, String what) {
        String decoded = tok.decode(ids);
        String cleaned = ClipTokenizer.clean(text);
        assertEquals(cleaned.replace(" ", ""), decoded.replace(" ", ""), what);
        assertArrayEquals(ids, tok.encode(decoded), what + " decoded as '" + decoded + "'");
    }

    @Test
    void decodeOfKnownIds() {
        assertEquals("hello , world !", tok.decode(tok.encode("Hello, world!")));
        assertEquals("a bowl of ramen 🍜 and chopsticks", tok.decode(tok.encode("a bowl of ramen 🍜 and chopsticks")));
        assertEquals("", tok.decode(tok.encode("")));
    }
}
