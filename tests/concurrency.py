"""Run the same work in several threads at once, each with its own database connection —
what two workers or two web processes do. For tests marked ``postgres`` with
``django_db(transaction=True)``: the threads must see each other's commits."""

import threading

from django.db import connection


def run_in_parallel(work, count: int) -> tuple[list, list]:
    """Call ``work(i)`` for i in 0..count-1, all released at the same moment. Returns the
    results and the exceptions raised (both unordered)."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(work(i))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
