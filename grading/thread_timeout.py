"""pytest-timeout's "thread" method (the only one on Windows, which has no SIGALRM), made to cost a test instead
of the run.

pytest-timeout's own thread method dumps the stacks and ends the whole process with os._exit(1) when a test runs
too long: no points table, no further test. This plugin takes over its timer (the pytest_timeout_set_timer hook)
for that method only: when a test runs past its limit, the test's thread gets an exception raised in it (CPython's
PyThreadState_SetAsyncExc), so the test fails with a Timeout and the run goes on. Code that swallows the exception,
or sits in one long C call, gets GRACE_SECONDS more; then the points table is printed and pytest-timeout's own
handler ends the process as before. With the "signal" method (Linux, macOS) pytest-timeout raises the Timeout
itself; LastResort adds the same last resort for code that swallows it.
"""
import ctypes
import threading

import pytest

GRACE_SECONDS = 5.0


class TestTimeout(pytest.fail.Exception):
    """A test that ran past its time limit (a BaseException, as pytest's own outcomes are)."""

    limit = 0.0

    def __init__(self, *args):
        super().__init__("Timeout: the test took longer than its time limit of {:g} s".format(self.limit),
                         pytrace=False)


class ThreadTimeout:
    def __init__(self, before_exit):
        """before_exit(item): called just before the process is ended (the points table is printed there)."""
        self.before_exit = before_exit

    @pytest.hookimpl(tryfirst=True)
    def pytest_timeout_set_timer(self, item, settings):
        if settings.method != "thread" or not settings.timeout:
            return None  # pytest-timeout's own signal method
        target = threading.current_thread().ident
        lock, state = threading.Lock(), {"done": False}

        def interrupt():
            with lock:
                if state["done"]:
                    return
                TestTimeout.limit = settings.timeout
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(TestTimeout))
            last_resort.start()

        def end_the_run():
            with lock:
                if state["done"]:
                    return
            ended(self.before_exit, item, settings)

        timer = threading.Timer(settings.timeout, interrupt)
        last_resort = threading.Timer(GRACE_SECONDS, end_the_run)
        for thread in (timer, last_resort):
            thread.daemon = True

        def cancel():
            with lock:
                state["done"] = True
            timer.cancel()
            last_resort.cancel()

        item.cancel_timeout = cancel
        timer.start()
        return True


def ended(before_exit, item, settings) -> None:
    """Print the points table (before_exit), then let pytest-timeout dump the stacks and end the process."""
    import pytest_timeout

    before_exit(item)
    pytest_timeout.timeout_timer(item, settings)


class LastResort:
    """With the signal method: end the run, with the points table, if a test is still running GRACE_SECONDS after
    pytest-timeout raised its Timeout (code that swallows it)."""

    def __init__(self, before_exit):
        self.before_exit = before_exit

    @pytest.hookimpl(hookwrapper=True)
    def pytest_timeout_set_timer(self, item, settings):
        yield
        if settings.method != "signal" or not settings.timeout:
            return
        timer = threading.Timer(settings.timeout + GRACE_SECONDS, ended, (self.before_exit, item, settings))
        timer.daemon = True
        inner = getattr(item, "cancel_timeout", None)

        def cancel():
            timer.cancel()
            if inner is not None:
                inner()

        item.cancel_timeout = cancel
        timer.start()
