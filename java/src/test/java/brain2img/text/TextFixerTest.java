package brain2img.text;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TextFixerTest {
    /** Expected values are CPython 3's html.unescape outputs for the same inputs. */
    @Test
    void unescapeFollowsPythonsHtml5Rules() {
        String[][] cases = {
                {"&amp;amp;", "&amp;"}, {"&notit;", "¬it;"}, {"&notin;", "∉"}, {"&eacute", "é"},
                {"&#128;", "€"}, {"&#x80;", "€"}, {"&#0;", "\uFFFD"}, {"&#xD800;", "\uFFFD"},
                {"&#99999999999;", "\uFFFD"}, {"&#1;", ""}, {"&#x1F35C;", "🍜"}, {"&AMP;", "&"},
                {"&bogus;", "&bogus;"}, {"&ampx", "&x"}, {"&#65", "A"}, {"&lt&gt", "<>"}, {"a & b", "a & b"},
                {"&#X41;", "A"}};
        for (String[] c : cases) assertEquals(c[1], HtmlUnescape.unescape(c[0]), c[0]);
    }

    @Test
    void ftfyStyleUnescapeOnlyTakesCompleteReferences() {
        assertEquals("é &eacute x", HtmlUnescape.unescapeStrict("&eacute; &eacute x"));
        assertEquals("É", HtmlUnescape.unescapeStrict("&EACUTE;"));   // upper-case form of a lower-case name
        assertEquals("&#zz;", HtmlUnescape.unescapeStrict("&#zz;"));
        assertEquals("A", HtmlUnescape.unescapeStrict("&#65;"));
    }

    @Test
    void fixTextRepairsWhatFtfyRepairs() {
        assertEquals("café", TextFixer.fixText("cafÃ©"));
        assertEquals("café", TextFixer.fixText("cafÃƒÂ©"));                 // encoded twice
        assertEquals("don't \"quoted\"", TextFixer.fixText("donâ€™t â€œquotedâ€\u009D"));
        assertEquals("привет", TextFixer.fixText("Ð¿Ñ€Ð¸Ð²ÐµÑ‚"));         // Cyrillic read as cp1252
        assertEquals("🍜", TextFixer.fixText("ðŸ\u008D\u009C"));            // 4 bytes, Latin-1 controls
        assertEquals("fine", TextFixer.fixText("\uFB01ne"));
        assertEquals("ABC 1", TextFixer.fixText("ＡＢＣ　１"));
        assertEquals("red text", TextFixer.fixText("\u001B[31mred\u001B[0m text"));
        assertEquals("ab", TextFixer.fixText("a\uFEFF\u0007b"));
        assertEquals("x\uFFFDy", TextFixer.fixText("x\uD800y"));
        assertEquals("é", TextFixer.fixText("e\u0301"));
        assertEquals("&amp; <b>", TextFixer.fixText("&amp; <b>"));       // a line with '<' is not unescaped
        assertEquals("& b", TextFixer.fixText("&amp;amp;amp; b"));        // repeated until nothing changes
    }

    @Test
    void genuineTextIsLeftAlone() {
        assertEquals("Gruß\" aus Köln", TextFixer.fixText("Gruß“ aus Köln")); // not U+07D3; the quote uncurled
        for (String s : new String[]{"naïve café, señor", "Ångström Æsir", "日本語 🍜 한국어", "SÃO PAULO"}) {
            assertEquals(s, TextFixer.fixText(s), s);
        }
    }
}
