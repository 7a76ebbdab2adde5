package dev.tandem.grpc;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Keeps an answer written into a stream its caller has reset from closing the whole HTTP/2 connection, with every
 * other call in flight on it.
 * <p>
 * A caller resets a call's stream when its deadline passes or it cancels. The gRPC server that shares the HTTP port
 * does not always notice (quarkusio/quarkus#56268, eclipse-vertx/vert.x#5562; a call reset as it arrives, before the
 * service has started it, is the common case under load) and writes the service's answer anyway. Netty refuses the
 * write to the closed stream ("Stream no longer exists: N", correct so far), but Vert.x writes response frames with a
 * void promise, so the refusal travels up the channel pipeline as an exception, and Netty's HTTP/2 handler takes the
 * protocol error inside it for a fault of the connection: GOAWAY PROTOCOL_ERROR ("Request stream N is not correct for
 * server connection"), and every call in flight on the connection fails INTERNAL. docs/benchmarks.md (*Overload: one
 * backend connection's GOAWAY*) has the outage it caused and the reproduction.
 * <p>
 * This puts a handler at the head of each HTTP/2 connection's pipeline that drops exactly that refusal; every other
 * exception goes on to the HTTP/2 handler as before. Written by hand because no configuration of Vert.x or Quarkus
 * changes how a void promise's failure is reported; remove it once the server checks the stream before writing.
 */
@ApplicationScoped
public class ResetStreamGuard {

    private static final Logger LOG = Logger.getLogger(ResetStreamGuard.class);

    /** The handler's name in the pipeline. */
    static final String NAME = "tandem-reset-stream-guard";

    /** Netty's message when a frame is written for a stream that was closed (DefaultHttp2ConnectionEncoder). */
    static final String STREAM_GONE = "Stream no longer exists: ";

    private static final WriteToClosedStreamDropped HANDLER = new WriteToClosedStreamDropped();

    /** Before every other route, the gRPC server's among them (registered without an order). */
    void install(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(rc -> {
            if (rc.request().version() == HttpVersion.HTTP_2) {
                guard(rc.request().connection());
            }
            rc.next();
        });
    }

    /** Adds the handler to the connection's pipeline once; called on the connection's event loop. */
    static void guard(HttpConnection connection) {
        if (connection instanceof ConnectionBase base) {
            var pipeline = base.channelHandlerContext().pipeline();
            if (pipeline.get(NAME) == null) {
                pipeline.addFirst(NAME, HANDLER);
            }
        }
    }

    /** Whether an exception is Netty's refusal of a frame for a stream that is gone. */
    static boolean isWriteToClosedStream(Throwable cause) {
        return (cause instanceof IllegalStateException || cause instanceof IllegalArgumentException)
                && cause.getMessage() != null && cause.getMessage().startsWith(STREAM_GONE);
    }

    @ChannelHandler.Sharable
    static final class WriteToClosedStreamDropped extends ChannelInboundHandlerAdapter {

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (isWriteToClosedStream(cause)) {
                // the caller is gone and the stream with it: the answer had nowhere to go, the connection is fine
                LOG.debugf("%s: an answer to a call its caller had reset was not sent (%s)", ctx.channel(),
                        cause.getMessage());
                return;
            }
            ctx.fireExceptionCaught(cause);
        }
    }
}
