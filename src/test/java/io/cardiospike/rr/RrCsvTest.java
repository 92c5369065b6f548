package io.cardiospike.rr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class RrCsvTest {
    private static RrCsv.Table parse(String csv) throws Exception {
        return RrCsv.read(new BufferedReader(new StringReader(csv)), "in.csv");
    }

    @Test
    void groupsPatientsSortsByTimeAndKeepsInputRows() throws Exception {
        RrCsv.Table t = parse("x,id,time,y,extra\n800,a,800,0,q\n700,b,0,1,q\n750,a,0,0,q\n12,a,1600,0,q\n");
        assertThat(t.rowCount()).isEqualTo(4);
        Recording a = t.recordings().get(0);
        assertThat(a.id()).isEqualTo("a");
        assertThat(a.rr()).containsExactly(750, 800, 12);
        assertThat(a.inputRows()).containsExactly(2, 0, 3);
        assertThat(t.recordings().get(1).label()).containsExactly(1);
    }

    @Test
    void writesScoresInInputOrder() throws Exception {
        RrCsv.Table t = parse("id,time,x\na,800,800\nb,0,2400\na,0,750\n");
        StringWriter out = new StringWriter();
        RrCsv.writeScores(out, t, List.of(new double[] {0.1, 0.9}, new double[] {0.5}),
                List.of(new int[] {0, 1}, new int[] {1}));
        // artifact: an RR outside 300-2000 ms (b's 2400)
        assertThat(out.toString()).isEqualTo("id,time,y,proba,artifact\na,800,1,0.90000000,0\nb,0,1,0.50000000,1\n"
                + "a,0,0,0.10000000,0\n");
    }

    @Test
    void structuralErrorsNameFileAndLine() {
        assertThatThrownBy(() -> parse("")).hasMessageContaining("in.csv: empty file");
        assertThatThrownBy(() -> parse("id,time\n1,2\n")).hasMessageContaining("in.csv:1: header lacks column 'x'");
        assertThatThrownBy(() -> parse("id,time,x\na,0,800\na,800,abc\n"))
                .hasMessage("in.csv:3: field 'x' is not a number: 'abc'");
        assertThatThrownBy(() -> parse("id,time,x\na,0,800\na,800\n")).hasMessageContaining("in.csv:3: expected 3 fields");
        assertThatThrownBy(() -> parse("id,time,x\n")).hasMessageContaining("no data rows");
        assertThatThrownBy(() -> parse("id,time,x\na,NaN,800\n")).hasMessageContaining("in.csv:2: field 'time'");
    }

    /** The fast path must print exactly what String.format prints, halves and their neighbours included. */
    @Test
    void formatsProbabilitiesExactlyAsStringFormat() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(19);
        java.util.List<Double> values = new java.util.ArrayList<>(List.of(0.0, -0.0, 1.0, 1e-300, 0.999999995,
                0.9999999949999999, 4.9999999e-9, 5e-9, 0.5, 0.15, Double.MIN_VALUE, Math.nextDown(1.0)));
        for (int i = 0; i < 500_000; i++) {
            values.add(random.nextDouble()); // uniform
            values.add(1 / (1 + Math.exp(-random.nextDouble(-30, 30)))); // like the stacker's output
        }
        for (int i = 0; i < 100_000; i++) {
            double half = (random.nextLong(100_000_000L) + 0.5) / 1e8; // a rounding boundary
            values.add(half);
            values.add(Math.nextUp(half));
            values.add(Math.nextDown(half));
            values.add(Math.nextUp(Math.nextUp(half)));
            values.add(Math.nextDown(Math.nextDown(half)));
        }
        for (double p : values) {
            String expected = String.format(java.util.Locale.ROOT, "%.8f", p);
            if (!RrCsv.formatProba(p).equals(expected)) {
                assertThat(RrCsv.formatProba(p)).as("%s (bits %x)", p, Double.doubleToRawLongBits(p)).isEqualTo(expected);
            }
        }
    }
}
