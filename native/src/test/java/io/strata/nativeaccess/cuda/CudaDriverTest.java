package io.strata.nativeaccess.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

class CudaDriverTest {

    @Test
    void withoutADriverLoadIsEmptyAndTheReasonNamesTheLibrary() {
        CudaDriver.Availability availability = CudaDriver.availability();
        assumeFalse(availability.isPresent(), "a CUDA driver and device are present on this machine");
        assertTrue(CudaDriver.load().isEmpty());
        assertTrue(availability.reason().startsWith(CudaDriver.LIBRARY + ": "), availability.reason());
        // Probing again gives the same verdict: the process-wide answer is not a fluke of first use.
        assertEquals(availability.reason(), CudaDriver.probe(CudaDriver.LIBRARY).reason());
    }

    @Test
    void aLibraryThatDoesNotExistGivesAClearReasonNotAnException() {
        String name = "libstrata-no-such-cuda-driver.so.1";
        CudaDriver.Availability availability = CudaDriver.probe(name);
        assertFalse(availability.isPresent());
        assertTrue(availability.reason().startsWith(name + ": cannot be loaded"), availability.reason());
    }

    @Test
    void aLibraryWithoutTheDriverApiIsRejectedByName() {
        // The C library loads fine but has no CUDA symbols: the binding must say which one is missing.
        CudaDriver.Availability availability = CudaDriver.probe("libc.so.6");
        assertFalse(availability.isPresent());
        assertTrue(availability.reason().startsWith("libc.so.6: has no symbol cu"), availability.reason());
    }

    @Test
    void aPresentDriverReportsItsVersionAndDevices() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
        CudaDriver driver = CudaDriver.load().orElseThrow();
        assertTrue(driver.deviceCount() > 0);
        assertTrue(driver.driverVersion() >= 11000, "driver " + driver.driverVersionString());
        assertEquals("", CudaDriver.availability().reason());
        int device = driver.device(0);
        assertFalse(driver.deviceName(device).isBlank());
        assertTrue(driver.deviceTotalMem(device) > 0);
    }

    @Test
    void aFailingCallNamesTheFunctionAndTheError() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
        CudaDriver driver = CudaDriver.load().orElseThrow();
        CudaException e = org.junit.jupiter.api.Assertions.assertThrows(CudaException.class,
                () -> driver.device(driver.deviceCount() + 7));
        assertEquals("cuDeviceGet", e.function());
        assertTrue(e.errorName().startsWith("CUDA_ERROR_"), e.getMessage());
        assertTrue(e.getMessage().startsWith("cuDeviceGet failed: CUDA_ERROR_"), e.getMessage());
    }
}
