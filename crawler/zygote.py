"""The crawl launcher: a process that imports Scrapy once, then forks a fresh crawl per job.

A crawl needs a process of its own (Twisted's reactor cannot be restarted, and a hung site must
be killable), but importing Scrapy for every pass costs more CPU than a quiet pass itself. The
launcher pays for the import once; each fork starts with it done.

It talks one JSON line at a time. The parent writes {"job", "out", "log"}; the launcher answers
{"pid"} once the crawl is forked, then {"pid", "exit"} when it has ended. One crawl at a time.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from typing import Any, TextIO


def _crawl(request: dict[str, Any]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    os.setsid()  # its own process group, so a kill reaches every descendant
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    for fd in (1, 2):
        os.dup2(log, fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    from crawler.child import child_main

    try:
        return child_main(request["job"], request["out"])
    except BaseException:  # the launcher must hear of every ending, whatever it was
        traceback.print_exc()
        return 1


def _answer(out: TextIO, **fields: int) -> None:
    out.write(json.dumps(fields) + "\n")
    out.flush()


def serve(lines: TextIO, out: TextIO) -> None:
    for line in lines:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = _crawl(request)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _answer(out, pid=pid)
        _, status = os.waitpid(pid, 0)
        _answer(out, pid=pid, exit=os.waitstatus_to_exitcode(status))


def main() -> None:
    # A Ctrl-C or SIGTERM meant for `serve` reaches this process too. It stays until its parent
    # has heard how the running crawl ended, and leaves when the parent closes the pipe.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    import crawler.spiders.preload  # noqa: F401  (the whole point: import once, fork many)

    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
