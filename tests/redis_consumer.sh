#!/usr/bin/env bash
# Example: two sensors and one reader through a Redis stream and a consumer
# group (docs/outputs.md, "Redis: many sensors, one place").  Runnable as it is:
#
#   CERTSENTRY=./certsentry bash tests/redis_consumer.sh
#
# It starts its own redis-server on a Unix socket in a temporary directory
# (removed at the end), creates the consumer group "sensors" on the stream
# certsentry-stream, runs two certsentry processes at once - two "sensors",
# each reading its own capture - with --redis-mode stream, then reads the
# stream as consumer reader1 of the group, 100 entries at a time, and
# acknowledges (XACK) what it read.  It prints how many events each sensor
# contributed (told apart here by the capture they read, EVE's
# pcap_filename) and what is left pending.  Exit status 0 when every entry
# was read and acknowledged.  tests/t_redis.sh runs it.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
rules=pcaps/test.rules
key=certsentry-stream
sensor_a=pcaps/multi.pcap
sensor_b=pcaps/fina-rogue-doh.pcap

tmp=$(mktemp -d)
sock=$tmp/redis.sock
redis-server --port 0 --unixsocket "$sock" --dir "$tmp" --save '' --appendonly no \
	--daemonize no > "$tmp/redis.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
r() { redis-cli -s "$sock" "$@"; }
for _ in $(seq 200); do
	[ "$(r PING 2>/dev/null)" = PONG ] && break
	sleep 0.025
done

# The group first, at the stream's end ($): it gets every entry added from
# now on.  MKSTREAM creates the stream if no sensor has written yet.
r XGROUP CREATE "$key" sensors '$' MKSTREAM > /dev/null

# Two sensors at once.  Exit status 1 means "alerts found", not a failure.
for pcap in "$sensor_a" "$sensor_b"; do
	"$bin" -q -R "$rules" -r "$pcap" --output-type redis -o "$sock" --redis-mode stream \
		--redis-key "$key" &
done
status=0
for job in $(jobs -p); do
	[ "$job" = "$server" ] && continue
	wait "$job"; rc=$?
	[ "$rc" -le 1 ] || { echo "a sensor failed (exit $rc)"; status=1; }
done

# The reader: ">" asks for entries never delivered to this group.  Raw
# redis-cli output is one value a line: the stream's name, then for each
# entry its id, the field name "event" and the EVE object.
read_total=0
acked=0
: > "$tmp/events"
while :; do
	r XREADGROUP GROUP sensors reader1 COUNT 100 STREAMS "$key" '>' > "$tmp/batch"
	ids=$(grep -E '^[0-9]+-[0-9]+$' "$tmp/batch")
	[ -n "$ids" ] || break
	grep '^{' "$tmp/batch" >> "$tmp/events"
	read_total=$((read_total + $(printf '%s\n' "$ids" | wc -l)))
	# shellcheck disable=SC2086
	acked=$((acked + $(r XACK "$key" sensors $ids)))
done

for pcap in "$sensor_a" "$sensor_b"; do
	n=$(grep -c "\"pcap_filename\":\"$pcap\"" "$tmp/events")
	a=$(grep "\"pcap_filename\":\"$pcap\"" "$tmp/events" | grep -c '"event_type":"alert"')
	echo "sensor $pcap: $n events ($a alerts)"
done
pending=$(r XPENDING "$key" sensors | head -1)
echo "reader1: read $read_total, acknowledged $acked, pending $pending"
[ "$read_total" -eq "$acked" ] && [ "$pending" -eq 0 ] || status=1
exit "$status"
