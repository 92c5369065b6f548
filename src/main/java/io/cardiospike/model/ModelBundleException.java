package io.cardiospike.model;

/** A model bundle that is missing, malformed or does not match this build's features. */
public class ModelBundleException extends Exception {
    public ModelBundleException(String message) {
        super(message);
    }

    public ModelBundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
