package brain2img.text;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An approximation of {@code ftfy.fix_text} (ftfy 6, default settings), the first clean-up step of CLIP's
 * tokenizer. Per line, repeated until nothing changes (at most {@value #MAX_ROUNDS} rounds):
 * <ol>
 *   <li>HTML references ending in ';' are decoded ({@link HtmlUnescape#unescapeStrict}), as ftfy's
 *       {@code unescape_html}; from the first line containing '&lt;' on, this step is skipped (ftfy's "auto").</li>
 *   <li>Mojibake: every run of characters that, read back as Windows-1252 / Latin-1 bytes, forms one complete,
 *       valid multi-byte UTF-8 sequence (a lead byte 0xC2..0xF4 and its continuation bytes) is replaced by the
 *       character it encodes: "cafÃ©" → "café", "donâ€™t" → "don’t". Doubly encoded text is undone over two
 *       rounds. This is ftfy's {@code decode_inconsistent_utf8} with a much simpler stand-in for its
 *       "badness" heuristic: a line's only sequence, when it is two bytes with a lead other than 'Â'/'Ã'
 *       (those two cover all of Latin-1), is left alone, since genuine text can spell one too (German
 *       "Gruß“": 'ß' 0xDF then '“' 0x93 would read as U+07D3). With two or more sequences in a line, genuine
 *       accented text that happens to spell some (an upper-case accented letter before '©', 'ž', '“'...) is
 *       re-decoded where ftfy might keep it. ftfy's other candidate encodings (MacRoman, cp437,
 *       Windows-1250/1251) are not tried, and
 *       {@code restore_byte_a0} (mojibake whose 0xA0 byte became a space) is not done.</li>
 *   <li>ANSI terminal escapes ({@code ESC [ digits/; letter}) are removed.</li>
 *   <li>Character by character: C1 controls U+0080..U+009F become their Windows-1252 characters; the Latin
 *       ligatures ftfy knows (ﬁ, ﬂ, ĳ, ǆ, ...) are spelt out; full-width and half-width forms (U+FF01..U+FFEF)
 *       and the ideographic space become their NFKC equivalents; curly quotes (U+02BC, U+2018..U+201B,
 *       U+201C..U+201F) become ' and "; lone surrogates become U+FFFD; the control characters ftfy removes
 *       (C0 except tab/LF/FF/CR, DEL, U+206A..U+206F, BOM U+FEFF, U+FFF9..U+FFFC) are dropped.</li>
 *   <li>NFC normalisation.</li>
 * </ol>
 * ftfy's {@code fix_line_breaks} is left out: every line break it rewrites is whitespace that CLIP collapses to
 * one space afterwards anyway.
 */
public final class TextFixer {
    private TextFixer() {}

    private static final int MAX_ROUNDS = 16;

    /** ftfy's {@code ANSI_RE}. */
    private static final Pattern ANSI_ESCAPE = Pattern.compile("\u001B\\[[0-9;]*[a-zA-Z]");

    /** ftfy's {@code LIGATURES} table. */
    private static final Map<Character, String> LIGATURES = Map.ofEntries(
            Map.entry('\u0132', "IJ"), Map.entry('\u0133', "ij"), Map.entry('\u0149', "\u02BCn"),
            Map.entry('\u01C4', "D\u017D"), Map.entry('\u01C5', "D\u017E"), Map.entry('\u01C6', "d\u017E"),
            Map.entry('\u01C7', "LJ"), Map.entry('\u01C8', "Lj"), Map.entry('\u01C9', "lj"),
            Map.entry('\u01CA', "NJ"), Map.entry('\u01CB', "Nj"), Map.entry('\u01CC', "nj"),
            Map.entry('\uFB00', "ff"), Map.entry('\uFB01', "fi"), Map.entry('\uFB02', "fl"),
            Map.entry('\uFB03', "ffi"), Map.entry('\uFB04', "ffl"), Map.entry('\uFB05', "\u017Ft"),
            Map.entry('\uFB06', "st"));

    /** The whole approximation of {@code ftfy.fix_text}, line by line. */
    public static String fixText(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean unescapeHtml = true;
        int pos = 0;
        while (pos < text.length()) {
            int nl = text.indexOf('\n', pos);
            int end = nl < 0 ? text.length() : nl + 1;
            String line = text.substring(pos, end);
            if (unescapeHtml && line.indexOf('<') >= 0) unescapeHtml = false;
            out.append(fixLine(line, unescapeHtml));
            pos = end;
        }
        return out.toString();
    }

    private static String fixLine(String line, boolean unescapeHtml) {
        String t = line;
        for (int round = 0; round < MAX_ROUNDS; round++) {
            String before = t;
            if (unescapeHtml) t = HtmlUnescape.unescapeStrict(t);
            t = fixMojibake(t);
            t = ANSI_ESCAPE.matcher(t).replaceAll("");
            t = mapCharacters(t);
            t = Normalizer.normalize(t, Normalizer.Form.NFC);
            if (t.equals(before)) break;
        }
        return t;
    }

    /**
     * Replaces complete UTF-8 sequences spelt in Windows-1252/Latin-1 characters by what they encode. A lone
     * two-byte sequence whose lead is not 'Â' or 'Ã' is kept (see the class comment): that is where genuine
     * text ("Gruß“") and mojibake look alike, and a single one is weak evidence.
     */
    static String fixMojibake(String s) {
        List<int[]> found = new ArrayList<>(); // {start, length}
        List<String> decoded = new ArrayList<>();
        for (int i = 0; i < s.length(); ) {
            int lead = Cp1252.toByte(s.charAt(i));
            int cont = lead >= 0xC2 && lead <= 0xDF ? 1 : lead >= 0xE0 && lead <= 0xEF ? 2 : lead >= 0xF0 && lead <= 0xF4 ? 3 : 0;
            String d = cont == 0 || i + cont >= s.length() ? null : decodeSequence(s, i, cont);
            if (d == null) {
                i++;
                continue;
            }
            found.add(new int[]{i, cont + 1});
            decoded.add(d);
            i += cont + 1;
        }
        if (found.isEmpty()) return s;
        if (found.size() == 1) {
            int[] only = found.get(0);
            char lead = s.charAt(only[0]);
            if (only[1] == 2 && lead != '\u00C2' && lead != '\u00C3') return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        int copied = 0;
        for (int k = 0; k < found.size(); k++) {
            out.append(s, copied, found.get(k)[0]).append(decoded.get(k));
            copied = found.get(k)[0] + found.get(k)[1];
        }
        return out.append(s, copied, s.length()).toString();
    }

    /** The character encoded by s[i..i+cont] read as bytes, or null when it is not one valid UTF-8 sequence. */
    private static String decodeSequence(String s, int i, int cont) {
        byte[] bytes = new byte[cont + 1];
        bytes[0] = (byte) Cp1252.toByte(s.charAt(i));
        for (int k = 1; k <= cont; k++) {
            int b = Cp1252.toByte(s.charAt(i + k));
            if (b < 0x80 || b > 0xBF) return null;
            bytes[k] = (byte) b;
        }
        try {
            // strict decoding rejects overlong forms, surrogates and code points past U+10FFFF
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The per-character fixes of ftfy (C1 controls, ligatures, width, quotes, surrogates, control removal). */
    static String mapCharacters(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                out.append(c).append(s.charAt(++i));
                continue;
            }
            if (Character.isSurrogate(c)) {
                out.append('\uFFFD');
            } else if (c >= 0x80 && c <= 0x9F) {
                out.append(Cp1252.toChar(c));
            } else if (LIGATURES.containsKey(c)) {
                out.append(LIGATURES.get(c));
            } else if (c == '\u3000') {
                out.append(' ');
            } else if (c >= '\uFF01' && c <= '\uFFEF') {
                out.append(Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFKC));
            } else if (c == '\u02BC' || (c >= '\u2018' && c <= '\u201B')) {
                out.append('\'');
            } else if (c >= '\u201C' && c <= '\u201F') {
                out.append('"');
            } else if (!isRemovedControl(c)) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** ftfy's {@code CONTROL_CHARS}. */
    private static boolean isRemovedControl(char c) {
        return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F
                || (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
    }
}
