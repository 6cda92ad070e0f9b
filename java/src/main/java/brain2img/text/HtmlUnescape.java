package brain2img.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTML character references decoded as Python's {@code html.unescape} does (the HTML5 rules): the 2,231 named
 * references of the WHATWG list (legacy names also without ';', longest-prefix matching for unknown names),
 * decimal and hex numeric references with the HTML5 replacements for invalid code points.
 *
 * <p>CLIP's tokenizer applies this twice to every prompt, after ftfy; {@link #unescapeStrict} is ftfy's own,
 * more cautious variant (only references ending in ';').
 */
public final class HtmlUnescape {
    private HtmlUnescape() {}

    /** Same alternatives as Python's {@code html._charref}. */
    private static final Pattern CHARREF = Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");

    /** ftfy's {@code HTML_ENTITY_RE}. */
    private static final Pattern STRICT_REF = Pattern.compile("&#?[0-9A-Za-z]{1,24};");

    /** HTML5 replacements for numeric references to C1 controls, NUL and CR (Python's {@code _invalid_charrefs}). */
    private static final Map<Integer, String> INVALID_CHARREFS = buildInvalidCharrefs();

    // (declared after the patterns: static initialisers run in order and buildStrict() uses unescape())
    /** Name (without '&amp;', with ';' where the list has it) → replacement text. */
    private static final Map<String, String> NAMED = loadEntities();

    /** ftfy's table: "&amp;name;" for every ';' name, plus an upper-case form of all-lower-case names. */
    private static final Map<String, String> STRICT = buildStrict();

    /** Python {@code html.unescape(s)}. */
    public static String unescape(String s) {
        if (s.indexOf('&') < 0) return s;
        Matcher m = CHARREF.matcher(s);
        StringBuilder out = new StringBuilder(s.length());
        while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(replace(m.group(1))));
        m.appendTail(out);
        return out.toString();
    }

    /** ftfy's {@code unescape_html}: only ';'-terminated references, left alone where they do not decode. */
    public static String unescapeStrict(String s) {
        if (s.indexOf('&') < 0) return s;
        Matcher m = STRICT_REF.matcher(s);
        StringBuilder out = new StringBuilder(s.length());
        while (m.find()) {
            String ref = m.group();
            String rep = STRICT.get(ref);
            if (rep == null && ref.startsWith("&#")) {
                String u = unescape(ref);
                rep = u.indexOf(';') >= 0 ? ref : u;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(rep == null ? ref : rep));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String replace(String ref) {
        if (ref.charAt(0) == '#') return numeric(ref);
        String named = NAMED.get(ref);
        if (named != null) return named;
        // the longest known name that is a proper prefix (at least 2 characters), as the HTML5 parser does
        for (int x = ref.length() - 1; x > 1; x--) {
            String prefix = NAMED.get(ref.substring(0, x));
            if (prefix != null) return prefix + ref.substring(x);
        }
        return "&" + ref;
    }

    private static String numeric(String ref) {
        boolean hex = ref.charAt(1) == 'x' || ref.charAt(1) == 'X';
        String digits = ref.substring(hex ? 2 : 1);
        if (digits.endsWith(";")) digits = digits.substring(0, digits.length() - 1);
        // Python's ints are unbounded: anything past 0x10FFFF is simply out of range
        String significant = digits.replaceFirst("^0+(?=.)", "");
        long num = significant.length() > 8 ? Long.MAX_VALUE : Long.parseLong(significant, hex ? 16 : 10);
        String invalid = num <= 0x9F ? INVALID_CHARREFS.get((int) num) : null;
        if (invalid != null) return invalid;
        if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return "\uFFFD";
        if (isInvalidCodePoint((int) num)) return "";
        return Character.toString((int) num);
    }

    /** Python's {@code _invalid_codepoints}: C0/C1 controls except tab, LF, FF, CR; non-characters. */
    private static boolean isInvalidCodePoint(int c) {
        return (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || (c >= 0x7F && c <= 0x9F)
                || (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
    }

    private static Map<Integer, String> buildInvalidCharrefs() {
        Map<Integer, String> m = new HashMap<>();
        m.put(0x00, "\uFFFD");
        m.put(0x0D, "\r");
        for (int b = 0x80; b <= 0x9F; b++) m.put(b, Character.toString(Cp1252.toChar(b)));
        return m;
    }

    private static Map<String, String> loadEntities() {
        Map<String, String> m = new HashMap<>(4096);
        String res = "/brain2img/text/html5-entities.tsv";
        try (InputStream in = HtmlUnescape.class.getResourceAsStream(res)) {
            if (in == null) throw new IllegalStateException("missing resource " + res);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isEmpty()) continue;
                int tab = line.indexOf('\t');
                StringBuilder text = new StringBuilder(2);
                for (String cp : line.substring(tab + 1).split(" ")) text.appendCodePoint(Integer.parseInt(cp, 16));
                m.put(line.substring(0, tab), text.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(res, e);
        }
        return m;
    }

    private static Map<String, String> buildStrict() {
        Map<String, String> m = new HashMap<>(4096);
        for (Map.Entry<String, String> e : NAMED.entrySet()) {
            String name = e.getKey();
            if (!name.endsWith(";")) continue;
            m.put("&" + name, e.getValue());
        }
        Set<String> names = Set.copyOf(m.keySet());
        for (String ref : names) {
            String lower = ref.toLowerCase(Locale.ROOT);
            if (!ref.equals(lower)) continue;
            String upper = ref.toUpperCase(Locale.ROOT);
            if (unescape(upper).equals(upper)) m.put(upper, m.get(ref).toUpperCase(Locale.ROOT));
        }
        return m;
    }
}
