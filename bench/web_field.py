"""``python -m bench.web_field [--server URL] [--changes 200]``: the field app's budgets of issue 18,
measured in Chromium against a running server with the demo district (``make run``), never asserted
by the tests:

- a grid worker's first sync of the demo scope (the login's answer → the pull's last page stored and
  shown), budget < 2 s on loopback; the login itself (Argon2 on the server) is reported apart;
- N queued changes (hazard reports) pushed in one go, and the longest main-thread task meanwhile
  (PerformanceObserver "longtask"): the page must not freeze (no task near a second; < 200 ms is smooth).

Each run signs in as gridworker1 on a fresh browser profile (a new device), so the hazards it pushes
stay in that database: run it against a scratch database, not one that matters."""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import datetime, timezone

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

FIRST_SYNC_BUDGET_S = 2.0

LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration) })
  .observe({ type: 'longtask', buffered: true });
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        playwright.selectors.set_test_id_attribute("data-test")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(**PHONE).new_page()
        page.add_init_script(LONG_TASKS)
        page.goto(f"{args.server}/app/")
        page.fill("input[name=username]", "gridworker1")
        page.fill("input[name=password]", "anxun-demo")
        started = time.perf_counter()
        logged_in = []
        page.on("response", lambda r: r.url.endswith("/auth/login") and logged_in.append(time.perf_counter()))
        page.click("button[type=submit]")
        page.get_by_test_id("sync-message").filter(has_text="已是最新").wait_for(timeout=120_000)
        done = time.perf_counter()
        first_sync, login = done - logged_in[0], logged_in[0] - started
        records = page.evaluate("""async () => {
          const user = JSON.parse(localStorage.getItem('anxun.app.session')).user.id;
          const db = await new Promise((ok) => { const q = indexedDB.open('anxun-field-' + user); q.onsuccess = () => ok(q.result) });
          return await new Promise((ok) => { const r = db.transaction('records').objectStore('records').getAll();
                                             r.onsuccess = () => ok(r.result.map((x) => [x.entity, x.id, x.data.grid_id])) });
        }""")
        enterprise = next(r[1] for r in records if r[0] == "enterprise")
        now = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        changes = [
            {
                "entity": "hazard",
                "op": "create",
                "id": str(uuid.uuid4()),
                "base_version": None,
                "recorded_at": now,
                "data": {
                    "enterprise_id": enterprise,
                    "level": "general",
                    "description": f"压测隐患 {n}",
                    "found_at": now,
                    "photos": [],
                },
                "state": "queued",
                "batch_id": None,
                "attempts": 0,
                "rebased": 0,
                "result": None,
                "seen": None,
                "label": f"上报隐患：压测隐患 {n}",
                "form": None,
            }
            for n in range(args.changes)
        ]
        page.evaluate(
            """async (changes) => {
          const user = JSON.parse(localStorage.getItem('anxun.app.session')).user.id;
          const db = await new Promise((ok) => { const q = indexedDB.open('anxun-field-' + user); q.onsuccess = () => ok(q.result) });
          const tx = db.transaction('changes', 'readwrite');
          for (const c of changes) tx.objectStore('changes').add(c);
          await new Promise((ok) => { tx.oncomplete = ok });
          window.__longTasks = [];
        }""",
            changes,
        )
        page.get_by_text("同步", exact=True).last.click()
        started = time.perf_counter()
        page.get_by_test_id("sync-now").click()
        page.get_by_test_id("sync-message").filter(has_text=f"已上传 {args.changes} 条").wait_for(timeout=600_000)
        push = time.perf_counter() - started
        long_tasks = page.evaluate("window.__longTasks")
        browser.close()
    result = {
        "server": args.server,
        "records_pulled": len(records),
        "login_s": round(login, 3),
        "first_sync_s": round(first_sync, 3),
        "first_sync_budget_s": FIRST_SYNC_BUDGET_S,
        "changes_pushed": args.changes,
        "push_s": round(push, 3),
        "long_tasks": len(long_tasks),
        "longest_task_ms": round(max(long_tasks, default=0), 1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
