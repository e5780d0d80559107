#!/usr/bin/env bash
# What shared-memory accounting costs per request, in instructions.
#
# Builds poold twice (accounting in, and compiled out with make ACCT=0),
# runs each under valgrind --tool=callgrind with one worker, and sends N,
# then 2N, keep-alive requests (a read route, a write route, /healthz).
# The difference between the two runs is N requests' worth of work with
# start-up cancelled out; instructions are counted, not timed, so the
# figure is repeatable on a busy machine.  Prints both and the overhead.
#
#   tests/bench/accounting-cost.sh [N]     (default N = 3000)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-3000}

command -v valgrind >/dev/null || { echo "needs valgrind: sudo apt-get install -y valgrind" >&2; exit 1; }
make -s -j2 all >/dev/null
make -s -j2 ACCT=0 all >/dev/null

port_of() { grep -o '127.0.0.1:[0-9]*' "$1" | head -1 | cut -d: -f2; }

# run BIN with COUNT requests of each kind; print the worker's instructions
run() {
	local bin=$1 count=$2 dir port i master
	dir=$(mktemp -d /tmp/poold-acct-XXXXXX)
	port=$(( 20000 + RANDOM % 20000 ))
	cat > "$dir/poold.conf" <<CONF
listen = [ "127.0.0.1:$port" ];
workers = 1;
pidfile = "poold.pid";
shm_name = "/poold-acct-$$";
log = { file = "poold.log"; };
databases = ( { name = "main"; path = "a.db"; schema = "schema.sql"; pool = { size = 1; };
  checkpoint_interval_ms = 3600000; wal_limit_mb = 1024; } );
routes = (
  { method = "GET"; path = "/items/{id}"; db = "main";
    sql = "SELECT id, name FROM items WHERE id = :id"; result = "one"; },
  { method = "POST"; path = "/events"; db = "main";
    sql = "INSERT INTO events(item) VALUES (:item) RETURNING id"; result = "one"; }
);
CONF
	cat > "$dir/schema.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, item INTEGER);
INSERT OR IGNORE INTO items VALUES (1, 'one'), (2, 'two');
SQL
	valgrind --tool=callgrind --trace-children=yes \
		--callgrind-out-file="$dir/cg.%p" -q "$bin" -f -c "$dir/poold.conf" &
	master=$!
	for i in $(seq 1 600); do
		(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
		sleep 0.1
	done
	{
		exec 3<>/dev/tcp/127.0.0.1/$port
		for i in $(seq 1 "$count"); do
			printf 'GET /items/%d HTTP/1.1\r\nHost: x\r\n\r\n' $(( i % 2 + 1 ))
			printf 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"item":1}'
			printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
		done >&3
		printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
		cat <&3 >/dev/null
		exec 3<&-
	}
	kill -TERM $master
	wait $master || true
	# the worker is the process that served: the largest of the children
	local best=0 n f wf=
	for f in "$dir"/cg.*; do
		n=$(grep -m1 '^summary:' "$f" | awk '{print $2}')
		if [ "${n:-0}" -gt "$best" ]; then best=$n; wf=$f; fi
	done
	# and, inside it, what the accounting functions themselves cost
	acct=$( { callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$wf" 2>/dev/null || true; } |
		{ grep -E 'server/(stats|exec)\.c:(srv_stats_(request|job|queue_depth|bytes|accept|publish|pool_full|acquire_timeout)|srv_exec_account|srv_exec_gate_waited) \[' || true; } |
		awk '{ gsub(",", "", $1); s += $1 } END { print s + 0 }')
	rm -rf "$dir"
	echo "$best $acct"
}

declare -A per
for build in with:./server/poold without:build/noacct/server/poold; do
	name=${build%%:*} bin=${build#*:}
	read -r a acct_a < <(run "$bin" "$N")
	read -r b acct_b < <(run "$bin" $(( 2 * N )))
	per[$name]=$(( (b - a) / (3 * N) ))
	echo "accounting $name: $(( b - a )) instructions for $(( 3 * N )) requests: ${per[$name]} per request"
	[ "$name" = with ] && share=$(awk -v x="$acct_b" -v t="$b" 'BEGIN { printf "%.2f", x * 100 / t }')
done
awk -v w="${per[with]}" -v o="${per[without]}" \
	'BEGIN { printf "A/B: accounting costs %.2f%% instructions per request (%d vs %d)\n", (w - o) * 100 / o, w, o }'
echo "in-process: the accounting functions take ${share}% of the worker's instructions"
