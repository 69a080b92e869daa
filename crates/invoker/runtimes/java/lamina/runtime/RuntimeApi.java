package lamina.runtime;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * One keep-alive HTTP/1.1 connection to the Lambda Runtime API, reopened if it drops. A
 * few lines over a socket: {@code HttpURLConnection} loads more classes than the rest of the
 * runtime does, and every class costs start-up time.
 */
final class RuntimeApi {
    static final String PREFIX = "/2018-06-01/runtime";

    /** A response: its status, lower-cased headers and body. */
    static final class Response {
        final int status;
        final Map<String, String> headers;
        final byte[] body;

        Response(int status, Map<String, String> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }
    }

    private final String host;
    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    /** What has been read from the socket and not yet parsed: {@code buf[pos..limit)}. */
    private final byte[] buf = new byte[65536];
    private int pos;
    private int limit;

    RuntimeApi(String address) {
        int colon = address.lastIndexOf(':');
        this.host = address.substring(0, colon);
        this.port = Integer.parseInt(address.substring(colon + 1));
    }

    Response request(String method, String path, byte[] body, Map<String, String> headers) throws IOException {
        for (int attempt = 0;; attempt++) {
            if (socket == null) {
                socket = new Socket(host, port);
                socket.setTcpNoDelay(true);
                in = socket.getInputStream();
                out = socket.getOutputStream();
                pos = 0;
                limit = 0;
            }
            try {
                return exchange(method, path, body, headers);
            } catch (IOException e) {
                close();
                if (attempt > 0) {
                    throw e;
                }
            }
        }
    }

    private void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
        socket = null;
    }

    private Response exchange(String method, String path, byte[] body, Map<String, String> headers) throws IOException {
        StringBuilder head = new StringBuilder(256);
        head.append(method).append(' ').append(PREFIX).append(path).append(" HTTP/1.1\r\nHost: ").append(host).append(':')
                .append(port).append("\r\n");
        if (headers != null) {
            for (Map.Entry<String, String> h : headers.entrySet()) {
                head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
            }
        }
        int length = body == null ? 0 : body.length;
        head.append("Content-Length: ").append(length).append("\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] message = new byte[h.length + length];
        System.arraycopy(h, 0, message, 0, h.length);
        if (length > 0) {
            System.arraycopy(body, 0, message, h.length, length);
        }
        out.write(message);
        out.flush();

        String status = line();
        int space = status.indexOf(' ');
        int code = Integer.parseInt(status.substring(space + 1, space + 4));
        Map<String, String> got = new HashMap<String, String>();
        for (String l = line(); !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            if (colon > 0) {
                got.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
            }
        }
        byte[] data;
        if ("chunked".equalsIgnoreCase(got.get("transfer-encoding"))) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            while (true) {
                String size = line();
                int semi = size.indexOf(';');
                int n = Integer.parseInt((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                if (n == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    break;
                }
                all.write(exactly(n));
                line();
            }
            data = all.toByteArray();
        } else {
            String cl = got.get("content-length");
            data = exactly(cl == null ? 0 : Integer.parseInt(cl));
        }
        if ("close".equalsIgnoreCase(got.get("connection"))) {
            close();
        }
        return new Response(code, got, data);
    }

    private boolean fill() throws IOException {
        if (pos == limit) {
            pos = 0;
            limit = 0;
        }
        if (limit == buf.length) {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
            limit -= pos;
            pos = 0;
        }
        int r = in.read(buf, limit, buf.length - limit);
        if (r < 0) {
            throw new EOFException("the Runtime API closed the connection");
        }
        limit += r;
        return true;
    }

    private String line() throws IOException {
        StringBuilder b = null;
        while (true) {
            for (int k = pos; k < limit; k++) {
                if (buf[k] == '\n') {
                    int end = k > pos && buf[k - 1] == '\r' ? k - 1 : k;
                    String part = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
                    pos = k + 1;
                    if (b == null) {
                        return part;
                    }
                    String whole = b.append(part).toString();
                    return whole.endsWith("\r") ? whole.substring(0, whole.length() - 1) : whole;
                }
            }
            if (b == null) {
                b = new StringBuilder();
            }
            b.append(new String(buf, pos, limit - pos, StandardCharsets.ISO_8859_1));
            pos = limit;
            fill();
        }
    }

    private byte[] exactly(int n) throws IOException {
        byte[] data = new byte[n];
        int off = 0;
        int buffered = Math.min(n, limit - pos);
        System.arraycopy(buf, pos, data, 0, buffered);
        pos += buffered;
        off += buffered;
        while (off < n) {
            int r = in.read(data, off, n - off);
            if (r < 0) {
                throw new EOFException("the Runtime API closed the connection");
            }
            off += r;
        }
        return data;
    }
}
