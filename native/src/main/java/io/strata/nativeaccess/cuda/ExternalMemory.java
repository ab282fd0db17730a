package io.strata.nativeaccess.cuda;

/** A device-addressable range owned elsewhere (e.g. a tier's block), valid only while its owner keeps it. */
record ExternalMemory(long address, long byteSize) implements DeviceMemory {
}
