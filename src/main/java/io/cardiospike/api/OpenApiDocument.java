package io.cardiospike.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The OpenAPI document a server serves at {@code /openapi.json}: the one in the resources, which describes bearer
 * authentication, less that authentication on a server without tokens. Clients and schemathesis go by the document,
 * so it must say what this server does: without tokens it declares no security scheme, requires none and answers
 * no 401.
 */
final class OpenApiDocument {
    static final String RESOURCE = "/api/openapi.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenApiDocument() {}

    /** The document's bytes, for a server with ({@code authentication}) or without bearer tokens. */
    static byte[] of(boolean authentication) {
        byte[] full = ApiServer.resource(RESOURCE);
        if (authentication) {
            return full;
        }
        try {
            ObjectNode doc = (ObjectNode) JSON.readTree(full);
            doc.remove("security");
            ObjectNode components = (ObjectNode) doc.get("components");
            components.remove("securitySchemes");
            ((ObjectNode) components.get("responses")).remove("Unauthorized");
            for (JsonNode path : doc.get("paths")) {
                for (JsonNode operation : path) {
                    ((ObjectNode) operation).remove("security");
                    ((ObjectNode) operation.get("responses")).remove("401");
                }
            }
            return JSON.writeValueAsBytes(doc);
        } catch (IOException e) {
            throw new UncheckedIOException(RESOURCE + " is not JSON", e);
        }
    }
}
