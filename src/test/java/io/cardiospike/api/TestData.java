package io.cardiospike.api;

import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.rr.SyntheticRr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Synthetic labelled recordings written as the CSV the CLI and the API read. */
final class TestData {
    private TestData() {}

    /** A few patients, interleaved row by row like real exports, with artifacts and anomalies. */
    static Path writeCsv(Path file, int patients, long seed) throws IOException {
        List<Recording> recs = SyntheticRr.recordings(patients, 300, 700, seed);
        StringBuilder csv = new StringBuilder("id,time,x,y\n");
        int longest = recs.stream().mapToInt(Recording::size).max().orElse(0);
        for (int i = 0; i < longest; i++) {
            for (Recording r : recs) {
                if (i < r.size()) {
                    csv.append(r.id()).append(',').append(RrCsv.formatTime(r.time()[i])).append(',')
                            .append(RrCsv.formatTime(r.rr()[i])).append(',').append(Math.max(0, r.label()[i]))
                            .append('\n');
                }
            }
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, csv);
        return file;
    }
}
