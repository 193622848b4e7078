"""Process and machine facts read from /proc (no psutil in the project's environment)."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _children_map() -> Dict[int, List[int]]:
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (field 2) may contain spaces: split after its closing bracket
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def process_tree(pid: int) -> List[int]:
    """``pid`` and all its descendants that are alive now."""
    children = _children_map()
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` plus its descendants (VmRSS summed; shared pages count
    once per process, which is what a container memory limit sees for separate processes)."""
    total = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time consumed so far by ``pid`` and its live descendants."""
    total = 0
    for member in process_tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        # utime, stime are fields 14 and 15 of stat(5); fields[0] here is field 3
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


@dataclass
class CpuSample:
    """System-wide busy/total CPU jiffies (from /proc/stat) at one moment."""

    busy: float
    total: float
    wall: float

    @classmethod
    def now(cls) -> CpuSample:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        total = sum(values[:8])
        return cls(busy=(total - idle) / CLOCK_TICKS, total=total / CLOCK_TICKS, wall=time.time())


def busy_cores(start: CpuSample, end: CpuSample) -> float:
    """Average number of busy cores between two samples (all processes of the machine)."""
    wall = end.wall - start.wall
    return (end.busy - start.busy) / wall if wall > 0 else 0.0


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def machine_info() -> Dict[str, str]:
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cpu": cpu_model,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def pid_alive(pid: Optional[int]) -> bool:
    return pid is not None and Path(f"/proc/{pid}").exists()
