package brain2img.sd;

import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.text.HtmlUnescape;
import brain2img.text.TextFixer;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CLIP byte-level BPE tokenizer (OpenAI's {@code SimpleTokenizer}; the Hugging Face {@code CLIPTokenizer}
 * files {@code vocab.json} + {@code merges.txt}), with the SD v1 framing: {@code <|startoftext|>}, at most 75
 * BPE tokens, {@code <|endoftext|>}, padded with {@code <|endoftext|>} to 77 ids.
 *
 * <p>Steps: {@link #clean} (ftfy approximation, HTML unescaped twice, whitespace collapsed, lower-cased), the
 * CLIP split pattern, UTF-8 bytes through the GPT-2 byte-to-unicode map, {@code </w>} on the last symbol of each
 * word, merges applied lowest rank first. Thread-safe; words already seen come from a cache.
 */
public final class ClipTokenizer {
    /** Sequence length of SD v1's text encoder. */
    public static final int CONTEXT_LENGTH = 77;

    public static final String START = "<|startoftext|>", END = "<|endoftext|>";

    private static final String END_OF_WORD = "</w>";

    /**
     * CLIP's split: the two specials, the English contractions, runs of letters, single digits, runs of anything
     * else but whitespace. Case-insensitive as in CLIP ('ſ' matches 's'); whitespace is Unicode White_Space,
     * which is what the Python {@code regex} module's \s matches.
     */
    private static final Pattern SPLIT = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\p{IsWhite_Space}\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    private static final Pattern WHITESPACE = Pattern.compile("\\p{IsWhite_Space}+");

    /** Words kept in the cache before it is cleared (it only grows with distinct words). */
    private static final int CACHE_LIMIT = 1 << 16;

    /** GPT-2's byte → printable character map and its inverse. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            // printable Latin-1 bytes stand for themselves; the rest are moved to 256, 257, ... in byte order
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    /** "left right" → merge rank (lower merges first). */
    private final Map<String, Integer> mergeRanks;
    private final int startId, endId;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, String source) {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.idToToken = new String[vocab.size()];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (id < 0 || id >= idToToken.length || idToToken[id] != null) {
                throw new FormatException(source + ": token ids are not a permutation of 0.." + (idToToken.length - 1)
                        + " (id " + id + " of '" + e.getKey() + "')");
            }
            idToToken[id] = e.getKey();
        }
        this.startId = special(START, source);
        this.endId = special(END, source);
    }

    private int special(String token, String source) {
        Integer id = vocab.get(token);
        if (id == null) throw new FormatException(source + ": vocabulary has no " + token);
        return id;
    }

    /** Reads {@code vocab.json} and {@code merges.txt} from a Hugging Face tokenizer folder. */
    public static ClipTokenizer load(Path tokenizerDir) {
        Path vocabFile = tokenizerDir.resolve("vocab.json"), mergesFile = tokenizerDir.resolve("merges.txt");
        for (Path p : List.of(vocabFile, mergesFile)) {
            if (!Files.isRegularFile(p)) throw new FormatException(p + ": missing (a CLIP tokenizer folder needs vocab.json and merges.txt)");
        }
        JsonNode root = Json.read(vocabFile);
        if (!root.isObject()) throw new FormatException(vocabFile + ": expected an object of token → id");
        Map<String, Integer> vocab = new HashMap<>(root.size() * 2);
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (!e.getValue().canConvertToInt()) throw new FormatException(vocabFile + ": id of '" + e.getKey() + "' is not an integer");
            vocab.put(e.getKey(), e.getValue().intValue());
        }
        return new ClipTokenizer(vocab, readMerges(mergesFile, vocab), vocabFile.toString());
    }

    private static Map<String, Integer> readMerges(Path file, Map<String, Integer> vocab) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new FormatException(file + ": " + e.getMessage(), e);
        }
        Map<String, Integer> ranks = new HashMap<>(lines.size() * 2);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if ((i == 0 && line.startsWith("#version")) || line.isEmpty()) continue;
            String[] pair = line.split(" ");
            if (pair.length != 2) throw new FormatException(file + ": line " + (i + 1) + " is not 'left right': '" + line + "'");
            if (!vocab.containsKey(pair[0] + pair[1])) {
                throw new FormatException(file + ": line " + (i + 1) + " merges to '" + pair[0] + pair[1] + "', which vocab.json lacks");
            }
            ranks.putIfAbsent(line, ranks.size());
        }
        return ranks;
    }

    public int startId() { return startId; }

    public int endId() { return endId; }

    public int vocabSize() { return idToToken.length; }

    /**
     * CLIP's text clean-up: ftfy ({@link TextFixer}), HTML unescaped twice, whitespace runs → one space,
     * stripped, lower-cased.
     */
    public static String clean(String text) {
        String t = HtmlUnescape.unescape(HtmlUnescape.unescape(TextFixer.fixText(text)));
        t = WHITESPACE.matcher(t).replaceAll(" ");
        int from = 0, to = t.length();
        while (from < to && t.charAt(from) == ' ') from++;
        while (to > from && t.charAt(to - 1) == ' ') to--;
        return t.substring(from, to).toLowerCase(Locale.ROOT);
    }

    /** The BPE ids of the cleaned text, without specials, untruncated. */
    public int[] tokens(String text) {
        return tokens(text, Integer.MAX_VALUE);
    }

    /** The BPE ids of the cleaned text, stopping after the word that reaches {@code limit} ids. */
    private int[] tokens(String text, int limit) {
        List<int[]> words = new ArrayList<>();
        int n = 0;
        Matcher m = SPLIT.matcher(clean(text));
        while (n < limit && m.find()) {
            int[] ids = bpeWord(m.group());
            words.add(ids);
            n += ids.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] w : words) {
            System.arraycopy(w, 0, out, at, w.length);
            at += w.length;
        }
        return out;
    }

    /** 77 ids: start, the first 75 BPE ids, end, then end as padding. */
    public int[] encode(String text) {
        int[] bpe = tokens(text, CONTEXT_LENGTH - 2);
        int n = Math.min(bpe.length, CONTEXT_LENGTH - 2);
        int[] ids = new int[CONTEXT_LENGTH];
        Arrays.fill(ids, endId);
        ids[0] = startId;
        System.arraycopy(bpe, 0, ids, 1, n);
        return ids;
    }

    /** One row of 77 ids per text. */
    public int[][] encode(List<String> texts) {
        int[][] out = new int[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = encode(texts.get(i));
        return out;
    }

    /**
     * The text of the ids: start/end ids (and so the padding) are dropped, each word ends with one space
     * except the last; invalid UTF-8 (a word cut by truncation) becomes U+FFFD.
     */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= idToToken.length) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + idToToken.length);
            if (id == startId || id == endId) continue;
            String token = idToToken[id];
            boolean wordEnd = token.endsWith(END_OF_WORD);
            if (wordEnd) token = token.substring(0, token.length() - END_OF_WORD.length());
            for (int i = 0; i < token.length(); i++) {
                char c = token.charAt(i);
                int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
                if (b < 0) throw new FormatException("vocabulary token " + id + " '" + idToToken[id] + "' is not byte-level BPE");
                bytes.write(b);
            }
            if (wordEnd) bytes.write(' ');
        }
        String s = bytes.toString(StandardCharsets.UTF_8);
        return s.endsWith(" ") ? s.substring(0, s.length() - 1) : s;
    }

    /** The ids of one pre-token (a match of the split pattern). */
    private int[] bpeWord(String word) {
        int[] cached = cache.get(word);
        if (cached != null) return cached;
        int[] ids;
        if (word.equals(START) || word.equals(END)) {
            ids = new int[]{word.equals(START) ? startId : endId};
        } else {
            List<String> symbols = merge(initialSymbols(word));
            ids = new int[symbols.size()];
            for (int i = 0; i < ids.length; i++) {
                Integer id = vocab.get(symbols.get(i));
                if (id == null) throw new FormatException("BPE symbol '" + symbols.get(i) + "' of '" + word + "' is not in the vocabulary");
                ids[i] = id;
            }
        }
        if (cache.size() >= CACHE_LIMIT) cache.clear();
        cache.put(word, ids);
        return ids;
    }

    /** One symbol per UTF-8 byte (as its printable stand-in), the last one carrying {@code </w>}. */
    private static List<String> initialSymbols(String word) {
        byte[] utf8 = word.getBytes(StandardCharsets.UTF_8);
        List<String> symbols = new ArrayList<>(utf8.length);
        for (byte b : utf8) symbols.add(String.valueOf(BYTE_TO_CHAR[b & 0xFF]));
        int last = symbols.size() - 1;
        symbols.set(last, symbols.get(last) + END_OF_WORD);
        return symbols;
    }

    /** Repeatedly merges every occurrence (left to right) of the adjacent pair with the lowest rank. */
    private List<String> merge(List<String> symbols) {
        while (symbols.size() > 1) {
            int best = Integer.MAX_VALUE;
            String left = null, right = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = mergeRanks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    left = symbols.get(i);
                    right = symbols.get(i + 1);
                }
            }
            if (left == null) break;
            List<String> next = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(left) && symbols.get(i + 1).equals(right)) {
                    next.add(left + right);
                    i++;
                } else {
                    next.add(symbols.get(i));
                }
            }
            symbols = next;
        }
        return symbols;
    }
}
