package brain2img.text;

/**
 * "Sloppy" Windows-1252 as ftfy defines it: Windows-1252, with the five bytes it leaves undefined (0x81, 0x8D,
 * 0x8F, 0x90, 0x9D) mapping to the C1 control of the same value, so that every byte has a character and back.
 */
final class Cp1252 {
    private Cp1252() {}

    /** Characters of bytes 0x80..0x9F; bytes 0x00..0x7F and 0xA0..0xFF are the Latin-1 code points. */
    private static final String HIGH =
            "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F"
            + "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";

    static char toChar(int b) {
        return b >= 0x80 && b <= 0x9F ? HIGH.charAt(b - 0x80) : (char) b;
    }

    /** The byte of a character, or -1 when it has none. C1 controls count as their own byte (Latin-1 reading). */
    static int toByte(char c) {
        if (c <= 0xFF) return c;
        int i = HIGH.indexOf(c);
        return i < 0 ? -1 : 0x80 + i;
    }
}
