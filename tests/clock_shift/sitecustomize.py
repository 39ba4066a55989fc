"""Loaded only under ``make test-clock`` (PYTHONPATH), in every Python process of the run.

Sleeping. The shifted run leaves monotonic clocks real (``FAKETIME_DONT_FAKE_MONOTONIC=1``): with
them faked, every timed lock wait (``Event.wait(0.2)``, ``queue.get(timeout=…)``) blocks for the
whole shift, because glibc's ``sem_clockwait`` is not intercepted. But libfaketime 0.9.10 then
turns the absolute monotonic deadline of ``time.sleep`` (``clock_nanosleep`` with
``TIMER_ABSTIME``) into EINVAL. A relative ``select`` sleeps the same time and is left alone.

The environment. libfaketime's ``pthread_cond_timedwait`` calls ``getenv("FAKETIME_WAIT_MS")`` on
every timed wait, and CPython hands the GIL over with timed waits: background threads (the
emulator, ``chalice local``, thread pools) read the C environment all the time. glibc's ``setenv``
may move that environment while they read it, so a test's ``monkeypatch.setenv`` in the main
thread crashed a worker now and then (a segfault in ``os.environ``, CI, test_abuse_limits). Here
``os.environ`` changes stay in Python, and child processes get them explicitly: no C environment
write happens after start-up.
"""
import os
import select
import subprocess
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep


def _leave_the_c_environment_alone(*_args) -> None:
    pass


os.putenv = _leave_the_c_environment_alone  # os.environ's writes call these module globals
os.unsetenv = _leave_the_c_environment_alone

_popen_init = subprocess.Popen.__init__


def _popen_with_the_python_environment(self, *args, **kwargs):
    if kwargs.get("env") is None:  # the C environment a child would inherit lacks what tests set
        kwargs["env"] = dict(os.environ)
    _popen_init(self, *args, **kwargs)


subprocess.Popen.__init__ = _popen_with_the_python_environment
