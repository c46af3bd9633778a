"""Peer benchmarks (execnet, mitogen) under the same conditions; prints one JSON object.

Run by bench/tools-bench.mjs with Debian's /usr/bin/python3 (where python3-execnet and
python3-mitogen live). A missing peer is reported as {"skipped": reason}.
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
N = int(os.environ.get("BENCH_N", "2000"))
PY = sys.executable
big = os.urandom(8 << 20)


def median_us(fn, n=N):
    """Median of single round trips (as bench/tools-bench.mjs measures ours)."""
    per = []
    clock = time.perf_counter
    for _ in range(n):
        t = clock()
        fn()
        per.append((clock() - t) * 1e6)
    return statistics.median(per)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def bench_execnet():
    try:
        import execnet
    except ImportError as e:
        return {"skipped": "python3-execnet not installed (%s)" % e}
    out = {}
    t = time.perf_counter()
    gw = execnet.makegateway("popen//python=%s" % PY)
    ch = gw.remote_exec("import os\nchannel.send(os.getpid())\nwhile 1:\n    x = channel.receive()\n    channel.send(x)\n")
    pid = ch.receive()
    out["spawn_first_result_ms"] = (time.perf_counter() - t) * 1e3
    for _ in range(300):
        ch.send(None)
        ch.receive()

    def rt():
        ch.send(None)
        ch.receive()

    out["noop_rtt_us"] = median_us(rt)
    t = time.perf_counter()
    rounds = 200
    for _ in range(rounds):
        for _ in range(64):
            ch.send(None)
        for _ in range(64):
            ch.receive()
    out["calls_per_s_64"] = rounds * 64 / (time.perf_counter() - t)
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        ch.send(big)
        ch.receive()
        best = min(best, time.perf_counter() - t)
    out["echo_8mib_mib_s"] = 16 / best  # 8 MiB each way
    time.sleep(0.2)
    out["idle_rss_mib"] = rss_kib(pid) / 1024
    gw.exit()
    return out


def bench_mitogen():
    try:
        import mitogen.master
        import peer_funcs
    except ImportError as e:
        return {"skipped": "python3-mitogen not installed (%s)" % e}
    out = {}
    broker = mitogen.master.Broker()
    router = mitogen.master.Router(broker)
    try:
        t = time.perf_counter()
        ctx = router.local(python_path=PY)
        pid = ctx.call(os.getpid)
        out["spawn_first_result_ms"] = (time.perf_counter() - t) * 1e3
        for _ in range(300):
            ctx.call(peer_funcs.noop)
        out["noop_rtt_us"] = median_us(lambda: ctx.call(peer_funcs.noop), n=N // 2)
        t = time.perf_counter()
        rounds = 50
        for _ in range(rounds):
            recvs = [ctx.call_async(peer_funcs.noop) for _ in range(64)]
            for r in recvs:
                r.get()
        out["calls_per_s_64"] = rounds * 64 / (time.perf_counter() - t)
        best = 1e9
        for _ in range(3):
            t = time.perf_counter()
            ctx.call(peer_funcs.echo, big)
            best = min(best, time.perf_counter() - t)
        out["echo_8mib_mib_s"] = 16 / best
        time.sleep(0.2)
        out["idle_rss_mib"] = rss_kib(pid) / 1024
    finally:
        broker.shutdown()
        broker.join()
    return out


print(json.dumps({"execnet": bench_execnet(), "mitogen": bench_mitogen()}))
