#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/jumbo.sh - the data-path test with jumbo frames: the client at
# MTU 9000, the balancer, bridge and backends at 9100 (room for the outer
# header). Uploads send 9000-byte segments, which XDP sees as multi-buffer
# frames (more than fits a page): xlb must attach natively and forward
# them whole, and the backends' decap must strip them.
export LAB_MTU=9100
export LAB_CLIENT_MTU=9000
export DP_CASES="v4-ipip v6-ipip v4-in-v6 v6-in-v4"
export DP_CLIENTS=${DP_CLIENTS:-50}
exec bash "$(dirname "$0")/datapath.sh"
