package io.strata.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import io.strata.p2p.identity.Handshake;
import io.strata.p2p.identity.NodeId;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.MessageCodec;
import io.strata.p2p.wire.PeerAddress;
import io.strata.p2p.wire.Wire;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/** A hand-driven peer on a plain socket, for feeding a node bad input byte by byte. */
public final class RawPeer implements Closeable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    public final NodeIdentity identity = NodeIdentity.generate();
    public final byte[] nonce = new byte[Wire.NONCE_LEN];

    /** Connects from a loopback address of its own (a host no other test peer uses). */
    public RawPeer(PeerAddress a) throws IOException {
        this(a, Mesh.freshHost());
    }

    /** Connects from {@code fromHost} (peers sharing a host share its per-address limits and bans). */
    public RawPeer(PeerAddress a, String fromHost) throws IOException {
        this(connect(a, fromHost));
    }

    /** Speaks over an already connected socket (e.g. one accepted from a node that dialled us). */
    public RawPeer(Socket connected) throws IOException {
        socket = connected;
        socket.setSoTimeout(15_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16));
        nonce[0] = 42;
    }

    private static Socket connect(PeerAddress a, String fromHost) throws IOException {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress(fromHost, 0));
            s.connect(new InetSocketAddress(a.host(), a.port()), 3_000);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    public void soTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Buffers {@code m} without flushing (for floods); {@link #flush()} sends. */
    public void queue(Message m) throws IOException {
        ByteBuf b = Unpooled.buffer();
        try {
            MessageCodec.encode(m, b);
            out.write(ByteBufUtil.getBytes(b));
        } finally {
            b.release();
        }
    }

    public void flush() throws IOException {
        out.flush();
    }

    public void send(Message m) throws IOException {
        ByteBuf b = Unpooled.buffer();
        try {
            MessageCodec.encode(m, b);
            sendRaw(ByteBufUtil.getBytes(b));
        } finally {
            b.release();
        }
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one frame; PIECE payloads are copied out and released. */
    public Message read() throws IOException {
        int len = in.readInt();
        byte[] body = new byte[len];
        in.readFully(body);
        ByteBuf b = Unpooled.wrappedBuffer(body);
        try {
            Message m = MessageCodec.decode(b);
            ReferenceCountUtil.release(m);
            return m;
        } finally {
            b.release();
        }
    }

    /** Reads the next answer, skipping the node's own chatter (keep-alive pings, gossip requests). */
    public Message readAnswer() throws IOException {
        while (true) {
            Message m = read();
            if (!(m instanceof Message.Ping || m instanceof Message.GetPeers || m instanceof Message.Peers)) {
                return m;
            }
        }
    }

    /** Completes the handshake as a well-behaved peer; returns the node's id. */
    public NodeId handshake() throws IOException {
        return handshake(0);
    }

    /** Completes the handshake claiming to listen on {@code listenPort} (0: not listening). */
    public NodeId handshake(int listenPort) throws IOException {
        Message.Hello h = (Message.Hello) read();
        NodeId node = new NodeId(h.nodeId());
        send(new Message.Hello(Wire.PROTOCOL_VERSION, identity.publicKey(), nonce, listenPort));
        send(new Message.Auth(identity.sign(Handshake.challenge(h.nonce(), identity.id(), node))));
        Message.Auth a = (Message.Auth) read();
        if (!io.strata.p2p.identity.Ed25519.verify(node.bytes(), Handshake.challenge(nonce, node, identity.id()),
                a.signature())) {
            throw new IOException("node's handshake signature does not verify");
        }
        return node;
    }

    /**
     * Attempts the handshake, then a PING: true when the node closed the connection instead (refused at the
     * handshake or at admission, which it decides before it reads the PING), false when it answered.
     */
    public boolean refused() throws IOException {
        try {
            handshake();
            send(new Message.Ping(7));
            while (true) {
                if (read() instanceof Message.Pong) {
                    return false;
                }
            }
        } catch (java.io.EOFException | SocketException e) {
            return true;
        }
    }

    /** True when the node closes the connection (EOF or reset) before the socket timeout. */
    public boolean closedByPeer() throws IOException {
        try {
            while (true) {
                int len = in.readInt();
                in.skipNBytes(len);
            }
        } catch (java.io.EOFException | SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
