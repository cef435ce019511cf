"""The first program of each proof step, run inside the child's namespaces (never imported).

Usage: python -I -S init.py COMMAND [ARG...]

apps/endpoints/proof.py starts it in new user, mount, network and PID namespaces. It forks the
namespace's init (PID 1), which mounts a /proc of the namespace's own processes and runs the
command as its only child, without capabilities (an empty bounding set, no_new_privs): so the
command can neither remount the read-only file system nor signal, trace or list the workbench's
processes. When the command ends, init ends, and the kernel kills whatever the command left
running in the namespace (a daemon that called setsid included); when this program is killed
(the step's time limit), init gets SIGKILL from PR_SET_PDEATHSIG, with the same effect.

This program exits as the command did (its code, or the signal that ended it), so the parent
can tell a CPU or file-size limit from a failure. Standard library only: it runs with -S.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MAX_CAPABILITY = 63  # capability numbers the kernel does not know are refused (EINVAL): harmless

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _init(command: list[str], report: int) -> int:
    """PID 1 of the namespace: run the command, write its wait status to `report`; returns the
    exit code of this process (125 when anything failed: the parent reads it as such)."""
    try:
        _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
        _check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mounting /proc")
        child = os.fork()
        if child == 0:
            _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
            for capability in range(MAX_CAPABILITY + 1):
                if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 and ctypes.get_errno() != 22:
                    raise OSError(ctypes.get_errno(), f"dropping capability {capability}")
            os.execv(command[0], command)  # noqa: S606 - the step's command, built by proof.py
        _, status = os.waitpid(child, 0)
        os.write(report, str(status).encode())
        return 0
    except BaseException as exc:  # nothing may escape PID 1; the parent reads exit code 125
        os.write(2, f"proof init: {exc}\n".encode())
        return 125


def main() -> None:
    command = sys.argv[1:]
    if not command:
        sys.exit("usage: init.py COMMAND [ARG...]")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        sys.exit(_init(command, write_end))  # this program writes nothing buffered: exiting is plain
    os.close(write_end)
    _, init_status = os.waitpid(pid, 0)
    reported = os.read(read_end, 32)
    status = int(reported) if reported else init_status
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        sys.exit(128 + sig)
    sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 125)


if __name__ == "__main__":
    main()
