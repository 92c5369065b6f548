package io.cardiospike.api;

import static io.cardiospike.api.ApiServer.MAX_BODY_BYTES;

import io.cardiospike.rr.CsvFormatException;
import io.cardiospike.rr.RrCsv;
import io.javalin.http.Context;
import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.Part;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.BadMessageException;

/**
 * Reads the handlers' request bodies (a JSON document, a CSV, a multipart upload of one) within the limits: at most
 * {@link ApiServer#MAX_BODY_BYTES} (413 beyond, even without a Content-Length), each chunk held only once the
 * request's {@link BodyBudget} share has room for it (503 when not), a stalled or trickling body 408.
 */
final class RequestBodies {
    /** Multipart uploads stay in memory (never a temporary file with patient data) up to the body limit. */
    private static final MultipartConfigElement MULTIPART = new MultipartConfigElement(
            System.getProperty("java.io.tmpdir"), MAX_BODY_BYTES, MAX_BODY_BYTES, MAX_BODY_BYTES);

    private static final String MALFORMED_MULTIPART = "malformed multipart/form-data body: expected parts with "
            + "boundaries as in its Content-Type, one named 'file' holding the CSV";

    private RequestBodies() {}

    /** The request body, refused with 413 beyond {@link ApiServer#MAX_BODY_BYTES} even without a Content-Length. */
    static byte[] bytes(Context ctx) {
        checkLength(ctx);
        BodyBudget.Reservation reservation = reservation(ctx);
        reserve(reservation, Math.max(0, ctx.req().getContentLengthLong())); // refused before a byte is read
        try {
            return readCapped(ctx.req().getInputStream(), reservation, 0);
        } catch (IOException | BadMessageException e) {
            throw unreadable(e, "could not read the request body");
        }
    }

    /**
     * The CSV of a request: a multipart upload's {@code file} part (a file or a plain field), or else the body.
     */
    static RrCsv.Table csv(Context ctx) throws IOException {
        byte[] bytes;
        String name;
        if (Objects.toString(ctx.contentType(), "").toLowerCase(Locale.ROOT).startsWith("multipart/")) {
            checkLength(ctx);
            BodyBudget.Reservation reservation = reservation(ctx);
            // Jetty parses the whole upload before a part can be read: its share is reserved first
            long declared = ctx.req().getContentLengthLong();
            long parsed = declared >= 0 ? declared : MAX_BODY_BYTES;
            reserve(reservation, parsed);
            Part file = filePart(ctx);
            try (InputStream in = file.getInputStream()) {
                bytes = readCapped(in, reservation, parsed);
            }
            name = file.getSubmittedFileName() == null || file.getSubmittedFileName().isBlank() ? "upload"
                    : file.getSubmittedFileName();
        } else {
            bytes = bytes(ctx);
            name = "request body";
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                new ByteArrayInputStream(bytes), StandardCharsets.UTF_8))) {
            return RrCsv.read(in, name);
        } catch (CsvFormatException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    private static Part filePart(Context ctx) {
        ctx.req().setAttribute("org.eclipse.jetty.multipartConfig", MULTIPART);
        Part file = null;
        try {
            // exactly one part, 'file', as the OpenAPI document says: nothing else is read, so nothing is accepted
            for (Part part : ctx.req().getParts()) {
                if (!"file".equals(part.getName()) || file != null) {
                    throw ApiException.badRequest("multipart upload with a part other than one 'file': send only "
                            + "the CSV, as the part 'file'");
                }
                file = part;
            }
        } catch (IllegalStateException e) { // Jetty's size limits (maxRequestSize, maxFileSize)
            if (String.valueOf(e.getMessage()).contains("exceeds")) {
                throw ApiException.tooLarge("upload larger than " + MAX_BODY_BYTES + " bytes", MAX_BODY_BYTES);
            }
            throw ApiException.badRequest(MALFORMED_MULTIPART);
        } catch (ApiException e) {
            throw e;
        } catch (IOException | ServletException | RuntimeException e) { // the parser's word for a broken upload
            throw unreadable(e, MALFORMED_MULTIPART);
        }
        if (file == null) {
            throw ApiException.badRequest("multipart upload without a 'file' field");
        }
        return file;
    }

    /** A failed body read as a client error: 408 when the client was too slow (the idle timeout, the data rate). */
    private static ApiException unreadable(Exception e, String message) {
        if (e instanceof ApiException api) {
            return api;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            int code = t instanceof BadMessageException bad ? bad.getCode() : 0;
            if (t instanceof TimeoutException || code == 408) {
                return new ApiException(408, "request body not received in time: it stalled or arrived slower than "
                        + ApiServer.MIN_BODY_BYTES_PER_SECOND + " bytes/s");
            }
            if (code == 413) {
                return ApiException.tooLarge("request body exceeds the limit of " + MAX_BODY_BYTES + " bytes",
                        MAX_BODY_BYTES);
            }
        }
        return ApiException.badRequest(message);
    }

    private static void checkLength(Context ctx) {
        if (ctx.req().getContentLengthLong() > MAX_BODY_BYTES) {
            throw ApiException.tooLarge("request body of " + ctx.req().getContentLengthLong()
                    + " bytes exceeds the limit of " + MAX_BODY_BYTES + " bytes", MAX_BODY_BYTES);
        }
    }

    private static BodyBudget.Reservation reservation(Context ctx) {
        Object r = ctx.req().getAttribute(BodyBudget.ATTRIBUTE);
        if (!(r instanceof BodyBudget.Reservation reservation)) {
            throw new IllegalStateException("request did not pass the RequestGuard");
        }
        return reservation;
    }

    private static void reserve(BodyBudget.Reservation reservation, long bytes) {
        if (!reservation.growTo(bytes)) {
            throw ApiException.busy("server busy: request bodies in memory are at their limit; retry after "
                    + RequestGuard.RETRY_AFTER_SECONDS + " s", RequestGuard.RETRY_AFTER_SECONDS);
        }
    }

    /**
     * Reads at most {@link ApiServer#MAX_BODY_BYTES}, checked while reading (413 beyond), with room in the body
     * budget for each chunk before it is kept: {@code before} bytes of this request are already reserved elsewhere.
     */
    private static byte[] readCapped(InputStream in, BodyBudget.Reservation reservation, long before)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
            if (out.size() + n > MAX_BODY_BYTES) {
                throw ApiException.tooLarge("request body exceeds the limit of " + MAX_BODY_BYTES + " bytes",
                        MAX_BODY_BYTES);
            }
            reserve(reservation, before + out.size() + n);
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
