// The floor of the start-up benchmark: a process that answers a number with that number plus one,
// and does nothing else. CommonJS, so that Node loads nothing to run it but the file itself.
process.on('message', (x) => process.send(x + 1));
