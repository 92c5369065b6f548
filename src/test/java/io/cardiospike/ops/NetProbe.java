package io.cardiospike.ops;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * A TCP probe for {@link HostNetworkIT}, run on a host with {@code ip netns exec}: {@code listen ADDRESS PORT} accepts
 * connections until killed (it prints {@code listening} once bound); {@code connect ADDRESS PORT TIMEOUT_MS} prints
 * how a connection ended: {@code connected}, {@code timeout}, {@code refused} or {@code unreachable: ...}.
 */
public final class NetProbe {
    private NetProbe() {}

    public static void main(String[] args) throws IOException {
        if (args[0].equals("listen")) {
            try (ServerSocket server = new ServerSocket(Integer.parseInt(args[2]), 50, InetAddress.getByName(args[1]))) {
                System.out.println("listening");
                System.out.flush();
                while (true) {
                    server.accept().close();
                }
            }
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(args[1], Integer.parseInt(args[2])), Integer.parseInt(args[3]));
            System.out.println("connected");
        } catch (SocketTimeoutException e) {
            System.out.println("timeout");
        } catch (NoRouteToHostException e) {
            System.out.println("unreachable: " + e.getMessage());
        } catch (ConnectException e) {
            System.out.println(e.getMessage().contains("refused") ? "refused" : "unreachable: " + e.getMessage());
        }
    }
}
