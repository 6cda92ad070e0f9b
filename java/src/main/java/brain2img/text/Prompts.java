package brain2img.text;

import brain2img.io.FormatException;
import brain2img.io.Json;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads prompts from a file: a JSON array of strings (a {@code .json} file, or any file whose text starts with
 * '[' and parses as one), else UTF-8 text with one prompt per line. Blank lines are kept as empty prompts (the
 * unconditional prompt); only the newline ending the last line does not start another.
 */
public final class Prompts {
    private Prompts() {}

    public static List<String> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read prompts (" + e.getMessage() + ")", e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(file + ": not UTF-8 text", e);
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        boolean json = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".json");
        if (json || text.stripLeading().startsWith("[")) {
            List<String> fromJson = jsonStrings(text);
            if (fromJson != null) return fromJson;
            if (json) throw new FormatException(file + ": expected a JSON array of strings");
        }
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\r\n|\n|\r", -1)));
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
        return lines;
    }

    /** The strings of a JSON array of strings, or null when the text is not one. */
    private static List<String> jsonStrings(String text) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(text);
        } catch (IOException e) {
            return null;
        }
        if (root == null || !root.isArray()) return null;
        List<String> out = new ArrayList<>(root.size());
        for (JsonNode n : root) {
            if (!n.isTextual()) return null;
            out.add(n.textValue());
        }
        return out;
    }
}
