/*
 * test_flow.c - the flow table: symmetric keys, SipHash, LRU, idle expiry.
 *
 * The table is created with a fixed seed so hashes are reproducible; the
 * hash is checked against a reference SipHash-2-4 written here from the
 * paper (and checked against the paper's own test vectors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/flow.h"
#include "core/stats.h"

static const uint8_t SEED[16] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

#define ID_MAX (1ULL << 53)

static struct cs_limits lim;
static struct flow_table *tab;

/* ---- reference SipHash-2-4 (Aumasson, Bernstein 2012) ------------------- */

static uint64_t ref_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t ref_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void ref_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ref_rotl(v[1], 13); v[1] ^= v[0]; v[0] = ref_rotl(v[0], 32);
	v[2] += v[3]; v[3] = ref_rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ref_rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ref_rotl(v[1], 17); v[1] ^= v[2]; v[2] = ref_rotl(v[2], 32);
}

static uint64_t ref_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = ref_le64(key), k1 = ref_le64(key + 8), m;
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	uint8_t last[8] = { 0 };
	size_t i;

	for (i = 0; len - i >= 8; i += 8) {
		m = ref_le64(in + i);
		v[3] ^= m;
		ref_round(v);
		ref_round(v);
		v[0] ^= m;
	}
	memcpy(last, in + i, len - i);
	last[7] = (uint8_t)len;
	m = ref_le64(last);
	v[3] ^= m;
	ref_round(v);
	ref_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		ref_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- helpers ------------------------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	memset(&g_stats, 0, sizeof(g_stats));
	cs_limits_default(&lim);
	lim.max_flows = 1000;
	lim.flow_timeout = 120;
	tab = flow_table_new(&lim, SEED);
	assert_non_null(tab);
	return 0;
}

/* Pops and frees whatever a test left, then frees the table. */
static int teardown(void **state)
{
	struct flow *f;

	(void)state;
	while ((f = flow_pop_idle(tab, UINT64_MAX)) != NULL)
		free(f);
	assert_int_equal(flow_table_count(tab), 0);
	flow_table_free(tab);
	tab = NULL;
	return 0;
}

