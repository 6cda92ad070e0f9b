import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Counts the skipped tests in Surefire's XML reports, by reason, so a green run says what it did not check:
 * {@code java .ci/SkippedTests.java [--newer-than EPOCH_MS] DIR...} prints e.g. "skipped: 31 (27 no usable GPU: libcuda.so.1 not found;
 * 4 g++ not installed here)". Reports are found under each DIR at any depth (TEST-*.xml in surefire-reports*).
 * Run by test.sh after Maven (a single-file Java program: CI needs nothing but the JDK).
 */
public class SkippedTests {
    public static void main(String[] args) throws Exception {
        long since = 0;
        int first = 0;
        if (args.length >= 2 && args[0].equals("--newer-than")) {
            since = Long.parseLong(args[1]);
            first = 2;
        }
        Map<String, Integer> byReason = new TreeMap<>();
        int total = 0, tests = 0;
        for (Path report : reports(java.util.Arrays.copyOfRange(args, first, args.length))) {
            if (Files.getLastModifiedTime(report).toMillis() < since) continue; // left over from an earlier run
            var factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            var doc = factory.newDocumentBuilder().parse(report.toFile());
            var cases = doc.getElementsByTagName("testcase");
            tests += cases.getLength();
            for (int i = 0; i < cases.getLength(); i++) {
                var skipped = ((Element) cases.item(i)).getElementsByTagName("skipped");
                if (skipped.getLength() == 0) continue;
                Element skip = (Element) skipped.item(0);
                // an aborted assumption leaves the message empty and the exception in the element's text
                String why = skip.getAttribute("message").strip();
                if (why.isEmpty()) why = skip.getTextContent().strip().replaceFirst("^[\\w.$]+Exception: (Assumption failed: )?", "");
                byReason.merge(why.isEmpty() ? "no reason given" : oneLine(why), 1, Integer::sum);
                total++;
            }
        }
        var parts = new ArrayList<String>();
        byReason.entrySet().stream()
                .sorted((a, b) -> b.getValue() - a.getValue())
                .forEach(e -> parts.add(e.getValue() + " " + e.getKey()));
        System.out.println("skipped: " + total + " of " + tests + " test runs"
                + (parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")"));
    }

    private static List<Path> reports(String[] dirs) throws IOException {
        var found = new ArrayList<Path>();
        for (String d : dirs) {
            Path dir = Path.of(d);
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.walk(dir)) {
                s.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")
                                && p.getParent().getFileName().toString().startsWith("surefire-reports"))
                        .sorted().forEach(found::add);
            }
        }
        return found;
    }

    /** The first line, at most 120 characters: reasons are grouped by this text. */
    private static String oneLine(String s) {
        String first = s.lines().findFirst().orElse("").strip();
        return first.length() > 120 ? first.substring(0, 117) + "..." : first;
    }
}
