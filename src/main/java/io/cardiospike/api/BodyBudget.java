package io.cardiospike.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of request bodies that all requests together may hold in memory at once, so that a flood of large uploads
 * cannot exhaust the heap. The first {@link #FREE_BYTES} of each body are not counted: ordinary requests (a
 * 300-beat predict is about 2 KB) never wait on large uploads; their total is bounded by the request bound.
 */
final class BodyBudget {
    /** Request attribute under which each request's {@link Reservation} travels from the guard to the handlers. */
    static final String ATTRIBUTE = BodyBudget.class.getName();
    static final int FREE_BYTES = 64 * 1024;

    private final long capacity;
    private final AtomicLong held = new AtomicLong();

    BodyBudget(long capacity) {
        this.capacity = capacity;
    }

    long capacity() {
        return capacity;
    }

    /** Bytes reserved now, all requests together. */
    long held() {
        return held.get();
    }

    Reservation open() {
        return new Reservation();
    }

    /** One request's share; closed when its response is done. Used by one request thread at a time. */
    final class Reservation implements AutoCloseable {
        private long mine;

        /** Makes room for {@code bytes} bytes of body in all; false (and nothing reserved) when they do not fit. */
        boolean growTo(long bytes) {
            long needed = Math.max(0, bytes - FREE_BYTES) - mine;
            if (needed <= 0) {
                return true;
            }
            long now;
            do {
                now = held.get();
                if (now + needed > capacity) {
                    return false;
                }
            } while (!held.compareAndSet(now, now + needed));
            mine += needed;
            return true;
        }

        @Override
        public void close() {
            held.addAndGet(-mine);
            mine = 0;
        }
    }
}
