"""One Engine used from several threads at once."""
import threading

from conftest import message

THREADS, EACH = 4, 25


def test_four_threads_notify_at_once(open_engine):
    engine = open_engine()
    start = threading.Barrier(THREADS)
    ids, errors = [], []

    def work(n):
        try:
            start.wait()
            for i in range(EACH):
                ids.append(engine.notify(message([f"user{n}.{i}@example.com"])))
        except BaseException as e:  # reported below; a thread's exception is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == THREADS * EACH and 0 not in ids
    assert sorted(m["id"] for m in engine.list()) == sorted(ids)


def test_errors_are_per_thread(open_engine):
    engine = open_engine()
    seen = {}

    def bad(n):
        try:
            engine.notify({"to": [], "subject": f"thread {n}"})
        except Exception as e:
            seen[n] = (e.code, e.message)

    threads = [threading.Thread(target=bad, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == THREADS
    assert all(code == 4 and "recipient" in text for code, text in seen.values())


def test_threads_flushing_at_once_call_the_python_transport_once_per_message(open_engine):
    engine = open_engine()
    delivered, lock = [], threading.Lock()

    def deliver(sender, recipients, data):
        with lock:
            delivered.append(recipients[0])

    engine.set_transport(deliver)
    for i in range(40):
        engine.notify(message([f"user{i}@example.com"]))
    start = threading.Barrier(THREADS)
    sent, errors = [], []

    def flush():
        try:
            start.wait()
            sent.append(engine.flush().sent)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=flush) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(sent) == 40
    assert sorted(delivered) == sorted(f"user{i}@example.com" for i in range(40))
    assert engine.status()["sent"] == 40