static struct pkt pkt4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	p.proto = 6;   /* TCP */
	p.src[0] = (uint8_t)(src >> 24);
	p.src[1] = (uint8_t)(src >> 16);
	p.src[2] = (uint8_t)(src >> 8);
	p.src[3] = (uint8_t)src;
	p.dst[0] = (uint8_t)(dst >> 24);
	p.dst[1] = (uint8_t)(dst >> 16);
	p.dst[2] = (uint8_t)(dst >> 8);
	p.dst[3] = (uint8_t)dst;
	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct pkt reverse(const struct pkt *p)
{
	struct pkt r = *p;

	memcpy(r.src, p->dst, 16);
	memcpy(r.dst, p->src, 16);
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

#define CLIENT 0xc000020au   /* 192.0.2.10 */
#define SERVER 0xc6336414u   /* 198.51.100.20 */

static struct flow *lookup(const struct pkt *p, int create, int *side, int *created)
{
	return flow_lookup(tab, p, create, side, created);
}

static struct flow *create(const struct pkt *p)
{
	int side, created;
	struct flow *f = lookup(p, 1, &side, &created);

	assert_non_null(f);
	assert_int_equal(created, 1);
	return f;
}

/* ---- tests -------------------------------------------------------------- */

static void test_reference_siphash_vectors(void **state)
{
	uint8_t msg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	/* SipHash paper, Appendix A, and its vectors.h */
	assert_int_equal(ref_siphash(SEED, msg, 0), 0x726fdb47dd0e0e31ULL);
	assert_int_equal(ref_siphash(SEED, msg, 15), 0xa129ca6149be45e5ULL);
	assert_int_equal(ref_siphash(SEED, msg, 63), 0x958a324ceb064572ULL);
}

static void test_both_directions_one_flow(void **state)
{
	struct pkt c2s = pkt4(CLIENT, SERVER, 49152, 443), s2c = reverse(&c2s);
	struct flow *f, *g;
	int side_c, side_s, created;
	static const uint8_t zero[12];

	(void)state;
	c2s.ts_us = 1000;
	f = lookup(&c2s, 1, &side_c, &created);
	assert_non_null(f);
	assert_int_equal(created, 1);
	g = lookup(&s2c, 1, &side_s, &created);
	assert_ptr_equal(g, f);
	assert_int_equal(created, 0);
	assert_int_not_equal(side_c, side_s);
	/* The lower endpoint (192.0.2.10) is side 0. */
	assert_int_equal(side_c, 0);
	assert_int_equal(side_s, 1);
	assert_int_equal(f->key.family, 4);
	assert_int_equal(f->key.proto, 6);
	assert_int_equal(f->key.n_vlan, 0);
	assert_memory_equal(f->key.addr[0], c2s.src, 4);
	assert_memory_equal(f->key.addr[1], c2s.dst, 4);
	assert_memory_equal(f->key.addr[0] + 4, zero, 12);
	assert_memory_equal(f->key.addr[1] + 4, zero, 12);
	assert_int_equal(f->key.port[0], 49152);
	assert_int_equal(f->key.port[1], 443);
	assert_int_equal(flow_table_count(tab), 1);

	/* Looked up without create, from either side. */
	assert_ptr_equal(lookup(&c2s, 0, &side_c, &created), f);
	assert_int_equal(side_c, 0);
	assert_int_equal(created, 0);
	assert_ptr_equal(lookup(&s2c, 0, &side_s, &created), f);
	assert_int_equal(side_s, 1);
	assert_int_equal(flow_table_count(tab), 1);
	assert_int_equal(g_stats.flows_total, 0);   /* the engine counts, not the table */
}

/* Same address on both ends: the port decides the side. */
static void test_same_address_port_decides_side(void **state)
{
	struct pkt a = pkt4(0x7f000001, 0x7f000001, 50000, 443), b = reverse(&a);
	struct flow *f;
	int sa, sb, created;

	(void)state;
	f = lookup(&a, 1, &sa, &created);
	assert_non_null(f);
	assert_ptr_equal(lookup(&b, 1, &sb, &created), f);
	assert_int_equal(created, 0);
	assert_int_equal(sa, 1);      /* 50000 > 443 */
	assert_int_equal(sb, 0);
	assert_int_equal(f->key.port[0], 443);
	assert_int_equal(f->key.port[1], 50000);
	/* Same address, swapped ports are the same connection seen backwards,
	 * but another port pair is another flow. */
	a.sport = 50001;
	assert_null(lookup(&a, 0, &sa, &created));
}

/* The transport is part of the key: the same addresses and ports over UDP
 * (a QUIC connection beside an HTTPS one) are another flow, found from
 * either side, and the TCP one is still found. */
static void test_proto_in_key(void **state)
{
	struct pkt t = pkt4(CLIENT, SERVER, 49152, 443), u = t, ur;
	struct flow *ft, *fu;
	int side, created;

	(void)state;
	u.proto = 17;   /* UDP */
	ur = reverse(&u);
	ft = lookup(&t, 1, &side, &created);
	assert_non_null(ft);
	assert_null(lookup(&u, 0, &side, &created));
	fu = lookup(&u, 1, &side, &created);
	assert_non_null(fu);
	assert_int_equal(created, 1);
	assert_ptr_not_equal(fu, ft);
	assert_int_equal(fu->key.proto, 17);
	assert_ptr_equal(lookup(&ur, 0, &side, &created), fu);
	assert_int_equal(side, 1);
	assert_ptr_equal(lookup(&t, 0, &side, &created), ft);
	assert_int_equal(flow_table_count(tab), 2);
}

/* What the table hashes: the key's family, proto, VLANs and ports (with their
 * zeroed padding), then each address at its family's length. */
static uint64_t ref_key_hash(const uint8_t seed[16], const struct flow_key *k)
{
	uint8_t b[sizeof(*k)];
	size_t n = offsetof(struct flow_key, addr), alen = k->family == 4 ? 4 : 16;

	memcpy(b, k, n);
	memcpy(b + n, k->addr[0], alen);
	memcpy(b + n + alen, k->addr[1], alen);
	return ref_siphash(seed, b, n + 2 * alen);
}

static void test_id_and_hash(void **state)
{
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443), r = reverse(&p);
	struct flow *f;
	uint64_t ids[64];
	int side, created;

	(void)state;
	for (int i = 0; i < 64; i++) {
		p.sport = (uint16_t)(40000 + i);
		r = reverse(&p);
		f = create(&p);
		assert_ptr_equal(lookup(&r, 0, &side, &created), f);
		assert_true(flow_id(f) < ID_MAX);
		assert_int_equal(flow_id(f), f->hash & (ID_MAX - 1));
		assert_int_equal(f->hash, ref_key_hash(SEED, &f->key));
		ids[i] = flow_id(f);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ids[j], ids[i]);
	}
	assert_int_equal(flow_table_count(tab), 64);
}

