/**
 * The worker of ipc-floor.mjs's socket map, the least any Node pool of processes can do: it
 * connects to the Unix socket it is given and answers each frame of numbers (float-frames.mjs)
 * with a frame of the same numbers plus one. No serializer, no pool, no protocol.
 */
import { connect } from 'node:net';
import { frameOf, readFrames } from './float-frames.mjs';

const socket = connect(process.argv[2]);
readFrames(socket, (frame, at) => socket.write(frameOf((frame.length - at) / 8, (i) => frame.readDoubleLE(at + i * 8) + 1)));
socket.on('close', () => process.exit(0));
socket.on('error', () => process.exit(1));
