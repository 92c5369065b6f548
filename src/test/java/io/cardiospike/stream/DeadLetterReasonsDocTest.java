package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.stream.records.DeadLetter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The dead-letter reasons are defined once, in {@link DeadLetter.Reason}; the documentation's table is that enum. */
class DeadLetterReasonsDocTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z_]+)` \\| (.+) \\|$", Pattern.MULTILINE);

    @Test
    void theDocumentedReasonsAreExactlyTheEnum() throws Exception {
        String doc = Files.readString(Path.of("docs/streaming.md"));
        String table = doc.substring(doc.indexOf("|---|", doc.indexOf("Dead-letter reasons")));
        table = table.substring(0, table.indexOf("\n\n"));
        Map<String, String> documented = new LinkedHashMap<>();
        for (Matcher m = ROW.matcher(table); m.find(); ) {
            documented.put(m.group(1), m.group(2));
        }
        Map<String, String> defined = new LinkedHashMap<>();
        Arrays.stream(DeadLetter.Reason.values()).forEach(r -> defined.put(r.code, r.meaning));
        assertThat(documented).containsExactlyEntriesOf(defined);
    }
}
