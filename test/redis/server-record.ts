/** Where the global setup leaves the pid of the Redis server it started, for the teardown. */
export const REDIS_PID_KEY = '__mpoolTestRedisPid';
