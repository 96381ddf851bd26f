#!/bin/sh
# log-order.sh: an example herald exec action; copy it as the template for your own.
#
# Config:
#   [plugins.exec.order_log]
#   command = "plugins/exec/examples/log-order.sh"
#   env = { ORDER_LOG = "/var/lib/shop/orders.log" }
# Rule action:
#   { plugin = "order_log", args = ["{{order_id}}"] }
#
# What herald gives the script:
#   stdin        the event as JSON (type, order_id, customer, amount, data, raw, shop, ...)
#   $1, $2, ...  the instance's fixed `args`, then the action's rendered `args`
#   environment  only PATH, HOME, LANG, the instance's `env`, and HERALD_IDEMPOTENCY_KEY,
#                HERALD_EVENT_ID, HERALD_EVENT_TYPE, HERALD_RULE, HERALD_ATTEMPT
#   working dir  this script's folder (so a relative ORDER_LOG lands next to it)
#
# What herald does with the exit status:
#   0 done; 75 (EX_TEMPFAIL) retry later with backoff; anything else fails for good.
#   The end of stderr (or of stdout) is kept in the attempt record, so say why you failed.
#
# A job can run more than once (a retry after a timeout, say), so anything with a side
# effect must be idempotent: remember HERALD_IDEMPOTENCY_KEY and skip keys already done.

set -u

log="${ORDER_LOG:-orders.log}"
order="${1:--}"
key="${HERALD_IDEMPOTENCY_KEY:?not set; this script is meant to be run by herald}"

# Read the whole event even if unused: a real action would parse it, e.g. with
# `printf '%s' "$event" | jq -r .customer.email`.
event=$(cat)
: "$event"

# Already done? The key is the last field of every line; compare it exactly (grep -x -F),
# so `...:1` never matches `...:10`. herald runs one job at a time, so check-then-append
# is enough here; use flock(1) if other writers share the file.
if [ -f "$log" ] && awk '{ print $NF }' "$log" | grep -qxF -- "key=$key"; then
    echo "already logged $key"
    exit 0
fi

line="$(date -u +%Y-%m-%dT%H:%M:%SZ) ${HERALD_EVENT_TYPE:-?} ${HERALD_EVENT_ID:-?} order=$order key=$key"
if ! printf '%s\n' "$line" >>"$log"; then
    # A full disk or a missing folder can be fixed, so ask herald to try again later.
    echo "cannot append to $log" >&2
    exit 75
fi
