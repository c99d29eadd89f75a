#!/usr/bin/env python3
"""gen_reliability.py - writes docs/RELIABILITY.md from a test run.

    docs/gen_reliability.py --out docs/RELIABILITY.md CONFIG=LOG [CONFIG=LOG ...]

Each LOG is a file holding RELIABILITY lines, as the reliability suite prints them
(c-tests/test_fault_lib.h, python-tests/test_*_processes.py, fuzz/run):

    RELIABILITY|<platform>|<transport>|<category>|<case>|<result>|<key=value,...>

either a $WIPC_RELIABILITY_LOG file or a ctest log (Testing/Temporary/LastTest.log), which holds the
test programs' output; a ctest log also gives the cmocka verdicts ("[       OK ] name") of the other
suites, of which the fault and bad-input cases are listed too. CONFIG names the run (asan, tsan,
valgrind, fuzz, linux, wine). Totals: faults injected (key faults), bad inputs tried (key inputs),
messages moved under load (key messages, category load), messages lost (key lost: must be 0).
"""
import argparse
import collections
import datetime
import re
import sys
from pathlib import Path

CONFIG_TEXT = {
    "linux": "plain RelWithDebInfo build, ctest (scripts/test)",
    "asan": "AddressSanitizer + UndefinedBehaviorSanitizer build, ctest + pytest (WIPC_TEST_SCALE=0.1)",
    "tsan": "ThreadSanitizer build, ctest + pytest (WIPC_TEST_SCALE=0.05, detect_deadlocks=1)",
    "valgrind": "memcheck --leak-check=full --error-exitcode=1, every cmocka case (WIPC_TEST_SCALE=0.02)",
    "fuzz": "libFuzzer + ASan + UBSan (clang), each target for a bounded time",
    "wine": "mingw-w64 build (wipc.dll) under Wine, ctest (scripts/test)",
}
SCOPE = [
    "A fault is SIGKILL (Linux) / TerminateProcess (Windows) of a real peer process at a chosen moment; the survivor "
    "must get WIPC_E_DISCONNECTED (or the DISCONNECTED event) within a few seconds, never hang (every wait in the tests "
    "is bounded), never see a partial or corrupt message, and serve or open again.",
    "Messages lost counts messages a test sent and did not get back intact (checksums, sequence numbers, bitmaps "
    "of (sender, sequence)); it must be 0.",
    "Windows results come from the mingw-w64 build run under Wine: the DACLs read back are what Wine stores (generic "
    "rights are not mapped to specific ones, and the owner is the token's primary group S-1-5-21-0-0-0-513); integrity "
    "levels (UIPI) are not enforced by Wine; process RSS is Wine's K32GetProcessMemoryInfo working set.",
    "Windows attacks (c-tests/test_attack_win.c) are made by win_attacker.exe, a plain Win32 program that does not load "
    "wipc.dll. Wine reports a SEC_RESERVE view's pages as MEM_RESERVE through VirtualQuery (the check is tested) but does "
    "not fault when they are touched (the crash the check prevents cannot be shown); it enforces no DACL between processes "
    "of one user, no UIPI and no sessions, so those rows show what wipc checks and reads back, not what Windows would refuse.",
    "Known limit (Windows): a process of the same user may add instances to a live pipe (the owner-only DACL grants its "
    "user FILE_CREATE_PIPE_INSTANCE), so a client may reach an instance that is not the wipc server's. wipc cannot prevent "
    "it; the client's wipc_get_info(conn).peer_pid is the server process's id from GetNamedPipeServerProcessId, for "
    "callers that know whom to expect. Likewise a same-user process may open a msg name's owner record or a section for "
    "writing: the checks close the attacks that need no such access (a window class, a pre-created object, a reserved "
    "page), not those of a process that can also write into the receiver's memory.",
    "The sanitizer and valgrind runs use smaller counts (WIPC_TEST_SCALE) and do not check RSS bounds (ASan keeps freed "
    "memory in quarantine); the plain Linux and Wine runs do.",
    "Fuzz inputs are counted as bad inputs tried; most are malformed by construction, some are accepted (seeds and "
    "what the fuzzer derives from them).",
]
# Hand-written: the rules behind the hardening fixes (also in include/wipc.h) and every attack of that
# issue with its result per backend; the measured rows are in the tables below (python-tests/
# test_hardening_posix.py prints them).
HARDENING_RULES = [
    "**Read once.** Every value read from shared memory goes into a local (atomic or volatile load), is validated, "
    "and only the local is used - sizes and capacities checked at open included.",
    "**Sealed or never shrinking.** A mapping a peer could resize is never read unprotected: POSIX channel and pipe "
    "bulk sections are memfds sealed with F_SEAL_SHRINK | F_SEAL_GROW, found through /proc/<pid>/fd and refused "
    "unsealed; a channel's /dev/shm name only holds a locator read with pread. Windows sections cannot shrink while "
    "mapped. Regions are the caller's raw memory: wipc never reads them.",
    "**Every per-connection resource bounded, in every mode.** Received and unconsumed messages (queued for wipc_recv "
    "or waiting for on_message): `max_queued_bytes` 8 MiB / `max_queued_messages` 1024, then reading pauses and the "
    "peer's sends time out; the handshake: `handshake_timeout_ms` 5 s, then the slot is freed; a frame's memory grows "
    "as its bytes arrive, never from the length it claims.",
    "**Library threads are never held by one peer.** The I/O thread never waits for a peer; accept at the "
    "descriptor limit backs off (100 ms) instead of spinning.",
    "**Never delete what wipc did not create.** A WIPC_PIPE_RAW path is unlinked only if it is a socket of this user "
    "that nobody answers; a listener removes only the socket file it bound.",
]
HARDENING_ATTACKS = [   # (item, attack, Linux, Windows)
    ("1",
     "bulk section shrunk after the first BULK frame (SIGBUS)",
     "fixed: sealed memfd sections; unsealed refused (test_bulk_section_shrunk_under_the_receiver)",
     "sections cannot shrink; a peer's bulk section with reserved (SEC_RESERVE) pages is refused: "
     "VirtualQuery says every page is committed (test_attack_win test_bulk_reserve; Wine does not fault on"
     " reserved pages, the check is what is tested)"),
    ("2",
     "capacity flipped during wipc_shm_open (SIGSEGV)",
     "fixed: read once (test_shm_open_survives_capacity_flips, 1.0 and 1.1 layouts)",
     "fixed in the common code; Wine: 300 opens while win_attacker flips the capacity, no crash, before "
     "EXCEPTION_ACCESS_VIOLATION (test_attack_win test_shm_capacity_flip)"),
    ("3",
     "channel object truncated under both peers (SIGBUS)",
     "fixed: sealed memfd behind a locator (test_shm_channel_truncated_under_both_peers)",
     "sections cannot shrink"),
    ("4",
     "16 MiB messages flooding a 0.5 s callback (RSS +250 MiB/s)",
     "fixed: callback backlog bounded (test_callback_flood_is_bounded; c-tests/test_hardening)",
     "fixed in the common code (inbox / dispatch); Wine: RSS +48 MiB in 4 s, before +192 MiB "
     "(c-tests/test_hardening)"),
    ("5",
     "accept at RLIMIT_NOFILE spins the I/O thread",
     "fixed: timerfd back-off (test_accept_at_fd_limit_does_not_spin)",
     "no accept loop to spin: one ConnectNamedPipe per instance completes on the IOCP, and a failed "
     "CreateNamedPipeW waits for a freed slot (want_instance); not attacked under Wine"),
    ("6",
     "never-reading clients pin every callback worker (wipc_reply)",
     "fixed: a reply from a callback goes through the connection's write queue (bounded by WIPC_ASYNC_QUEUE_BYTES; "
     "unwritten after WIPC_REPLY_DEADLINE_MS, the connection ends) (test_never_reading_clients_do_not_starve_others). "
     "bench/noread.c, 1,000 never-reading clients on 4 callback servers of one process: a well-behaved client's 64-byte "
     "round trips p50 41-74 us, p99 72 us-2.0 ms, max 0.1-3.6 ms (none: 31-39 us, 95-667 us, 0.8-4.1 ms); "
     "before (1.0): all 64 callback workers blocked in wipc_reply, every request timed out",
     "async branch; its write queue's Win32 side (pipe_write_async.c: overlapped WriteFile on the IOCP; a "
     "stuck write's shutdown disconnects the instance) passes test_async under Wine, never-reading clients"
     " included"),
    ("7",
     "RAW listen deleted a regular file",
     "fixed (test_raw_listen_leaves_foreign_path_alone)",
     "n/a (pipe names)"),
    ("8",
     "handshake squatters hold every instance",
     "fixed: HELLO deadline (test_handshake_squatters_lose_their_slots; c-tests/test_hardening)",
     "fixed in the common code (handshake watch); Wine: pass (c-tests/test_hardening); test_attack_win: "
     "default 5 s deadline too, client in at 5.0 s, before locked out for its whole 15 s timeout (connect "
     "now waits for a busy pipe in 100 ms WaitNamedPipeW slices)"),
    ("9",
     "Python names truncated at NUL",
     "Python binding branch",
     "Python binding branch"),
    ("10",
     "headers claiming 16 MiB commit memory",
     "fixed: bodies grow as bytes arrive (test_claimed_sizes_do_not_commit_memory; c-tests/test_hardening)",
     "fixed in the common code (pipe_read.c); Wine: pass, commit +7.4 MiB, before 966.6 MiB "
     "(c-tests/test_hardening)"),
    ("11",
     "foreign SetWindowLongPtrW(GWLP_USERDATA) on a msg window (garbage replies, then a crash)",
     "n/a",
     "fixed: the window procedure finds its endpoint in the library's own table (the window thread's "
     "record), never in window memory (test_attack_win test_msg_userdata; before: 0 of 10 answered, then "
     "EXCEPTION_ACCESS_VIOLATION)"),
    ("12",
     "a later window of class wipc-msg-<name> got every message",
     "n/a (sockets in the 0700 runtime directory)",
     "fixed: owner record Local\\wipc-msg-owner:<name> (pid + hwnd, must not exist); senders deliver only "
     "to its window when GetWindowThreadProcessId agrees (test_attack_win test_msg_hijack; before: 49 "
     "messages to the attacker, 0 of 24 answered)"),
    ("13",
     "pre-created, signalled wake events (creator spins, opener times out)",
     "n/a (futex words in the section)",
     "fixed: every named object created must-not-exist (ERROR_ALREADY_EXISTS = WIPC_E_ADDR_IN_USE), never "
     "adopted: channel events, msg name mutex, bulk section + event (test_attack_win "
     "test_shm_events_precreated, test_msg_mutex_precreated)"),
    ("14",
     "bulk / channel sections with reserved (SEC_RESERVE) pages",
     "n/a",
     "fixed: opened channel, region and bulk sections are refused unless VirtualQuery says MEM_COMMIT for "
     "every page of their size (NtQuerySection); Wine reports MEM_RESERVE but does not fault "
     "(test_attack_win test_shm_reserve, test_bulk_reserve)"),
    ("15",
     "the Linux classes on Windows",
     "-",
     "the common-code fixes above, checked under Wine (test_hardening, test_attack_win); Win32 gaps fixed "
     "in the backend: 6 (write queue), 8 (WaitNamedPipeW), 11-14"),
]
CATEGORY_ORDER = ["fault", "load", "security", "bad-input", "fuzz"]
DETAIL_ORDER = ["linux", "wine", "fuzz", "asan", "tsan", "valgrind"]   # whose key=values the details column shows
# other suites' cmocka cases that inject a fault or feed bad input (by name)
OTHER_CASE = re.compile(r"kill|corrupt|bad_|bad$|stale|squat|too_large|closed|disconnect|malformed|protocol|null|forged|"
                        r"invalid|busy|timeout|wrong|misuse|oversize|full|hung|slow|shutdown|drain|unblock")


