"""Python's process pools on the workloads of run.mjs, driven one run at a time by Node.

    python3 pools.py SYSTEM BENCHMARK CONFIG_JSON

SYSTEM is `pool` (multiprocessing.Pool) or `executor` (concurrent.futures.ProcessPoolExecutor);
`pool-spawn` (multiprocessing.Pool with the 'spawn' start method) for `startup` alone.
The script opens what BENCHMARK needs, prints one JSON line describing itself, then answers each
line `run` (or `run KIND`, where the benchmark measures several things) on stdin with one JSON
line of measurements, timed here with perf_counter, and each line `warmup` with a warm-up run,
lighter where the benchmark allows, until its stdin ends; then it shuts its pools down and
exits. This lets run.mjs put Python's rounds between the Node pools' rounds, so that both see
the same machine. Progress and errors go to stderr. BENCHMARK is one of:

tiny      {tasks, workers, chunksize, backToBack}: `run oneByOne`: `inc` one task at a time (all
          submitted, then awaited); `run map`: through map with `chunksize`, once, then
          `backToBack` times more; tasks/s (of the first map, and the median of the others).
map       {tasks, workers, chunksize, warm}: for ipc-floor.mjs, one map of `inc` (the pool idle
          before it), then `warm` maps back to back; tasks/s of the first and the median of the rest.
pi        {terms, chunks, workers}: the Leibniz series in `chunks` tasks on a pool of 1 worker and
          on one of `workers`; seconds of each.
payloads  {tasks, doubles, workers}: `tasks` arrays of `doubles` float64s, each sent to a task
          that returns it; MB/s, counting the bytes both ways.
startup   {workers}: a new pool, one task, its result; milliseconds. The pool is shut down
          after the clock stops.
imap      {items, chunksize, sampleEvery, unordered, workers}: imap (or imap_unordered) of `inc`
          over range(items); the parent's resident memory is sampled every `sampleEvery` results.
burst     {tasks, chunksize, workers, burst, rounds, maps, idleMs, settle}: for after-burst.mjs,
          maps after `burst` runs of `tasks` tasks one by one, then once settled; the median map
          time and this process's minor page faults per map, for each phase.
"""

import array
import concurrent.futures
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time

MIB = 1 << 20
# A tiny-task warm-up runs this fraction of a measured run: the code is warm long before the end.
WARMUP_FRACTION = 10
# ...and maps the whole input this many times: maps are quick, and a JIT needs dozens of calls.
WARMUP_MAPS = 10


def inc(x):
    return x + 1


def partial_pi(first, last):
    """4 * the sum of the series' terms from `first` to `last`, both included."""
    total = 0.0
    for k in range(first, last + 1):
        total += (1 if k % 2 == 1 else -1) / (2 * k - 1)
    return 4 * total


def echo(values):
    """The payload task: the array back, its first element raised by one."""
    values[0] += 1
    return values


def open_pool(system, workers):
    if system == "pool":
        return multiprocessing.Pool(workers)
    if system == "pool-spawn":
        return multiprocessing.get_context("spawn").Pool(workers)
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers)


def close_pool(system, pool):
    if system in ("pool", "pool-spawn"):
        pool.terminate()
        pool.join()
    else:
        pool.shutdown(wait=True, cancel_futures=True)


def submit_all(system, pool, fn, arg_tuples):
    """One task per argument tuple, all submitted before any is awaited; the results in order."""
    if system == "pool":
        pending = [pool.apply_async(fn, args) for args in arg_tuples]
        return [p.get() for p in pending]
    pending = [pool.submit(fn, *args) for args in arg_tuples]
    return [f.result() for f in pending]


