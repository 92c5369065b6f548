package io.cardiospike.ops;

/**
 * The scoring job cannot be acted on as asked: no such job, several where one was meant, a bundle or options it
 * refuses, a job that does not start. One line for the user; what was left running is said in it.
 */
public class ScoringJobException extends Exception {
    public ScoringJobException(String message) {
        super(message);
    }
}
