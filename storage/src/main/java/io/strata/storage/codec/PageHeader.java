package io.strata.storage.codec;

/** The decoded header of a spilled page record. */
public record PageHeader(CodecKind codec, int planeWidth, int layer, int page, int tokens, int kvDim,
                         int rawLength, int storedLength, long checksum) {

    public int recordLength() {
        return PageRecordFormat.HEADER_BYTES + storedLength;
    }
}
