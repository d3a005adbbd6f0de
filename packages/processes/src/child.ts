/**
 * The entry of every process worker. Its socket listens on the path it is given, and the pool
 * hears so on the IPC channel, before this process loads the run loop: the pool connects, and
 * sends the init message, while this process loads, and both are waiting when it is ready
 * (worker-process.ts takes it from there).
 */
import { createServer } from 'node:net';
import { LISTENING_MESSAGE } from './messages.js';

const socketPath = process.argv[2];
if (process.send === undefined || socketPath === undefined) throw new Error('mpool process worker: started without an IPC channel or a socket path');
const sendIpc = process.send.bind(process);

// Listening takes effect before listen() returns (bind and listen are synchronous calls for a
// socket's path); connections wait in its backlog until this process takes them.
const server = createServer({ pauseOnConnect: true });
server.listen(socketPath);
// A pool whose process died while this one booted can hear nothing: the send fails (EPIPE), and
// the channel's end (below, 'disconnect') cleans up and exits. Without a callback the failure
// would be thrown at this process as an uncaught error, on the program's stderr.
sendIpc([LISTENING_MESSAGE], () => undefined);

// Loaded now, not above: the pool connects meanwhile. (Nothing the IPC channel or the socket says
// can be heard before this is done: this process's event loop has not run yet.) The build bundles
// it with the run loop into one file (scripts/bundle-workers.mjs, at the workspace's root), which
// loads in less than half the time of its 22 files; a tree built by tsc alone has only the files.
const { WorkerProcess } = loadWorkerProcess();
const worker = new WorkerProcess(server, socketPath, sendIpc);
process.on('disconnect', () => worker.onDisconnect());
process.on('uncaughtException', (error) => worker.onUncaught(error));
process.on('exit', () => worker.onExit());

function loadWorkerProcess(): typeof import('./worker-process.js') {
  try {
    return require('./worker-process.bundle.js') as typeof import('./worker-process.js');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    return require('./worker-process.js') as typeof import('./worker-process.js');
  }
}
