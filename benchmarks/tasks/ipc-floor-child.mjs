/**
 * The worker of ipc-floor.mjs's hand-written map: each message is one chunk of numbers, answered
 * with the chunk's results (`inc` of each), nothing else. No pool, no protocol: Node's IPC alone.
 */
process.on('message', (chunk) => {
  const results = [];
  for (let i = 0; i < chunk.length; i++) results.push(chunk[i] + 1);
  process.send(results);
});
process.on('disconnect', () => process.exit(0));
