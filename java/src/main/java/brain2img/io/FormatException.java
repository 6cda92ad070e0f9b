package brain2img.io;

/** A file that is not what it claims to be; the message names the file and, where known, the key or field. */
public class FormatException extends RuntimeException {
    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
