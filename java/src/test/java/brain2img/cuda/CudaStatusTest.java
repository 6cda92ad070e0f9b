package brain2img.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaStatusTest {

    @Test
    void namesCommonStatuses() {
        assertEquals("CUDA_SUCCESS (0)", CudaStatus.driver(0));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY (2)", CudaStatus.driver(2));
        assertEquals("CUDA_ERROR_NO_DEVICE (100)", CudaStatus.driver(100));
        assertEquals("CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222)", CudaStatus.driver(222));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS (700)", CudaStatus.driver(700));
        assertEquals("unknown status (12345)", CudaStatus.driver(12345));
        assertEquals("CUBLAS_STATUS_NOT_INITIALIZED (1)", CudaStatus.cublas(1));
        assertEquals("CUBLAS_STATUS_EXECUTION_FAILED (13)", CudaStatus.cublas(13));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED (15)", CudaStatus.cublas(15));
        assertEquals("CUSOLVER_STATUS_INVALID_VALUE (3)", CudaStatus.cusolver(3));
        assertEquals("CUSOLVER_STATUS_ZERO_PIVOT (10)", CudaStatus.cusolver(10));
    }

    @Test
    void exceptionsCarryCallAndName() {
        CudaException e = org.junit.jupiter.api.Assertions.assertThrows(CudaException.class, () -> CudaDriver.check(100, "cuInit"));
        assertEquals("cuInit: CUDA_ERROR_NO_DEVICE (100)", e.getMessage());
        assertEquals(100, e.status);
        CudaException b = org.junit.jupiter.api.Assertions.assertThrows(CudaException.class, () -> CuBlas.check(7, "cublasSetStream_v2"));
        assertEquals("cublasSetStream_v2: CUBLAS_STATUS_INVALID_VALUE (7)", b.getMessage());
    }

    /** Where CUDA's headers are installed, the whole CUresult table must agree with cuda.h. */
    @Test
    void driverTableMatchesCudaHeader() throws IOException {
        Path header = null;
        for (String d : new String[]{System.getenv("CUDA_HOME"), "/usr/local/cuda", "/usr/local/cuda-13.0", "/usr/local/cuda-12.8"}) {
            if (d != null && Files.isRegularFile(Path.of(d, "include", "cuda.h"))) {
                header = Path.of(d, "include", "cuda.h");
                break;
            }
        }
        assumeTrue(header != null, "cuda.h not installed here");
        String text = Files.readString(header);
        int start = text.indexOf("typedef enum cudaError_enum");
        int end = text.indexOf("} CUresult;", start);
        Matcher m = Pattern.compile("^\\s+(CUDA_\\w+)\\s*=\\s*(\\d+)", Pattern.MULTILINE).matcher(text.substring(start, end));
        Map<Integer, String> fromHeader = new LinkedHashMap<>();
        while (m.find()) fromHeader.putIfAbsent(Integer.parseInt(m.group(2)), m.group(1));
        assertTrue(fromHeader.size() > 90, "parsed " + fromHeader.size() + " CUresult values from " + header);
        for (var e : fromHeader.entrySet()) assertEquals(e.getValue(), CudaStatus.driverName(e.getKey()), "CUresult " + e.getKey());
    }
}