def rss_bytes():
    """This process's resident memory now: /proc on Linux, else the peak getrusage reports."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class Tiny:
    def __init__(self, system, config):
        self.system = system
        self.inputs = list(range(config["tasks"]))
        self.expected = [x + 1 for x in self.inputs]
        self.chunksize = config["chunksize"]
        self.back_to_back = config.get("backToBack", 0)
        self.pool = open_pool(system, config["workers"])

    def timed(self, call):
        started = time.perf_counter()
        results = call()
        seconds = time.perf_counter() - started
        if results != self.expected:
            raise AssertionError(f"{self.system}: a result differs from its input plus one")
        return len(self.inputs) / seconds

    def one_by_one(self):
        return self.timed(lambda: submit_all(self.system, self.pool, inc, [(x,) for x in self.inputs]))

    def map(self):
        return self.timed(lambda: list(self.pool.map(inc, self.inputs, chunksize=self.chunksize)))

    def run(self, kind):
        # One of the two measurements, as the harness asks: it runs every system's one-by-one
        # rounds, then every system's map rounds.
        if kind == "oneByOne":
            return self.one_by_one()
        if kind == "map":
            after_idle = self.map()
            warm = sorted(self.map() for _ in range(self.back_to_back))
            return {"afterIdle": after_idle, "backToBack": warm[len(warm) // 2] if warm else None}
        raise ValueError(f"tiny: no measurement {kind!r}")

    def warmup(self):
        """One by one over the first tenth of the inputs, then maps of all of them, unchecked."""
        part = self.inputs[: max(1, len(self.inputs) // WARMUP_FRACTION)]
        submit_all(self.system, self.pool, inc, [(x,) for x in part])
        for _ in range(WARMUP_MAPS):
            list(self.pool.map(inc, self.inputs, chunksize=self.chunksize))
        return {}

    def close(self):
        close_pool(self.system, self.pool)


class Pi:
    def __init__(self, system, config):
        self.system = system
        terms, chunks = config["terms"], config["chunks"]
        size = -(-terms // chunks)
        self.ranges = [(first, min(first + size - 1, terms)) for first in range(1, terms + 1, size)]
        # The series' remainder after n terms is below 1/n; the rounding of the sum is far smaller.
        self.tolerance = 4 / terms
        self.one = open_pool(system, 1)
        self.many = open_pool(system, config["workers"])
        self.runs = 0

    def timed(self, pool):
        started = time.perf_counter()
        estimate = sum(submit_all(self.system, pool, partial_pi, self.ranges))
        seconds = time.perf_counter() - started
        if abs(estimate - 3.141592653589793) > self.tolerance:
            raise AssertionError(f"{self.system}: pi came out as {estimate}")
        return seconds

    def run(self):
        self.runs += 1
        if self.runs % 2 == 0:
            one, many = self.timed(self.one), self.timed(self.many)
        else:
            many, one = self.timed(self.many), self.timed(self.one)
        return {"oneSeconds": one, "manySeconds": many}

    def close(self):
        close_pool(self.system, self.one)
        close_pool(self.system, self.many)


class Payloads:
    def __init__(self, system, config):
        self.system = system
        self.tasks = config["tasks"]
        self.doubles = config["doubles"]
        self.pool = open_pool(system, config["workers"])

    def run(self):
        inputs = []
        for i in range(self.tasks):
            values = array.array("d", bytes(8 * self.doubles))
            values[0] = i
            inputs.append((values,))
        started = time.perf_counter()
        results = submit_all(self.system, self.pool, echo, inputs)
        seconds = time.perf_counter() - started
        for i, values in enumerate(results):
            if len(values) != self.doubles or values[0] != i + 1:
                raise AssertionError(f"{self.system}: payload {i} came back wrong")
        moved = 2 * self.tasks * self.doubles * 8
        return {"copiedMBps": moved / MIB / seconds}

    def close(self):
        close_pool(self.system, self.pool)


class Startup:
    def __init__(self, system, config):
        self.system = system
        self.workers = config["workers"]

    def run(self):
        started = time.perf_counter()
        pool = open_pool(self.system, self.workers)
        if self.system in ("pool", "pool-spawn"):
            result = pool.apply(inc, (1,))
        else:
            result = pool.submit(inc, 1).result()
        ms = (time.perf_counter() - started) * 1000
        close_pool(self.system, pool)
        if result != 2:
            raise AssertionError(f"{self.system}: the first result is {result}")
        return {"ms": ms}

    def close(self):
        pass


class Imap:
    def __init__(self, system, config):
        if system != "pool":
            raise ValueError("imap: only multiprocessing.Pool has imap")
        self.config = config
        self.pool = open_pool(system, config["workers"])

    def run(self):
        items, chunksize, every = self.config["items"], self.config["chunksize"], self.config["sampleEvery"]
        unordered = self.config["unordered"]
        start_rss = rss_bytes()
        peak = start_rss
        iterate = self.pool.imap_unordered if unordered else self.pool.imap
        samples = []
        count = 0
        total = 0
        started = time.perf_counter()
        for y in iterate(inc, range(items), chunksize):
            count += 1
            total += y
            if not unordered and y != count:
                raise AssertionError(f"imap: result {count - 1} is {y}")
            if count % every == 0:
                now = rss_bytes()
                peak = max(peak, now)
                samples.append(round(now / MIB, 1))
        seconds = time.perf_counter() - started
        if count != items or total != items * (items + 1) // 2:
            raise AssertionError("imap: the results do not add up")
        return {
            "startRssMB": start_rss / MIB,
            "peakRssMB": max(peak, rss_bytes()) / MIB,
            "itemsPerSecond": items / seconds,
            "rssSamplesMB": samples,
        }

    def close(self):
        close_pool("pool", self.pool)


class MapOnly(Tiny):
    """ipc-floor.mjs: one map of `tasks` after the pool sat idle, then `warm` maps back to back."""

    def __init__(self, system, config):
        super().__init__(system, config)
        self.warm = config["warm"]

    def run(self, kind=None):
        cold = self.map()
        warm = sorted(self.map() for _ in range(self.warm))
        return {"cold": cold, "warm": warm[len(warm) // 2]}


class Burst(Tiny):
    """after-burst.mjs: maps right after a burst of tasks one by one, then once settled."""

    def __init__(self, system, config):
        super().__init__(system, config)
        self.config = config

    def phase(self):
        import resource

        config = self.config
        times = []
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(config["rounds"]):
            time.sleep(config["idleMs"] / 1000)
            for _ in range(config["maps"]):
                started = time.perf_counter()
                results = list(self.pool.map(inc, self.inputs, chunksize=self.chunksize))
                times.append((time.perf_counter() - started) * 1000)
                if results != self.expected:
                    raise AssertionError(f"{self.system}: a result differs from its input plus one")
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        return {"mapMs": statistics.median(times), "faultsPerMap": faults / len(times)}

    def run(self, kind=None):
        submit_all(self.system, self.pool, inc, [(x,) for x in self.inputs[:2000]])
        for _ in range(WARMUP_MAPS):
            list(self.pool.map(inc, self.inputs, chunksize=self.chunksize))
        for _ in range(self.config["burst"]):
            submit_all(self.system, self.pool, inc, [(x,) for x in self.inputs])
        after_burst = self.phase()
        for _ in range(self.config["settle"]):
            list(self.pool.map(inc, self.inputs, chunksize=self.chunksize))
        return {"afterBurst": after_burst, "settled": self.phase()}


BENCHMARKS = {"tiny": Tiny, "map": MapOnly, "burst": Burst, "pi": Pi, "payloads": Payloads, "startup": Startup, "imap": Imap}


def main():
    system, benchmark, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if system not in ("pool", "executor", "pool-spawn") or benchmark not in BENCHMARKS or (system == "pool-spawn" and benchmark != "startup"):
        raise SystemExit(f"usage: pools.py pool|executor {'|'.join(BENCHMARKS)} CONFIG_JSON, or pools.py pool-spawn startup CONFIG_JSON")
    runner = BENCHMARKS[benchmark](system, config)
    try:
        ready = {
            "ready": True,
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "startMethod": multiprocessing.get_start_method(),
        }
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "run":
                print(json.dumps(runner.run()), flush=True)
            elif command.startswith("run "):
                print(json.dumps(runner.run(command[4:])), flush=True)
            elif command == "warmup":
                print(json.dumps(getattr(runner, "warmup", runner.run)()), flush=True)
            else:
                raise ValueError(f"expected `run` or `warmup`, got {line!r}")
    finally:
        runner.close()


# The guard lets 'spawn' and 'forkserver' children import this module without re-running it.
if __name__ == "__main__":
    main()
