#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sweep-removed.sh - the fault sweep (sweep.sh) again, with the token pulled out: from the
# injection point on every call fails with CKR_DEVICE_REMOVED, the cleanup
# calls too.  What is promised here: no crash, a documented error, a
# consistent token, and that the next run repairs and finishes what was cut
# short.  No rollback is promised, as the calls that would take back a
# half-done write fail as well: the sweep counts the points that were
# rolled back anyway and those left for the re-run (P11FAULT_ROLLBACK=counted).
P11FAULT_RV=CKR_DEVICE_REMOVED
P11FAULT_PERSIST=1
P11FAULT_ROLLBACK=counted
export P11FAULT_RV P11FAULT_PERSIST P11FAULT_ROLLBACK
exec sh "${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fault/sweep.sh"
