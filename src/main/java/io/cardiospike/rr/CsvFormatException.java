package io.cardiospike.rr;

/** A structural problem in an RR CSV file; the message names the file and line and is meant for the user. */
public class CsvFormatException extends Exception {
    public CsvFormatException(String message) {
        super(message);
    }
}