def parse_kv(text):
    kv = {}
    for part in text.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            kv[k.strip()] = v.strip()
    return kv


def num(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def read_log(path):
    """(reliability rows, {suite: {case: verdict}}) from one log."""
    rows = []
    cases = collections.defaultdict(dict)
    suite = None
    running = None   # the cmocka case that started and has no verdict yet
    text = Path(path).read_text(errors="replace")
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        i = line.find("RELIABILITY|")
        if i >= 0:
            parts = line[i:].split("|", 6)
            if len(parts) == 7:
                _, platform, transport, category, case, result, kv = parts
                rows.append((platform, transport, category, case, result, parse_kv(kv)))
            continue
        if line.startswith("CMOCKA|"):   # a case run on its own (valgrind, TSan): CMOCKA|suite|case|OK/FAILED
            parts = line.split("|")
            if len(parts) == 4:
                cases[parts[1]][parts[2]] = parts[3]
            continue
        m = re.match(r'^\d+/\d+ Testing: (\S+)', line)
        if m:
            suite, running = m.group(1), None
            continue
        m = re.match(r"^\[ RUN      \] (test_\w+)$", line)
        if m and suite:
            running = m.group(1)
            continue
        m = re.match(r"^\[\s+(OK|FAILED|SKIPPED)\s+\] (test_\w+)$", line)
        if m and suite:
            cases[suite][m.group(2)] = m.group(1)
            running = None
            continue
        if line.startswith("Test Failed") and suite:
            # the process itself failed: a sanitizer report (halt_on_error), a crash, a hang or a timeout
            if running:
                cases[suite][running] = "FAILED"
            elif "FAILED" not in cases[suite].values():
                cases[suite][f"{suite} (the process)"] = "FAILED"
            running = None
    return rows, cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("logs", nargs="+", metavar="CONFIG=LOG")
    a = ap.parse_args()

    table = collections.OrderedDict()   # (category, transport, case) -> {config: [results], kv...}
    other = collections.OrderedDict()   # (suite, case) -> {config: verdict}
    totals = collections.Counter()
    per_config = collections.defaultdict(collections.Counter)
    configs = []
    for item in a.logs:
        config, _, path = item.partition("=")
        if not Path(path).exists():
            print(f"gen_reliability: {path} does not exist; skipped", file=sys.stderr)
            continue
        if config not in configs:
            configs.append(config)   # several logs may make up one configuration (ctest + pytest)
        rows, cases = read_log(path)
        for platform, transport, category, case, result, kv in rows:
            key = (category, transport, case)
            cell = table.setdefault(key, {"results": collections.defaultdict(list), "kv": {}})
            cell["results"][config].append(result)
            cell["kv"].setdefault(config, kv)
            faults, inputs, lost = num(kv.get("faults")), num(kv.get("inputs")), num(kv.get("lost"))
            moved = num(kv.get("messages")) if category == "load" else 0
            for c in (totals, per_config[config]):
                c["faults"] += faults
                c["inputs"] += inputs
                c["moved"] += moved
                c["lost"] += lost
                c["rows"] += 1
                c["fail"] += result == "fail"
        for suite, verdicts in cases.items():
            if suite.startswith(("test_fault", "test_load", "test_security")):
                # a case of the suite that failed before it could print its RELIABILITY line
                category = "fault" if suite.startswith("test_fault") else "load" if suite.startswith("test_load") else "security"
                for case, verdict in verdicts.items():
                    if verdict == "FAILED":
                        key = (category, "-", f"{suite}: {case} (failed before it reported)")
                        cell = table.setdefault(key, {"results": collections.defaultdict(list), "kv": {}})
                        cell["results"][config].append("fail")
                        totals["fail"] += 1
                        per_config[config]["fail"] += 1
                continue   # the passing ones are in the table through their RELIABILITY lines
            for case, verdict in verdicts.items():
                if OTHER_CASE.search(case) or verdict == "FAILED":
                    other.setdefault((suite, case), {})[config] = verdict
                    if verdict == "FAILED":
                        totals["fail"] += 1
                        per_config[config]["fail"] += 1

    out = []
    w = out.append
    w("# wipc reliability and security results")
    w("")
    w(f"Generated by `docs/gen_reliability.py` from the logs of a test run ({datetime.date.today().isoformat()}); "
      "regenerate with `scripts/test-reliability --update-docs` (after `scripts/test` for the `linux` and `wine` columns).")
    w("Every row is a case of the reliability suite (`c-tests/test_fault*.c`, `test_load*.c`, `test_security*.c`, "
      "`python-tests/test_*_processes.py`, `test_security_posix.py`, `test_hardening_posix.py`, `fuzz/`) that printed a `RELIABILITY|...` line; "
      "a column is one configuration in which it ran.")
    w("")
    w("## Totals")
    w("")
    w("| | all runs | " + " | ".join(configs) + " |")
    w("|---|---:|" + "---:|" * len(configs))
    for label, key in (("faults injected", "faults"), ("bad inputs tried", "inputs"),
                       ("messages moved under load", "moved"), ("messages lost", "lost"), ("cases failed", "fail")):
        w(f"| {label} | {totals[key]:,} | " + " | ".join(f"{per_config[c][key]:,}" for c in configs) + " |")
    w("")
    w("Configurations:")
    w("")
    for c in configs:
        w(f"- **{c}**: {CONFIG_TEXT.get(c, c)}")
    w("")

    w("Scope and limits:")
    w("")
    for line in SCOPE:
        w(f"- {line}")
    w("")
    w("## Hardening: the rules and the attacks")
    w("")
    w("A buggy or hostile process of the same user - the only kind the OS lets reach a wipc endpoint - can make its own "
      "calls fail, never crash, flood or starve another wipc process. The rules the fixes come from "
      "(also in `include/wipc.h`):")
    w("")
    for line in HARDENING_RULES:
        w(f"- {line}")
    w("")
    w("| item | attack | Linux | Windows |")
    w("|---|---|---|---|")
    for item, attack, lin, win in HARDENING_ATTACKS:
        w(f"| {item} | {attack} | {lin} | {win} |")
    w("")

    def cat_rank(k):
        return (CATEGORY_ORDER.index(k[0]) if k[0] in CATEGORY_ORDER else 99, k[1], k[2])

    for category in CATEGORY_ORDER + sorted({k[0] for k in table} - set(CATEGORY_ORDER)):
        keys = sorted((k for k in table if k[0] == category), key=cat_rank)
        if not keys:
            continue
        cols = [c for c in configs if any(table[k]["results"].get(c) for k in keys)]
        w(f"## {category}")
        w("")
        w("| transport | case | " + " | ".join(cols) + " | details (first configuration that ran it) |")
        w("|---|---|" + "---|" * len(cols) + "---|")
        for k in keys:
            cell = table[k]
            res = []
            for c in cols:
                r = cell["results"].get(c)
                if not r:
                    res.append("")
                elif all(x == r[0] for x in r):
                    res.append(r[0] + (f" x{len(r)}" if len(r) > 1 else ""))
                else:
                    res.append("/".join(r))
            src = next((c for c in DETAIL_ORDER if c in cell["kv"]), next(iter(cell["kv"]), None))
            kv = cell["kv"].get(src, {}) if src else {}
            details = (f"({src}) " if src else "") + ", ".join(f"{kk}={vv}" for kk, vv in kv.items())
            w(f"| {k[1]} | {k[2]} | " + " | ".join(res) + f" | {details} |")
        w("")
    if other:
        w("## Fault and bad-input cases of the other suites")
        w("")
        w("The cmocka cases of the transport suites whose names say they inject a fault or feed bad input, "
          "and every case that failed (FAILED also when its process died: a sanitizer report stops it), with their "
          "verdicts in the logs of this run.")
        w("")
        cols = [c for c in configs if any(c in v for v in other.values())]
        w("| suite | case | " + " | ".join(cols) + " |")
        w("|---|---|" + "---|" * len(cols))
        for (suite, case), v in sorted(other.items()):
            w(f"| {suite} | {case} | " + " | ".join(v.get(c, "") for c in cols) + " |")
        w("")
    Path(a.out).write_text("\n".join(out) + "\n")
    print(f"gen_reliability: {a.out}: {totals['rows']} results; faults injected {totals['faults']:,}, "
          f"bad inputs tried {totals['inputs']:,}, messages moved under load {totals['moved']:,}, "
          f"messages lost {totals['lost']:,}, failed {totals['fail']}")
    return 1 if totals["lost"] or totals["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
