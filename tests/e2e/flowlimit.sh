#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/flowlimit.sh - the data-path test as under a SYN flood: with
# new_flow_limit = 1, a CPU records one new flow a second and forwards the
# others unrecorded, by their tables. Connections, stickiness, lookup's
# predictions and a DOWN backend's failover must hold all the same.
export DP_NEW_FLOW_LIMIT=1
export DP_CASES="v4-ipip v6-ipip v4-udp"
export DP_CLIENTS=${DP_CLIENTS:-50}
exec bash "$(dirname "$0")/datapath.sh"
