package io.cardiospike.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BearerTokensTest {
    static final String FIRST = "k3y-0f-the-ward-0123";
    static final String SECOND = "c2VydmljZS1hY2NvdW50LXRva2Vu==";

    @TempDir
    Path dir;

    Path file(String text) throws Exception {
        return Files.writeString(dir.resolve("tokens"), text);
    }

    @Test
    void oneTokenALineCommentsAndBlankLinesIgnored() throws Exception {
        BearerTokens tokens = BearerTokens.read(file("# ward 3 gateways\n\n" + FIRST + "\n   \n  " + SECOND
                + "  \r\n# " + "retired-token-000000\n"));
        assertThat(tokens.size()).isEqualTo(2);
        assertThat(tokens.accepts("Bearer " + FIRST)).isTrue();
        assertThat(tokens.accepts("bearer " + SECOND)).as("the scheme is case-insensitive").isTrue();
        assertThat(tokens.accepts("Bearer retired-token-000000")).as("a commented-out token").isFalse();
        assertThat(tokens.accepts("Bearer " + FIRST + "x")).isFalse();
        assertThat(tokens.accepts("Bearer " + FIRST.substring(1))).isFalse();
        assertThat(tokens.accepts(FIRST)).as("no scheme").isFalse();
        assertThat(tokens.accepts("Basic " + FIRST)).isFalse();
        assertThat(tokens.accepts("Bearer ")).isFalse();
        assertThat(tokens.accepts(null)).isFalse();
    }

    @Test
    void aMissingFileIsAClearError() {
        assertThatThrownBy(() -> BearerTokens.read(dir.resolve("absent")))
                .isInstanceOf(BearerTokens.TokenFileException.class)
                .hasMessage("auth token file " + dir.resolve("absent") + ": no such file");
    }

    @Test
    void aFileWithoutATokenIsAClearError() throws Exception {
        Path empty = file("");
        assertThatThrownBy(() -> BearerTokens.read(empty)).hasMessageContaining(": no token in it");
        Path onlyComments = file("# none yet\n\n");
        assertThatThrownBy(() -> BearerTokens.read(onlyComments)).hasMessageContaining(": no token in it");
    }

    @Test
    void aBadLineIsNamedByItsNumberNeverByItsContent() throws Exception {
        Path spaced = file(FIRST + "\nfirst-half-of-it second-half\n");
        assertThatThrownBy(() -> BearerTokens.read(spaced))
                .hasMessageContaining("tokens:2: not a bearer token")
                .hasMessageNotContaining("first-half-of-it");
        Path shortToken = file("short-secret\n");
        assertThatThrownBy(() -> BearerTokens.read(shortToken))
                .hasMessageContaining("tokens:1: token shorter than 16 characters")
                .hasMessageNotContaining("short-secret");
    }
}
