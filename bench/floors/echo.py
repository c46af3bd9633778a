"""Floor for round trips: echo whatever arrives on a Unix socket, nothing else (no framing).
Serves one connection at a time (the first may be a readiness probe)."""
import socket
import sys

server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen(1)
while True:
    conn, _ = server.accept()
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.close()
