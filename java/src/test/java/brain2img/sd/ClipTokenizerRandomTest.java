package brain2img.sd;

import brain2img.testing.Shared;
import brain2img.text.TextFixer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * 3,000 random strings (mixed scripts, accents, CJK, emoji, HTML references, odd whitespace) against
 * {@code tools/clip_tokenizer_reference.py}, a re-implementation of OpenAI CLIP's BPE tokenizer without ftfy,
 * whose output is the committed resource {@code clip_random_strings.json.gz} (seed 20231). The ids must be equal
 * except for the enumerated strings where our ftfy approximation ({@link TextFixer}) changes the text — the
 * mojibake repair firing on random accented letters, which real ftfy would do too and the reference skips.
 */
class ClipTokenizerRandomTest {
    /** Indices of the strings TextFixer rewrites, so the ids differ from the ftfy-less reference. */
    private static final int[] FTFY_EXCEPTIONS = {286, 2006, 2727, 2744, 2802, 2874, 2950};

    @Test
    void idsEqualThePythonReferenceExceptWhereFtfyApplies() throws IOException {
        ClipTokenizer tok = ClipTokenizer.load(Shared.sdTiny().resolve("weights/tokenizer"));
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("clip_random_strings.json.gz")) {
            assertNotNull(in, "resource clip_random_strings.json.gz");
            cases = new ObjectMapper().readTree(new GZIPInputStream(in));
        }
        assertEquals(3000, cases.size());
        List<Integer> differing = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            String text = cases.get(i).get("text").asText();
            JsonNode ids = cases.get(i).get("ids");
            int[] expected = new int[ids.size()];
            for (int j = 0; j < expected.length; j++) expected[j] = ids.get(j).asInt();
            if (!Arrays.equals(expected, tok.tokens(text))) {
                differing.add(i);
                assertNotEquals(text, TextFixer.fixText(text), "string " + i + " differs but ftfy's stand-in leaves it alone: " + text);
            }
        }
        assertEquals(Arrays.toString(FTFY_EXCEPTIONS), differing.toString(), "strings whose ids differ from the reference");
    }
}