/* Another seed gives other hashes for the same connection. */
static void test_seed_changes_hash(void **state)
{
	static const uint8_t seed2[16] = { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	                                   0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00 };
	struct flow_table *t2 = flow_table_new(&lim, seed2);
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443);
	struct flow *f, *g;
	int side, created;

	(void)state;
	assert_non_null(t2);
	f = create(&p);
	g = flow_lookup(t2, &p, 1, &side, &created);
	assert_non_null(g);
	assert_memory_equal(&f->key, &g->key, sizeof(f->key));
	assert_int_not_equal(f->hash, g->hash);
	assert_int_equal(g->hash, ref_key_hash(seed2, &g->key));
	assert_ptr_equal(flow_pop_idle(t2, UINT64_MAX), g);
	free(g);
	flow_table_free(t2);
}

static void test_vlan_separates_flows(void **state)
{
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443), r;
	struct flow *none, *v10, *v20, *qinq;
	int side, created;

	(void)state;
	none = create(&p);
	p.n_vlan = 1;
	p.vlan[0] = 10;
	v10 = create(&p);
	p.vlan[0] = 20;
	v20 = create(&p);
	p.n_vlan = 2;
	p.vlan[0] = 10;
	p.vlan[1] = 20;
	qinq = create(&p);
	assert_ptr_not_equal(none, v10);
	assert_ptr_not_equal(v10, v20);
	assert_ptr_not_equal(v20, qinq);
	assert_int_equal(flow_table_count(tab), 4);
	/* Reverse direction on the same VLANs finds the same flow. */
	r = reverse(&p);
	assert_ptr_equal(lookup(&r, 0, &side, &created), qinq);
	p.n_vlan = 1;
	p.vlan[0] = 20;
	p.vlan[1] = 0;
	r = reverse(&p);
	assert_ptr_equal(lookup(&r, 0, &side, &created), v20);
	assert_int_equal(v20->key.n_vlan, 1);
	assert_int_equal(v20->key.vlan[0], 20);
}

