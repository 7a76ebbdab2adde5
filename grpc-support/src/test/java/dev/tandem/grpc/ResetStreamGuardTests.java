package dev.tandem.grpc;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard at the head of a connection's pipeline drops Netty's refusal of a write to a reset stream and passes
 * every other exception on to the HTTP/2 handler behind it (here a recorder in its place). The connection-level
 * behaviour, other calls surviving expired ones, is worker-service's {@code StepDeadlineTests}.
 */
class ResetStreamGuardTests {

    final List<Throwable> reachedHttp2Handler = new ArrayList<>();

    EmbeddedChannel connection() {
        var channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                reachedHttp2Handler.add(cause);
            }
        });
        channel.pipeline().addFirst(ResetStreamGuard.NAME, new ResetStreamGuard.WriteToClosedStreamDropped());
        return channel;
    }

    @Test
    void aWriteRefusedBecauseItsStreamWasResetStopsAtTheGuard() {
        var channel = connection();
        // as Netty's encoder reports a HEADERS frame (IllegalStateException) and a DATA frame
        // (IllegalArgumentException) for a stream that is gone
        channel.pipeline().fireExceptionCaught(new IllegalStateException("Stream no longer exists: 2301",
                new RuntimeException("Request stream 2301 is not correct for server connection")));
        channel.pipeline().fireExceptionCaught(new IllegalArgumentException("Stream no longer exists: 2303"));

        assertThat(reachedHttp2Handler).isEmpty();
        assertThat(channel.isActive()).isTrue();
    }

    @Test
    void everyOtherExceptionGoesOnToTheHttp2Handler() {
        var channel = connection();
        var protocolError = new IllegalStateException("Stream 7 in unexpected state: CLOSED");
        var ioError = new java.io.IOException("Connection reset by peer");
        var unknownStream = new IllegalArgumentException("Stream does not exist: 9");
        channel.pipeline().fireExceptionCaught(protocolError);
        channel.pipeline().fireExceptionCaught(ioError);
        channel.pipeline().fireExceptionCaught(unknownStream);

        assertThat(reachedHttp2Handler).containsExactly(protocolError, ioError, unknownStream);
    }
}
