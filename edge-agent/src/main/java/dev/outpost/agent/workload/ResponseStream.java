package dev.outpost.agent.workload;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * One open Workload API stream: computes its answer when asked and sends it only when it differs from the last one
 * sent; ends with the status the computation gives (PermissionDenied when the caller no longer matches an entry,
 * Unavailable when there is nothing to give).
 */
final class ResponseStream<T> implements WorkloadIdentities.Subscriber {
    /** Computes the current answer for this caller. */
    @FunctionalInterface
    interface Answer<T> {
        T compute() throws StatusException;
    }

    private final ServerCallStreamObserver<T> out;
    private final Answer<T> answer;
    private final WorkloadIdentities identities;
    private T last;
    private boolean done;

    ResponseStream(ServerCallStreamObserver<T> out, Answer<T> answer, WorkloadIdentities identities) {
        this.out = out;
        this.answer = answer;
        this.identities = identities;
    }

    /** Registers and sends the first answer (or ends at once). */
    void open() {
        out.setOnCancelHandler(() -> {
            synchronized (this) {
                done = true;
            }
            identities.unsubscribe(this);
        });
        identities.subscribe(this);
        refresh();
    }

    @Override
    public synchronized void refresh() {
        if (done) {
            return;
        }
        T now;
        try {
            now = answer.compute();
        } catch (StatusException e) {
            end(e.getStatus());
            return;
        } catch (RuntimeException e) {
            end(Status.INTERNAL.withDescription("internal error"));
            return;
        }
        if (!now.equals(last)) {
            last = now;
            out.onNext(now);
        }
    }

    @Override
    public synchronized void end(Status status) {
        identities.unsubscribe(this);
        if (!done) {
            done = true;
            out.onError(status.asException());
        }
    }
}
