// Floor for round trips through a daemon: relay bytes between one client and one upstream
// socket, nothing else (no framing, no parsing).
import { connect, createServer } from "node:net";

const [upstreamPath, listenPath] = process.argv.slice(2);
const upstream = connect(upstreamPath);
createServer((client) => {
  client.on("data", (d) => upstream.write(d));
  upstream.on("data", (d) => client.write(d));
}).listen(listenPath);
