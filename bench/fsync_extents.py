#!/usr/bin/env python3
"""What one fdatasync costs on this disk by how many separate 4 KiB pages it must write.

A redb commit writes each changed B-tree page where the allocator put it, then syncs once; this
shows why the number of pages (tables touched) matters more than the bytes. Writes N pages at
random places in a 2 MiB file (about the size of the bench's data file), or as one run of N
pages, then fdatasync; prints the median of 400 rounds each.

  python3 bench/fsync_extents.py [DIR]     (default: the system temp directory)
"""
import os
import random
import sys
import tempfile
import time

PAGE = 4096
SPAN = 512  # pages: 2 MiB
ROUNDS = 400


def median_us(fd, pages, scattered):
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        if scattered:
            for page in random.sample(range(SPAN), pages):
                os.pwrite(fd, b"\2" * PAGE, page * PAGE)
        else:
            os.pwrite(fd, b"\2" * PAGE * pages, random.randrange(SPAN - pages) * PAGE)
        os.fdatasync(fd)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1e6


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir()
    with tempfile.NamedTemporaryFile(dir=directory) as f:
        fd = f.fileno()
        os.write(fd, b"\1" * PAGE * SPAN)
        os.fsync(fd)
        print("pages  scattered µs  one run µs")
        for pages in (1, 4, 8, 12, 16, 20):
            print("%5d  %12.0f  %10.0f" % (pages, median_us(fd, pages, True), median_us(fd, pages, False)))


if __name__ == "__main__":
    main()
