package brain2img.api;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.data.Synth;
import brain2img.io.Images;
import brain2img.pipeline.Pipeline;
import brain2img.pipeline.RunConfig;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's API example, taken from the README itself, compiles and runs against a fitted run. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ApiExampleTest {
    @TempDir
    Path tmp;

    static String readmeExample() throws Exception {
        String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        int marker = readme.indexOf("<!-- api-example -->");
        assertTrue(marker >= 0, "README has no <!-- api-example --> block");
        int start = readme.indexOf("```java\n", marker) + "```java\n".length(), end = readme.indexOf("```", start);
        return readme.substring(start, end);
    }

    @Test
    void theReadmeExampleCompilesAndReconstructs() throws Exception {
        String code = readmeExample();
        assertTrue(code.lines().count() <= 20, "the example stays short: " + code.lines().count() + " lines");
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        Synth.generate(data, Synth.Options.of(60, 120, 5).withImageSize(8));
        try (Backend be = new CpuBackend()) {
            new Pipeline(RunConfig.defaults(data, run), be, s -> {}).through(Pipeline.Stage.FIT);
        }
        Path src = Files.createDirectories(tmp.resolve("src")).resolve("Example.java"), classes = Files.createDirectories(tmp.resolve("classes"));
        Files.writeString(src, code);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, "-cp", System.getProperty("java.class.path"), "-d", classes.toString(), src.toString());
        assertEquals(0, rc, err.toString());

        Path png = tmp.resolve("out.png");
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader cl = new URLClassLoader(new URL[]{classes.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            cl.loadClass("Example").getMethod("main", String[].class).invoke(null, (Object) new String[]{run.toString(), png.toString()});
        } finally {
            System.setOut(stdout);
        }
        assertTrue(printed.toString(StandardCharsets.UTF_8).matches("(?s)\\{preprocess=.*, decode=.*, render=.*}\\s*"), printed.toString());
        // the example's picture is the decoder's reconstruction of an all-zero volume
        try (Reconstructor rec = Reconstructor.open(run, Reconstructor.Options.defaults())) {
            Tensor expected = rec.reconstruct(new float[rec.voxels()]).image();
            assertArrayEquals(Images.png(expected), Files.readAllBytes(png));
            assertEquals(3, Images.read(png).dim(0));
        }
    }
}
