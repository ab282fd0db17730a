package io.strata.loader.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class ReadQueueTest {
    @Test
    void urgentReadsGoFirstPromotedOnesJoinThemAndCancelledOnesNeverRun() throws Exception {
        try (ReadQueue q = new ReadQueue(1, "test-read-")) {
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            CompletableFuture<Void> blocker = q.submit(null, () -> {
                running.countDown();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            });
            running.await(); // the one reader is busy: everything below queues
            List<String> ran = new CopyOnWriteArrayList<>();
            ReadQueue.Ticket guessA = ReadQueue.Ticket.background();
            ReadQueue.Ticket guessB = ReadQueue.Ticket.background();
            ReadQueue.Ticket wrong = ReadQueue.Ticket.background();
            CompletableFuture<Void> a = q.submit(guessA, () -> ran.add("a"));
            CompletableFuture<Void> w = q.submit(wrong, () -> ran.add("wrong"));
            CompletableFuture<Void> b = q.submit(guessB, () -> ran.add("b"));
            CompletableFuture<Void> d = q.submit(ReadQueue.Ticket.urgent(), () -> ran.add("demand"));
            guessB.promote();
            wrong.cancel();
            assertEquals(3, q.queued());
            gate.countDown();
            blocker.get();
            a.get();
            b.get();
            d.get();
            ExecutionException e = assertThrows(ExecutionException.class, w::get);
            assertInstanceOf(ReadQueue.ReadCancelledException.class, e.getCause());
            assertEquals(List.of("demand", "b", "a"), ran, "urgent first, in order; the cancelled read never ran");
            assertInstanceOf(ReadQueue.ReadCancelledException.class,
                    assertThrows(ExecutionException.class, q.submit(wrong, () -> ran.add("late"))::get).getCause());
        }
    }
}
