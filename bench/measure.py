"""Resource meter of the benchmark (bench/run.mjs): runs commands and reports what each cost.

Reads one JSON request per line on stdin: {"steps": [[argv...], ...], "env": {...} | null}. Runs the
steps in sequence (a "pipeline" typed by hand is several steps), each with stdin and stdout/stderr on
/dev/null, waits for it with wait4(2) and writes one JSON line: wall seconds (sum), user and system CPU
seconds of the children (sum, microsecond resolution, from struct rusage) and peak RSS in KiB (max of
ru_maxrss; it covers the child and the grandchildren it waited for), and the exit codes.
Node cannot read a child's rusage, and GNU time rounds to 10 ms, hence this helper. Python 3 stdlib.
"""
import json
import os
import sys
import time


def run_step(argv, env):
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, devnull, 0),
            (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
        ]
        t0 = time.perf_counter()
        try:
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
        except OSError as e:
            return {"wall": 0.0, "user": 0.0, "sys": 0.0, "maxrss": 0, "code": None, "error": str(e)}
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter()
    finally:
        os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    return {"wall": t1 - t0, "user": ru.ru_utime, "sys": ru.ru_stime, "maxrss": ru.ru_maxrss, "code": code, "error": None}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        env = req.get("env") or dict(os.environ)
        out = {"wall": 0.0, "user": 0.0, "sys": 0.0, "maxrss": 0, "codes": [], "errors": []}
        for argv in req["steps"]:
            r = run_step(argv, env)
            out["wall"] += r["wall"]
            out["user"] += r["user"]
            out["sys"] += r["sys"]
            out["maxrss"] = max(out["maxrss"], r["maxrss"])
            out["codes"].append(r["code"])
            if r["error"]:
                out["errors"].append(r["error"])
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
