"""A 201 means stored: nothing acknowledged is lost when the process dies.

The server is killed with SIGKILL (no shutdown code runs) while several
clients are still posting; a new server on the same database must then
serve every thought that was answered 201, unchanged.  The suite runs
this on the engine THOUGHTS_TEST_ENGINE names.
"""
import signal
import threading
import time

import requests

from conftest import Server

WRITERS = 8
# Kill once this many thoughts are acknowledged (or the time is up).
ACKNOWLEDGED_BEFORE_KILL = 150
BURST_SECONDS = 20


def burst(server, header, prefix, acknowledged, lock, stop):
    """Posts until stopped or the server is gone; records each 201."""
    session = requests.Session()
    n = 0
    while not stop.is_set():
        text = "%s-%d" % (prefix, n)
        n += 1
        try:
            r = session.post(server.url + "/api/me/thoughts/", headers=header,
                             json={"text": text}, timeout=10)
        except requests.RequestException:
            return
        if r.status_code == 201:
            body = r.json()
            assert body["text"] == text
            with lock:
                acknowledged.append((body["id"], text))


def kill_mid_burst(server, keys, user):
    acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()
    threads = [threading.Thread(target=burst, args=(
        server, keys.header(user), "burst-%d" % i, acknowledged, lock, stop))
        for i in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + BURST_SECONDS
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                break
        time.sleep(0.01)
    server.proc.send_signal(signal.SIGKILL)
    assert server.proc.wait(timeout=20) == -signal.SIGKILL
    stop.set()
    for t in threads:
        t.join(timeout=30)
    return acknowledged


def assert_all_stored(server, keys, user, acknowledged):
    mine = server.get("/api/me/thoughts/", headers=keys.header(user))
    assert mine.status_code == 200
    stored = {t["id"]: t["text"] for t in mine.json()}
    missing = [(i, text) for i, text in acknowledged if stored.get(i) != text]
    assert not missing, "acknowledged but lost: %r" % missing[:10]


def test_sigkill_mid_burst_loses_no_acknowledged_thought(tmp_path, keys,
                                                         user):
    data_dir = tmp_path / "durable"
    acknowledged = []
    for _ in range(2):
        server = Server(data_dir, keys)
        acknowledged += kill_mid_burst(server, keys, user)

    restarted = Server(data_dir, keys)
    try:
        assert len(acknowledged) > 0
        assert_all_stored(restarted, keys, user, acknowledged)
        # New rows keep counting up past everything acknowledged.
        r = restarted.post("/api/me/thoughts/", headers=keys.header(user),
                           json={"text": "after the crash"})
        assert r.status_code == 201
        assert r.json()["id"] > max(i for i, _ in acknowledged)
    finally:
        assert restarted.stop() == 0, restarted.stderr()
