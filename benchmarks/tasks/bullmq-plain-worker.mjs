/**
 * The peer of mpool's 'bullmq' context: a BullMQ Worker written the usual way, one job per task
 * (or per chunk of items), its processor picked by the job's name.
 *
 *   node bullmq-plain-worker.mjs REDIS_URL QUEUE CONCURRENCY
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { partialPi } from './pi-task.mjs';

const [url, queue, concurrency] = process.argv.slice(2);
const processors = {
  inc: (job) => job.data.x + 1,
  chunk: (job) => job.data.items.map((x) => x + 1),
  pi: (job) => partialPi(job.data.first, job.data.last),
};
const worker = new Worker(queue, async (job) => processors[job.name](job), {
  connection: new Redis(url, { maxRetriesPerRequest: null }),
  concurrency: Number(concurrency),
});
await worker.waitUntilReady();
process.stdout.write(`plain BullMQ worker ${process.pid} serves ${queue}\n`);
process.once('SIGTERM', () => worker.close().then(() => process.exit()));
