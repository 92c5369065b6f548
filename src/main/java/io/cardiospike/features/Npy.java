package io.cardiospike.features;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes NumPy {@code .npy} files (format 1.0, little endian, C order), which {@code numpy.load} reads directly. */
public final class Npy {
    private Npy() {}

    public static void write(Path file, double[] data, int... shape) throws IOException {
        try (DataOutputStream out = open(file, "<f8", shape, data.length)) {
            ByteBuffer b = ByteBuffer.allocate(8 * 4096).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : data) {
                if (!b.hasRemaining()) {
                    out.write(b.array(), 0, b.position());
                    b.clear();
                }
                b.putDouble(v);
            }
            out.write(b.array(), 0, b.position());
        }
    }

    public static void write(Path file, float[] data, int... shape) throws IOException {
        try (DataOutputStream out = open(file, "<f4", shape, data.length)) {
            ByteBuffer b = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : data) {
                if (!b.hasRemaining()) {
                    out.write(b.array(), 0, b.position());
                    b.clear();
                }
                b.putFloat(v);
            }
            out.write(b.array(), 0, b.position());
        }
    }

    private static DataOutputStream open(Path file, String descr, int[] shape, int length) throws IOException {
        long expected = 1;
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            expected *= d;
            dims.append(d).append(", ");
        }
        if (expected != length) {
            throw new IllegalArgumentException("shape does not match data length " + length);
        }
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
        String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
        DataOutputStream out = new DataOutputStream(os);
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        out.write(h.length & 0xff);
        out.write((h.length >> 8) & 0xff);
        out.write(h);
        return out;
    }
}
