package io.strata.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPromise;
import io.strata.p2p.node.ChunkResponder;
import io.strata.p2p.node.FileRegionResponder;
import io.strata.p2p.store.ChunkFile;
import io.strata.p2p.wire.Message;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/** Misbehaving and instrumented ways for a test node to answer chunk requests. */
public final class Responders {
    private Responders() {
    }

    public static ByteBuf read(ChunkFile f) throws IOException {
        try (FileChannel c = f.channel()) {
            ByteBuffer bb = ByteBuffer.allocate(f.length());
            while (bb.hasRemaining()) {
                if (c.read(bb, f.offset() + bb.position()) < 0) {
                    throw new IOException("short file");
                }
            }
            return Unpooled.wrappedBuffer(bb.flip());
        }
    }

    /** Serves the chunk with one bit flipped (right length, wrong hash). */
    public static ChunkResponder flipping(Countdown asked) {
        return (ch, r, f) -> {
            asked.countDown();
            ByteBuf b = read(f);
            b.setByte(b.readableBytes() / 2, b.getByte(b.readableBytes() / 2) ^ 0x10);
            return ch.writeAndFlush(new Message.Piece(r.id(), r.shard(), r.chunk(), b));
        };
    }

    /** Serves the chunk one byte short (a correct prefix, wrong length). */
    public static ChunkResponder shortening(Countdown asked) {
        return (ch, r, f) -> {
            asked.countDown();
            ByteBuf b = read(f);
            return ch.writeAndFlush(new Message.Piece(r.id(), r.shard(), r.chunk(), b.retainedSlice(0,
                    b.readableBytes() - 1))).addListener(x -> b.release());
        };
    }

    /** Answers with a garbage frame: a valid length prefix and an unknown message type. */
    public static ChunkResponder garbage(Countdown asked) {
        return (ch, r, f) -> {
            asked.countDown();
            f.channel().close();
            ByteBuf b = Unpooled.buffer();
            b.writeInt(9);
            b.writeByte(0xEE);
            b.writeLong(0xDEADBEEFL);
            return ch.writeAndFlush(b);
        };
    }

    /** Serves honestly once {@code gate} completes (so the test controls who answers first). */
    public static ChunkResponder gated(CompletableFuture<?> gate) {
        ChunkResponder inner = new FileRegionResponder();
        return (ch, r, f) -> {
            ChannelPromise p = ch.newPromise();
            gate.whenComplete((v, e) -> ch.eventLoop().execute(() -> {
                try {
                    inner.respond(ch, r, f).addListener(x -> {
                        if (x.isSuccess()) {
                            p.setSuccess();
                        } else {
                            p.setFailure(x.cause());
                        }
                    });
                } catch (IOException ex) {
                    p.setFailure(ex);
                }
            }));
            return p;
        };
    }

    /**
     * Serves {@code k} chunks honestly, counts down {@code servedK}, then holds every later request unanswered
     * (counted in {@code held}).
     */
    public static ChunkResponder stallAfter(int k, Countdown servedK, java.util.concurrent.atomic.AtomicInteger held) {
        ChunkResponder inner = new FileRegionResponder();
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return (ch, r, f) -> {
            int i = n.incrementAndGet();
            if (i > k) {
                held.incrementAndGet();
                f.channel().close();
                return ch.newPromise(); // never completes: a peer that stopped answering
            }
            return inner.respond(ch, r, f).addListener(x -> {
                if (i == k) {
                    servedK.countDown();
                }
            });
        };
    }
}
