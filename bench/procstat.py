"""What one process costs, read from /proc (and perf, when it works).

    s = ProcSample.read(pid)        # one snapshot
    s.rss_kb, s.hwm_kb              # VmRSS, VmHWM (peak) of the process
    s.cpu_s                         # utime + stime, every thread, dead too
    s.run_ns                        # sum_exec_runtime of its live threads
    s.slices                        # times its threads were put on a CPU
    s.vcs, s.nvcs                   # context switches of the main thread
    d = later.minus(earlier)        # a Delta: cpu_s, run_ns, slices, ...

    sampler = Sampler(pid, interval=1.0).start()
    ...
    sampler.stop(); sampler.peak_rss_kb; sampler.samples

    perf_stat(pid, seconds) -> {"task-clock_ms", "context-switches",
                                "sched:sched_wakeup"} or None

Every figure is about the process given, never the machine: the emulator
and the bridge swarm run in other processes and are not counted.
"""

import os
import re
import shutil
import subprocess
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read(path):
    with open(path) as f:
        return f.read()


class ProcSample:
    __slots__ = ("t", "rss_kb", "hwm_kb", "cpu_s", "run_ns", "slices",
                 "vcs", "nvcs", "threads")

    @classmethod
    def read(cls, pid):
        s = cls()
        s.t = time.monotonic()
        status = _read("/proc/%d/status" % pid)
        fields = {}
        for line in status.splitlines():
            k, _, v = line.partition(":")
            fields[k] = v.strip()
        s.rss_kb = int(fields["VmRSS"].split()[0])
        s.hwm_kb = int(fields["VmHWM"].split()[0])
        s.vcs = int(fields["voluntary_ctxt_switches"])
        s.nvcs = int(fields["nonvoluntary_ctxt_switches"])
        s.threads = int(fields["Threads"])
        # stat: the comm field may hold spaces; fields after ")"
        stat = _read("/proc/%d/stat" % pid)
        rest = stat[stat.rindex(")") + 2:].split()
        # rest[0] is field 3 (state); utime/stime are fields 14/15,
        # cutime/cstime (reaped children) 16/17
        s.cpu_s = (int(rest[11]) + int(rest[12])) / CLK_TCK
        s.run_ns = 0
        s.slices = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                run, _wait, n = _read("/proc/%d/task/%s/schedstat"
                                      % (pid, tid)).split()
            except (OSError, ValueError):
                continue        # the thread just ended
            s.run_ns += int(run)
            s.slices += int(n)
        return s

    def minus(self, earlier):
        return Delta(self, earlier)


class Delta:
    """Counters between two samples of the same process."""

    def __init__(self, later, earlier):
        self.seconds = later.t - earlier.t
        self.cpu_s = later.cpu_s - earlier.cpu_s
        self.run_ns = later.run_ns - earlier.run_ns
        self.slices = later.slices - earlier.slices
        self.vcs = later.vcs - earlier.vcs
        self.nvcs = later.nvcs - earlier.nvcs

    @property
    def cpu_percent(self):
        """Share of one core, from the scheduler's nanoseconds (finer
        than the clock ticks behind cpu_s)."""
        return 100.0 * self.run_ns / 1e9 / self.seconds

    @property
    def wakeups_per_s(self):
        return self.slices / self.seconds


class Sampler:
    """A thread that samples the process every `interval` seconds and keeps
    the largest RSS seen (VmHWM is read too; it is exact)."""

    def __init__(self, pid, interval=1.0):
        self.pid = pid
        self.interval = interval
        self.samples = []
        self.peak_rss_kb = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="procstat")
        self._thread.start()
        return self

    def sample(self):
        try:
            s = ProcSample.read(self.pid)
        except (OSError, ValueError, KeyError) as e:
            self.error = repr(e)
            return None         # the process is gone
        self.samples.append(s)
        self.peak_rss_kb = max(self.peak_rss_kb, s.rss_kb, s.hwm_kb)
        return s

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        return self.sample()


_PERF_LINE = re.compile(r"^\s*([\d.,]+|<not counted>|<not supported>)\s+"
                        r"(?:msec\s+)?(\S+)")


def perf_available():
    return shutil.which("perf") is not None


def perf_stat(pid, seconds):
    """perf stat on a running process for `seconds`; None when perf is
    missing or not allowed.  A counter that never fired reads 0 (perf
    says "<not counted>" when the task never ran)."""
    if not perf_available():
        return None
    events = "task-clock,context-switches,sched:sched_wakeup"
    try:
        p = subprocess.run(
            ["perf", "stat", "-x", ";", "-e", events, "-p", str(pid),
             "--", "sleep", str(seconds)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            timeout=seconds + 30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = {}
    for line in p.stderr.splitlines():
        parts = line.split(";")
        if len(parts) < 3:
            continue
        value, unit, name = parts[0], parts[1], parts[2]
        if name not in ("task-clock", "context-switches",
                        "sched:sched_wakeup"):
            continue
        try:
            v = float(value)
        except ValueError:
            if "not counted" in value:
                v = 0.0
            else:
                return None     # not supported / not permitted
        out[name + ("_ms" if unit == "msec" else "")] = v
    if len(out) != 3:
        return None
    return out
