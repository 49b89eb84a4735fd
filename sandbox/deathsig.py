"""Children that die with their parent, even when the parent is SIGKILLed.

The stack's normal teardown (SIGTERM, then SIGKILL, to each child's process group) runs
only if the sandbox gets to run it: on exit, on an error, on Ctrl-C. If the sandbox
process itself is killed outright (SIGKILL, the OOM killer, a crashed terminal that takes
the process with it), nothing of it runs, and the mock and the bot would live on as
orphans holding their ports. They are in sessions of their own (so the teardown can kill
each group), which also means no terminal hang-up reaches them.

Linux has a kernel-side answer: ``prctl(PR_SET_PDEATHSIG, sig)`` asks the kernel to send
``sig`` to the calling process when its parent dies. It is set in the child between fork
and exec (`subprocess`'s ``preexec_fn``), survives ``execve`` and ``setsid``, and costs
nothing while the parent lives. Three details make it reliable:

- the signal is SIGKILL: it cannot be caught or ignored, and the kernel frees a dead
  process's sockets, so the ports are free again (the children start no processes of
  their own, so no grandchild is left behind);
- if the parent died between fork and the ``prctl`` call, the child would never get the
  signal: after setting it, the child checks that its parent is still the process that
  forked it, and kills itself otherwise;
- "parent" means the *thread* that forked the child: the stack starts its children from
  its event loop's thread, which lives as long as the stack does.

``libc`` is loaded through `ctypes` in the parent, before the fork: the function that
runs in the child only calls an already resolved C function and `os` functions. On other
systems there is no such call; `die_with_parent` returns None and the children rely on
the normal teardown alone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["PR_SET_PDEATHSIG", "die_with_parent"]

#: From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get ``sig`` when this process dies (Linux);
    None where the kernel has no such facility or libc cannot be loaded."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent = os.getpid()

    def preexec() -> None:  # runs in the child, after fork, before exec
        if prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:  # never run a child that could outlive us
            os.write(2, b"cannot start: prctl(PR_SET_PDEATHSIG) failed\n")
            os._exit(127)
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os.kill(os.getpid(), sig)

    return preexec
