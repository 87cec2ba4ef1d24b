// The debug adapter's entry point (bundled as dist/debugAdapter.js): DAP over stdin/stdout, or
// with --server=PORT a socket server on the loopback interface (one session per connection),
// which is how the extension can run the adapter in-process for debugging and how tests connect.
import * as net from 'node:net';
import { VmemDebugSession } from './session';

function serverPort(argv: string[]): number | undefined {
  for (const a of argv) {
    const m = /^--server=(\d+)$/.exec(a);
    if (m) return Number(m[1]);
  }
  return undefined;
}

const port = serverPort(process.argv.slice(2));
if (port !== undefined) {
  const server = net.createServer((socket) => {
    const session = new VmemDebugSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  server.listen(port, '127.0.0.1', () => {
    const a = server.address();
    process.stderr.write(`vmem debug adapter listening on 127.0.0.1:${typeof a === 'object' && a ? a.port : port}\n`);
  });
} else {
  const session = new VmemDebugSession();
  process.on('SIGTERM', () => session.shutdown());
  session.start(process.stdin, process.stdout);
}