static void test_ipv6_key(void **state)
{
	struct pkt p, r, p4;
	struct flow *f, *g, *h;
	int side, side_r, created;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.family = 6;
	memcpy(p.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	memcpy(p.dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	p.sport = 443;
	p.dport = 40000;
	f = lookup(&p, 1, &side, &created);
	assert_non_null(f);
	assert_int_equal(created, 1);
	assert_int_equal(side, 1);    /* ::2 > ::1 */
	assert_int_equal(f->key.family, 6);
	assert_memory_equal(f->key.addr[0], p.dst, 16);
	assert_memory_equal(f->key.addr[1], p.src, 16);
	assert_int_equal(f->key.port[0], 40000);
	assert_int_equal(f->key.port[1], 443);
	r = reverse(&p);
	assert_ptr_equal(lookup(&r, 1, &side_r, &created), f);
	assert_int_equal(created, 0);
	assert_int_equal(side_r, 0);

	/* Differing only in the last address byte: another flow. */
	p.dst[15] = 3;
	g = create(&p);
	assert_ptr_not_equal(g, f);

	/* An IPv4 flow whose 4 address bytes equal the IPv6 prefix is not it. */
	p4 = p;
	p4.family = 4;
	memset(p4.src + 4, 0, 12);
	memset(p4.dst + 4, 0, 12);
	h = create(&p4);
	assert_ptr_not_equal(h, f);
	assert_ptr_not_equal(h, g);
	assert_int_equal(flow_table_count(tab), 3);
}

static void test_new_flow_initial_fields(void **state)
{
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443);
	struct flow *f;

	(void)state;
	p.ts_us = 1700000000123456ull;
	f = create(&p);
	assert_int_equal(f->first_ts, 1700000000123456ull);
	assert_int_equal(f->last_ts, 1700000000123456ull);
	assert_int_equal(f->state, FLOW_HANDSHAKE);
	assert_int_equal(f->client, -1);
	assert_int_equal(f->syn_side_seen, 0);
	assert_int_equal(f->sides, 0);
	assert_int_equal(f->wscale[0], FLOW_WSCALE_NONE);
	assert_int_equal(f->wscale[1], FLOW_WSCALE_NONE);
	assert_int_equal(f->pkts[0] + f->pkts[1] + f->bytes[0] + f->bytes[1], 0);
	assert_null(f->hs);
}

static void test_table_full(void **state)
{
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443);
	struct flow *f[4], *x;
	int side, created;

	(void)state;
	flow_table_free(tab);
	lim.max_flows = 4;
	tab = flow_table_new(&lim, SEED);
	assert_non_null(tab);
	for (int i = 0; i < 4; i++) {
		assert_false(flow_table_full(tab));
		p.sport = (uint16_t)(50000 + i);
		f[i] = create(&p);
		assert_int_equal(flow_table_count(tab), (size_t)i + 1);
	}
	assert_true(flow_table_full(tab));
	p.sport = 50004;
	created = 7;
	assert_null(lookup(&p, 1, &side, &created));
	assert_int_equal(created, 0);
	assert_int_equal(flow_table_count(tab), 4);
	/* Existing flows are still found while full, with create too. */
	p.sport = 50002;
	assert_ptr_equal(lookup(&p, 1, &side, &created), f[2]);
	assert_int_equal(created, 0);

	/* Room after one leaves. */
	x = flow_pop_idle(tab, UINT64_MAX);
	assert_ptr_equal(x, f[0]);
	free(x);
	assert_false(flow_table_full(tab));
	p.sport = 50004;
	create(&p);
	assert_true(flow_table_full(tab));
	assert_int_equal(flow_table_count(tab), 4);
}

static void test_lru_touch_order(void **state)
{
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443);
	struct flow *f[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		p.sport = (uint16_t)(50000 + i);
		p.ts_us = (uint64_t)i + 1;
		f[i] = create(&p);
	}
	flow_touch(tab, f[0], 10);
	flow_touch(tab, f[2], 11);
	flow_touch(tab, f[2], 12);     /* already the tail */
	assert_int_equal(f[0]->last_ts, 10);
	assert_int_equal(f[2]->last_ts, 12);
	assert_int_equal(f[0]->first_ts, 1);
	/* Oldest first: 1, 3, 0, 2. */
	assert_ptr_equal(flow_pop_idle(tab, UINT64_MAX), f[1]);
	assert_int_equal(flow_table_count(tab), 3);
	assert_ptr_equal(flow_pop_idle(tab, UINT64_MAX), f[3]);
	assert_ptr_equal(flow_pop_idle(tab, UINT64_MAX), f[0]);
	assert_ptr_equal(flow_pop_idle(tab, UINT64_MAX), f[2]);
	assert_int_equal(flow_table_count(tab), 0);
	assert_null(flow_pop_idle(tab, UINT64_MAX));
	for (int i = 0; i < 4; i++)
		free(f[i]);
}

static void test_touch_never_moves_time_back(void **state)
{
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443);
	struct flow *f;

	(void)state;
	p.ts_us = 5000000;
	f = create(&p);
	flow_touch(tab, f, 4000000);
	assert_int_equal(f->last_ts, 5000000);
	flow_touch(tab, f, 6000000);
	assert_int_equal(f->last_ts, 6000000);
}

