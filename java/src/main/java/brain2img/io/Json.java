package brain2img.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One shared Jackson mapper and file helpers that name the file in their errors. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {}

    public static JsonNode read(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new FormatException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    public static JsonNode parse(String text, String what) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new FormatException(what + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    /** Writes JSON atomically (temp file, then rename). */
    public static void write(Path file, Object value) throws IOException {
        AtomicFiles.write(file, MAPPER.writeValueAsBytes(value));
    }

    public static boolean exists(Path file) {
        return Files.isRegularFile(file);
    }
}
