package brain2img.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class or method that needs a usable CUDA GPU: tagged {@code gpu} (so {@code -Dgroups=gpu}
 * selects exactly these) and skipped, not failed, where the CUDA backend reports itself unavailable, with the
 * loader's reason as the skip message (e.g. "libcuda.so.1 not found").
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@ExtendWith(GpuCondition.class)
public @interface GpuTest {}
