"""Floor for round trips: echo whatever arrives on a Unix socket, nothing else (no framing)."""
import os
import socket
import sys

path = sys.argv[1]
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
while True:
    data = conn.recv(65536)
    if not data:
        break
    conn.sendall(data)
