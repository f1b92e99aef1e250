# Sourced by the tests that capture live (t_tls13.sh, t_quic.sh): two
# network namespaces joined by a veth pair, made and removed by the test,
# so that traffic stays inside them.  Needs root.

# netns_pair TAG: namespaces TAGa and TAGb, the veth ends TAGx (in TAGa) and
# TAGy (in TAGb), both up with MTU 9000 (replayed frames may be larger than
# 1500).  Returns non-zero when any step fails.
netns_pair() {
	ip netns add "${1}a" && ip netns add "${1}b" &&
		ip link add "${1}x" type veth peer name "${1}y" &&
		ip link set "${1}x" netns "${1}a" && ip link set "${1}y" netns "${1}b" &&
		ip -n "${1}a" link set "${1}x" mtu 9000 up && ip -n "${1}b" link set "${1}y" mtu 9000 up
}

# netns_pair_del TAG: remove both namespaces (and the veth pair with them).
netns_pair_del() {
	ip netns del "${1}a" 2>/dev/null
	ip netns del "${1}b" 2>/dev/null
}