static void test_pop_idle_timeout(void **state)
{
	const uint64_t t0 = 1700000000000000ull, to = 120ull * 1000000;
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443);
	struct flow *a, *b, *x;
	int side, created;

	(void)state;
	p.ts_us = t0;
	a = create(&p);
	p.sport = 49153;
	p.ts_us = t0 + 1000000;
	b = create(&p);

	assert_null(flow_pop_idle(tab, t0));
	assert_null(flow_pop_idle(tab, t0 - 1));          /* clock went back */
	assert_null(flow_pop_idle(tab, t0 + to));         /* exactly the timeout */
	assert_int_equal(flow_table_count(tab), 2);
	x = flow_pop_idle(tab, t0 + to + 1);
	assert_ptr_equal(x, a);
	free(x);
	/* b is 1 s younger: not yet. */
	assert_null(flow_pop_idle(tab, t0 + to + 1));
	/* Activity postpones expiry. */
	flow_touch(tab, b, t0 + 100000000);
	assert_null(flow_pop_idle(tab, t0 + 1000000 + to + 1));
	x = flow_pop_idle(tab, t0 + 100000000 + to + 1);
	assert_ptr_equal(x, b);
	free(x);
	assert_int_equal(flow_table_count(tab), 0);
	p.sport = 49152;
	assert_null(lookup(&p, 0, &side, &created));
	assert_null(flow_pop_idle(tab, UINT64_MAX));

	/* Another timeout from the limits. */
	flow_table_free(tab);
	lim.flow_timeout = 5;
	tab = flow_table_new(&lim, SEED);
	assert_non_null(tab);
	p.ts_us = t0;
	a = create(&p);
	assert_null(flow_pop_idle(tab, t0 + 5000000));
	x = flow_pop_idle(tab, t0 + 5000001);
	assert_ptr_equal(x, a);
	free(x);
}

static void test_unlink_then_lookup(void **state)
{
	struct pkt p = pkt4(CLIENT, SERVER, 49152, 443), r = reverse(&p);
	struct flow *f, *g;
	int side, created;

	(void)state;
	f = create(&p);
	p.sport = 49153;
	g = create(&p);
	p.sport = 49152;
	flow_unlink(tab, f);
	assert_int_equal(flow_table_count(tab), 1);
	assert_null(lookup(&p, 0, &side, &created));
	assert_null(lookup(&r, 0, &side, &created));
	/* The LRU no longer holds it either. */
	assert_ptr_equal(flow_pop_idle(tab, UINT64_MAX), g);
	assert_null(flow_pop_idle(tab, UINT64_MAX));
	free(f);
	free(g);
	/* A new packet of the connection makes a new flow. */
	f = lookup(&p, 1, &side, &created);
	assert_non_null(f);
	assert_int_equal(created, 1);
	assert_int_equal(flow_table_count(tab), 1);
}

/* Many flows, so buckets hold chains: unlink every other one (heads,
 * middles and tails of chains) and check the rest are intact. */
static void test_unlink_many_chains(void **state)
{
	enum { N = 3000 };
	static struct flow *f[N];
	struct pkt p = pkt4(CLIENT, SERVER, 0, 443), r;
	int side, created;
	size_t count = N;

	(void)state;
	flow_table_free(tab);
	lim.max_flows = N;    /* 4096 buckets: chains are certain */
	tab = flow_table_new(&lim, SEED);
	assert_non_null(tab);
	for (int i = 0; i < N; i++) {
		p.sport = (uint16_t)(10000 + i);
		p.ts_us = (uint64_t)i;
		f[i] = create(&p);
	}
	assert_int_equal(flow_table_count(tab), N);
	for (int i = N - 1; i >= 0; i -= 2) {
		flow_unlink(tab, f[i]);
		free(f[i]);
		f[i] = NULL;
		assert_int_equal(flow_table_count(tab), --count);
	}
	for (int i = 0; i < N; i++) {
		p.sport = (uint16_t)(10000 + i);
		r = reverse(&p);
		if (f[i]) {
			assert_ptr_equal(lookup(&p, 0, &side, &created), f[i]);
			assert_ptr_equal(lookup(&r, 0, &side, &created), f[i]);
		} else {
			assert_null(lookup(&r, 0, &side, &created));
		}
	}
	/* The LRU still yields the survivors oldest first. */
	for (int i = 0; i < N; i += 2) {
		struct flow *x = flow_pop_idle(tab, UINT64_MAX);

		assert_ptr_equal(x, f[i]);
		free(x);
	}
	assert_int_equal(flow_table_count(tab), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reference_siphash_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_directions_one_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_address_port_decides_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_and_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_changes_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_separates_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_flow_initial_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_touch_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_touch_never_moves_time_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pop_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink_then_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink_many_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proto_in_key, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
