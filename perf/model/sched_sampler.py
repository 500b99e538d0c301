"""What the Linux scheduler did to a job's ranks: /proc/PID/schedstat sampled while the job runs.

schedstat holds, per task, nanoseconds on a CPU, nanoseconds runnable but waiting on a run queue, and the
number of times it was put on a CPU; status, the times it blocked (voluntary context switches: a rank blocks
in its wait for messages, so each is a wake-up by a message or a timeout). Waiting time over times on a CPU is
the mean wait of a woken rank for a core: the scheduling part of a message's hop (latency.py). Sampled every
`interval` seconds from a thread, stamped with time.monotonic() (the steady clock ferry_bench stamps epochs
with), so a window of epochs can be cut out. Only the main thread's figures (the rank's role loop).
"""
import os
import threading
import time


def _read(pid):
    """(on-CPU ns, run-queue ns, times put on a CPU, voluntary switches: times it blocked) of a process's
    main thread (the rank's role loop)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            on_cpu, waiting, slices = (int(x) for x in f.read().split()[:3])
        with open(f"/proc/{pid}/status") as f:
            blocked = next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
        return on_cpu, waiting, slices, blocked
    except (OSError, ValueError, StopIteration):
        return None


def _ranks(program, marker):
    """PIDs of processes running `program` (argv[0]'s base name) whose command line holds `marker`."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(args[0]) == program.encode() and any(marker.encode() in a for a in args):
            out.append(int(name))
    return out


class SchedSampler:
    """Samples the schedstat of every `program` process whose command line holds `marker`, while inside
    `with`."""

    def __init__(self, program, marker, interval=0.02):
        self.program, self.marker, self.interval = program, marker, interval
        self.series = {}  # pid -> [(monotonic seconds, on_cpu ns, waiting ns, slices)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        pids, last_scan = [], 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_scan > 0.5:  # ranks start over a while: look for new ones now and then
                pids, last_scan = _ranks(self.program, self.marker), now
            for pid in pids:
                row = _read(pid)
                if row:
                    self.series.setdefault(pid, []).append((time.monotonic(),) + row)
            self._stop.wait(self.interval)

    def window(self, t0, t1, pids=None):
        """Totals over [t0, t1] (nearest samples inside) of the processes sampled on both sides of it, or of
        `pids`: dict(ranks, on_cpu_s, waiting_s, slices, blocked, seconds)."""
        on, wait, slices, blocked, ranks, span = 0, 0, 0, 0, 0, []
        for pid, rows in self.series.items():
            inside = [r for r in rows if t0 <= r[0] <= t1]
            if len(inside) < 2 or (pids is not None and pid not in pids):
                continue
            a, b = inside[0], inside[-1]
            on, wait = on + b[1] - a[1], wait + b[2] - a[2]
            slices, blocked = slices + b[3] - a[3], blocked + b[4] - a[4]
            ranks += 1
            span.append(b[0] - a[0])
        return dict(ranks=ranks, on_cpu_s=on * 1e-9, waiting_s=wait * 1e-9, slices=slices, blocked=blocked,
                    seconds=sum(span) / len(span) if span else 0.0)
