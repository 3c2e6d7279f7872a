#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/pmtu.sh - the data-path test with no MTU headroom toward the
# backends (1500 everywhere): encapsulated full-size packets do not fit, so
# xlb must answer with ICMP too-big and the clients' uploads must still
# succeed through path-MTU discovery. l2dsr needs no headroom; ipip does.
export LAB_MTU=1500
export DP_CASES="v4-ipip v6-ipip v4-in-v6 v6-in-v4"
export DP_CLIENTS=${DP_CLIENTS:-50}
exec bash "$(dirname "$0")/datapath.sh"
