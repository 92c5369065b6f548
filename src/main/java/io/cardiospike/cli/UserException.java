package io.cardiospike.cli;

/** An error caused by the command line or its inputs; printed as one line. */
public class UserException extends Exception {
    public UserException(String message) {
        super(message);
    }
}
