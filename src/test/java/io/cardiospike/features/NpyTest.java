package io.cardiospike.features;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @Test
    void writesAlignedHeaderAndLittleEndianData(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.npy");
        Npy.write(f, new double[] {1.5, -2, 3, 4, 5, 6}, 2, 3);
        byte[] b = Files.readAllBytes(f);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
        assertThat((10 + headerLen) % 64).isZero();
        assertThat(header).startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }").endsWith("\n");
        ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLen, 48).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(data.getDouble()).isEqualTo(1.5);
        assertThat(data.getDouble()).isEqualTo(-2);
    }
}
