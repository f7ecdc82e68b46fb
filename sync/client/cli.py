"""``python -m sync``: the reference sync client on the command line. Every command prints JSON.

Exit codes: 0 done; 1 an error the user must look at; 2 bad usage; 3 the server cannot be reached
or is busy (nothing lost: run the same command again later); 4 not logged in, or the login expired
or the device was revoked."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from sync.client import AuthRequired, HTTPProblem, NotLoggedIn, RetryLater, SyncClient, SyncError, Unreachable
from sync.client.client import BATCH_CHANGES

EXIT_ERROR, EXIT_OFFLINE, EXIT_AUTH = 1, 3, 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync", description="安巡离线同步参考客户端 (SYNC_PROTOCOL.md)")
    parser.add_argument(
        "--state",
        default=os.environ.get("ANXUN_SYNC_STATE", "anxun-sync.sqlite"),
        help="local state file (queue, photos, cursor, local copy); env ANXUN_SYNC_STATE",
    )
    parser.add_argument("--attempts", type=int, default=5, help="tries per request before giving up (default 5)")
    parser.add_argument("--backoff", type=float, default=0.5, help="first wait between tries, seconds (doubles)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for an answer")
    parser.add_argument(
        "--batch-changes",
        type=int,
        default=BATCH_CHANGES,
        help=f"changes per pushed batch at most, below the server's limit (default {BATCH_CHANGES})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="log in; the token is bound to this state file's device")
    login.add_argument("--server", help="e.g. http://127.0.0.1:8000 (remembered)")
    login.add_argument("--username", required=True)
    login.add_argument("--password", help="default: env ANXUN_PASSWORD, else asked")
    login.add_argument("--device-name", default="anxun-sync")

    commands.add_parser("logout", help="revoke this device's token and forget it")

    record = commands.add_parser("record", help="queue changes from a JSON file (one change or a list); - for stdin")
    record.add_argument("file")
    record.add_argument("--photo", action="append", default=[], help="a photo file the changes name (repeatable)")

    photo = commands.add_parser("photo", help="register photo files for upload; prints their SHA-256 names")
    photo.add_argument("paths", nargs="+")

    push = commands.add_parser("push", help="send the queue (and then the photos)")
    push.add_argument("--no-photos", action="store_true", help="leave the photos for later")

    commands.add_parser("photos", help="upload the registered photos the server does not hold")

    pull = commands.add_parser("pull", help="bring the local copy up to date")
    pull.add_argument("--limit", type=int, help="changes per page")
    pull.add_argument("--verbose", action="store_true", help="list every change received")

    commands.add_parser("sync", help="push, then pull")
    commands.add_parser("status", help="what is queued, in conflict, rejected; photos; the local copy")

    show = commands.add_parser("show", help="records of the local copy: one, or all of an entity")
    show.add_argument("entity")
    show.add_argument("id", nargs="?")

    discard = commands.add_parser("discard", help="drop a queued, conflicting or rejected change by its seq")
    discard.add_argument("seq", type=int)
    return parser


def _print(value) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _read_changes(name: str) -> list[dict]:
    text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    value = json.loads(text)
    if isinstance(value, dict) and "changes" in value:
        value = value["changes"]
    return value if isinstance(value, list) else [value]


def run(args: argparse.Namespace) -> int:
    client = SyncClient(
        args.state,
        max_attempts=args.attempts,
        backoff=args.backoff,
        timeout=(min(10.0, args.timeout), args.timeout),
        batch_changes=args.batch_changes,
    )
    try:
        if args.command == "login":
            password = args.password or os.environ.get("ANXUN_PASSWORD") or getpass.getpass("密码: ")
            user = client.login(args.username, password, server_url=args.server, device_name=args.device_name)
            _print({"user": user, "device_id": client.device_id, "server": client.transport.base_url})
        elif args.command == "logout":
            client.logout()
            _print({"logged_out": True})
        elif args.command == "record":
            queued = []
            for i, change in enumerate(_read_changes(args.file)):
                queued.append(client.record(change, photos=args.photo if i == 0 else ()).summary())
            _print({"queued": queued})
        elif args.command == "photo":
            _print({path: client.add_photo(path) for path in args.paths})
        elif args.command == "push":
            _print(client.push(photos=not args.no_photos).as_dict())
        elif args.command == "photos":
            _print(client.upload_photos())
        elif args.command == "pull":
            report = client.pull(limit=args.limit).as_dict()
            if not args.verbose:
                report.pop("changes")
            _print(report | {"records": client.state.record_counts()})
        elif args.command == "sync":
            result = client.sync()
            result["pull"].pop("changes")
            _print(result)
        elif args.command == "status":
            _print(client.status())
        elif args.command == "show":
            if args.id:
                record = client.record_of(args.entity, args.id)
                if record is None:
                    print(json.dumps({"error": "本地没有此记录"}, ensure_ascii=False), file=sys.stderr)
                    return EXIT_ERROR
                _print(record)
            else:
                _print({i: r for (_, i), r in client.state.records(args.entity).items()})
        elif args.command == "discard":
            client.discard(args.seq)
            _print({"discarded": args.seq})
        return 0
    except (Unreachable, RetryLater) as err:
        _error(err, retry_after=getattr(err, "retry_after", None))
        return EXIT_OFFLINE
    except (AuthRequired, NotLoggedIn) as err:
        _error(err, code=getattr(err, "code", None))
        return EXIT_AUTH
    except HTTPProblem as err:
        _error(err, status=err.status, code=err.code, body=err.body)
        return EXIT_ERROR
    except (SyncError, ValueError, OSError) as err:
        _error(err)
        return EXIT_ERROR
    finally:
        client.close()


def _error(err: Exception, **details) -> None:
    body = {"error": str(err), "kind": type(err).__name__} | {k: v for k, v in details.items() if v is not None}
    print(json.dumps(body, ensure_ascii=False, default=str), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    return run(_parser().parse_args(argv))
