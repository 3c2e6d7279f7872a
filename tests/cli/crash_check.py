#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""tests/cli/crash_check.py - is the state xlb shows whole and live?

Usage: crash_check.py PIN_DIR XLB_CMD... (the command line up to xlb's options).

Checks, for every VIP that `xlb -j vip show` lists:
  - the data path's entry (xlb_vips, read with bpftool) is the one the
    record names: same id and generation;
  - every backend's xlb_state entry is the state vip show prints;
  - `xlb -j table VIP` lists the same backends and states;
  - if a backend is up, some slot's primary or secondary is up (no black
    hole), and every slot names a listed backend;
  - `xlb -j lookup VIP CLIENT...` answers with listed backends;
  - no xlb_backends entry is in use by an id that no VIP lists (ghosts).
Prints one line per problem and exits 1 if there is any.
"""
import json
import subprocess
import sys

pin = sys.argv[1]
xlb = sys.argv[2:] + ["--pin-dir", pin, "-j"]
problems = []


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        problems.append("%s: exit %d: %s" % (" ".join(cmd[-3:]), r.returncode,
                                               r.stderr.strip()))
        return None
    return json.loads(r.stdout)


def dump(name):
    out = run(["bpftool", "-j", "map", "dump", "pinned", "%s/%s" % (pin, name)])
    return out or []


def u32(v):
    # bpftool prints a __u32 value as a number when it has BTF.
    return int(v) if not isinstance(v, list) else int.from_bytes(
        bytes(int(b, 16) for b in v[:4]), "little")


vips = run(xlb + ["vip", "show"]) or []
live = {}
for e in dump("xlb_vips"):
    f = e.get("formatted", e)
    k, v = f["key"], f["value"]
    if v["flags"] & 1:
        continue  # fragment alias
    live[(k["port"], k["proto"], tuple(k["addr"]))] = v
states = {}
for e in dump("xlb_state"):
    f = e.get("formatted", e)
    states[u32(f["key"])] = u32(f["value"])
used = set()
for e in dump("xlb_backends"):
    f = e.get("formatted", e)
    if f["value"]["flags"] & 1:
        used.add(u32(f["key"]))

NAMES = {1: "up", 2: "down", 3: "drain"}
listed = set()
for v in vips:
    name = v["vip"]
    ids = {b["id"] for b in v["backends"]}
    listed |= ids
    matches = [e for e in live.values() if e["id"] == v["id"]]
    if len(matches) != 1:
        problems.append("%s: %d data-path entries with id %d" %
                        (name, len(matches), v["id"]))
    elif matches[0]["generation"] != v["generation"]:
        problems.append("%s: data path at generation %d, record at %d" %
                        (name, matches[0]["generation"], v["generation"]))
    for b in v["backends"]:
        have = NAMES.get(states.get(b["id"]), "none")
        if have != b["state"] and not (have == "down" and b["state"] == "up"):
            problems.append("%s: backend %s is %s in the data path, %s in "
                            "vip show" % (name, b["addr"], have, b["state"]))
    t = run(xlb + ["table", name])
    if t is None:
        continue
    addrs = [b["addr"] for b in v["backends"]]
    if sorted(t["backends"]) != sorted(addrs):
        problems.append("%s: table lists %d backends, vip show %d" %
                        (name, len(t["backends"]), len(addrs)))
        continue
    up = {i for i, s in enumerate(t["state"]) if s == "up"}
    n = len(t["backends"])
    usable = 0
    for p, s in zip(t["primary"], t.get("secondary", t["primary"])):
        if (p is not None and p >= n) or (s is not None and s >= n):
            problems.append("%s: a slot names backend index %s of %d" %
                            (name, p, n))
            break
        usable += p in up or s in up
    if up and not usable:
        problems.append("%s: %d backends up, no usable slot" % (name, len(up)))
    clients = ["198.18.%d.%d" % (i // 250, 1 + i % 250) for i in range(20)]
    if ":" in name.split("]")[0] and name.startswith("["):
        clients = ["2001:db8:c::%x" % (i + 1) for i in range(20)]
    if not addrs:
        continue
    lk = run(xlb + ["lookup", name] + clients)
    for r in lk or []:
        if r.get("primary") is None and not up:
            continue  # no backend up: none to answer with
        if r.get("primary") not in addrs:
            problems.append("%s: lookup of %s answers %s, not a backend" %
                            (name, r.get("client"), r.get("primary")))
            break
ghosts = used - listed
if ghosts:
    problems.append("%d backend ids in use that no VIP lists (e.g. %d)" %
                    (len(ghosts), min(ghosts)))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
