"""Summarise py-spy raw profiles (collapsed stacks) written by ``BENCH_PROFILE=1 make bench``.

    .venv/bin/python bench/profile_summary.py bench/results/profiles/embedded-200-*.txt [--top 25] [--grep secure_phone] [--loop]

Prints, per file, the share of samples where each function is on the stack (inclusive) and on top (self).
Idle samples (py-spy records only active threads unless --idle) are not in the files, so shares are of
busy time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    for marker in ("site-packages/", "secure_phone/", "lib/python3.11/"):
        if marker in path:
            path = ("secure_phone/" if marker == "secure_phone/" else "") + path.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({path})"


def summarise(path: Path, top: int, grep: str | None, loop_only: bool = False) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if loop_only and any(f.startswith("Thread._bootstrap") for f in frames):
            continue  # a worker thread's stack: --loop keeps the event loop's thread only
        thread = next((f for f in frames if f.startswith("thread")), "?")
        frames = [short(f) for f in frames if not f.startswith(("process", "thread"))]
        if not frames:
            continue
        total += n
        threads[thread.split(" ")[0] + " " + thread.split(" ")[-1]] += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    out = [f"== {path.name}: {total} busy samples"]
    if not total:
        return "\n".join(out)
    for label, counter in (("inclusive", inclusive), ("self", own)):
        out.append(f"-- {label}")
        shown = 0
        for f, n in counter.most_common():
            if grep and grep not in f:
                continue
            out.append(f"{100 * n / total:6.1f}%  {f}")
            shown += 1
            if shown >= top:
                break
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--grep", default=None)
    parser.add_argument("--loop", action="store_true", help="only the event loop's thread (the main thread)")
    args = parser.parse_args()
    for path in args.files:
        print(summarise(path, args.top, args.grep, args.loop))


if __name__ == "__main__":
    main()
