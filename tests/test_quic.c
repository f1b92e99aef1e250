/*
 * test_quic.c - unit tests for QUIC packet protection
 * (sensor/secrets/quic_keys.c) and the QUIC packet layer
 * (sensor/transport/quic/quic.c).
 *
 * Expected values come from the RFCs, copied from their text: RFC 9001
 * Appendix A (v1) and RFC 9369 Appendix A (v2): keys (A.1), the client's
 * Initial unprotected and opened whole (A.2), the server's Initial (A.3),
 * the Retry and its integrity tag (A.4), ChaCha20-Poly1305 header
 * protection on a short header (A.5); RFC 9000 Appendix A.3's packet
 * number example.  Every byte of the long vectors was checked a second
 * way when they were copied: Python's cryptography package opened both
 * Initial packets of both versions from the hex below and gave the
 * payloads below (the AEAD tag fails on any wrong byte).  The packets
 * that the other tests build (tests/fuzz/quicbuild.h) are sealed with
 * quic_seal and protected by the sender's rules, written from the RFC.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cs_limits.h"
#include "core/stats.h"
#include "secrets/quic_keys.h"
#include "secrets/tls13.h"
#include "transport/quic.h"
#include "fuzz/quicbuild.h"

/* Hex to bytes, spaces allowed; returns the byte count. */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*h) {
		unsigned v;

		if (*h == ' ') {
			h++;
			continue;
		}
		assert_true(n < cap);
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[256];

	assert_int_equal(unhex(want, w, sizeof w), n);
	assert_memory_equal(got, w, n);
}

/* RFC 9001 A.2 / RFC 9369 A.2: the client's Destination Connection ID. */
#define DCID_HEX "8394c8f03e515708"
static const uint8_t dcid8[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

#define V1_CLIENT_INITIAL \
	"c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11" \
	"d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399" \
	"1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c" \
	"8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212" \
	"30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5" \
	"457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208" \
	"4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec" \
	"4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3" \
	"485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db" \
	"059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c" \
	"7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8" \
	"9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556" \
	"be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74" \
	"68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a" \
	"c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00" \
	"f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632" \
	"291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964" \
	"25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd" \
	"14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff" \
	"ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198" \
	"e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd" \
	"c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73" \
	"203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f" \
	"cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e" \
	"fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade" \
	"a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047" \
	"90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2" \
	"162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4" \
	"40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0" \
	"6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e" \
	"8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0" \
	"be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400" \
	"54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab" \
	"760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9" \
	"f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4" \
	"056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064" \
	"7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241" \
	"e221af44860018ab0856972e194cd934"

#define V2_CLIENT_INITIAL \
	"d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485" \
	"dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04" \
	"9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d" \
	"250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a" \
	"12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500" \
	"cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68" \
	"18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33" \
	"12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3" \
	"d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd" \
	"6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520" \
	"bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045" \
	"636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f" \
	"ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12" \
	"16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5" \
	"4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4" \
	"fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b" \
	"8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7" \
	"14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9" \
	"9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91" \
	"abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd" \
	"80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db" \
	"848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18" \
	"d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15" \
	"c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc" \
	"7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61" \
	"f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710" \
	"10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b" \
	"3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e" \
	"06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce" \
	"8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1" \
	"34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1" \
	"e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd" \
	"5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3" \
	"8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89" \
	"d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53" \
	"6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19" \
	"9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b" \
	"a18b2faa745b6fe189cf772a9f84cbfc"

#define CLIENT_CRYPTO_FRAME \
	"060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868" \
	"04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578" \
	"616d706c652e636f6dff01000100000a00080006001d00170018001000070005" \
	"04616c706e000500050100000000003300260024001d00209370b2c9caa47fba" \
	"baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400" \
	"0d0010000e0403050306030203080408050806002d00020101001c0002400100" \
	"3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000" \
	"75300901100f088394c8f03e51570806048000ffff"

#define SERVER_PAYLOAD \
	"02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739" \
	"88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94" \
	"0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00" \
	"020304"

#define V1_SERVER_INITIAL \
	"cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a" \
	"5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3" \
	"dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84" \
	"022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4" \
	"2158407dd074ee"

#define V2_SERVER_INITIAL \
	"dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698" \
	"baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17" \
	"f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2" \
	"c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8" \
	"4bed8521e2e140"

/* RFC 9001 A.4 / RFC 9369 A.4. */
#define V1_RETRY "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"
#define V2_RETRY "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6"
#define RETRY_SCID "f067a5502a4262b5"

static struct cs_limits lim;
static uint8_t pkt[65536];
static uint8_t pkt2[65536];

static int setup(void **state)
{
	(void)state;
	memset(&g_stats, 0, sizeof g_stats);
	cs_limits_default(&lim);
	return 0;
}

/* ---- A.1: keys ------------------------------------------------------ */

struct key_vec {
	uint32_t version;
	const char *salt, *initial, *client, *server;
	const char *ckey, *civ, *chp, *skey, *siv, *shp;
};

static const struct key_vec key_vecs[] = {
	{ QUIC_V1, "38762cf7f55934b34d179ae6a4c80cadccbb7f0a",
	  "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
	  "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
	  "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
	  "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
	  "9f50449e04a0e810283a1e9933adedd2", "cf3a5331653c364c88f0f379b6067e37",
	  "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314" },
	{ QUIC_V2, "0dede3def700a6db819381be6e269dcbf9bd2ed9",
	  "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
	  "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
	  "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
	  "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
	  "45b95e15235d6f45a6b19cbcb0294ba9", "82db637861d55e1d011f19ea71d5d2a7",
	  "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a" },
};

static void test_initial_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const struct key_vec *v = &key_vecs[i];
		uint8_t salt[20], initial[32], cs[32], ss[32];
		struct quic_keys c = { 0 }, s = { 0 };

		unhex(v->salt, salt, sizeof salt);
		assert_int_equal(tls13_hkdf_extract(32, salt, 20, dcid8, 8, initial), 0);
		assert_hex(initial, 32, v->initial);
		assert_int_equal(quic_initial_secrets(v->version, dcid8, 8, cs, ss), 0);
		assert_hex(cs, 32, v->client);
		assert_hex(ss, 32, v->server);
		assert_int_equal(quic_keys_initial(&c, &s, v->version, dcid8, 8), 0);
		assert_int_equal(c.key_len, 16);
		assert_hex(c.key, 16, v->ckey);
		assert_hex(c.iv, 12, v->civ);
		assert_hex(c.hp_key, 16, v->chp);
		assert_hex(s.key, 16, v->skey);
		assert_hex(s.iv, 12, v->siv);
		assert_hex(s.hp_key, 16, v->shp);
		/* A second derivation on the same structs reuses their
		 * contexts and gives the same keys. */
		assert_int_equal(quic_keys_initial(&c, &s, v->version, dcid8, 8), 0);
		assert_hex(c.key, 16, v->ckey);
		quic_keys_free(&c);
		quic_keys_free(&s);
	}
	/* Refused: an unknown version, a CID longer than 20 bytes. */
	{
		uint8_t cs[32], ss[32], big[21] = { 0 };

		assert_int_equal(quic_initial_secrets(0xff00001d, dcid8, 8, cs, ss), -1);
		assert_int_equal(quic_initial_secrets(QUIC_V1, big, 21, cs, ss), -1);
		assert_int_equal(quic_initial_secrets(QUIC_V1, big, 20, cs, ss), 0);
		assert_int_equal(quic_initial_secrets(QUIC_V1, NULL, 0, cs, ss), 0);
	}
}

/* ---- A.2: the client's Initial -------------------------------------- */

struct initial_vec {
	uint32_t version;
	const char *client, *server, *retry;
	const char *sample, *mask;
};

static const struct initial_vec ivecs[] = {
	{ QUIC_V1, V1_CLIENT_INITIAL, V1_SERVER_INITIAL, V1_RETRY,
	  "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36" },
	{ QUIC_V2, V2_CLIENT_INITIAL, V2_SERVER_INITIAL, V2_RETRY,
	  "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80" },
};

static void test_client_initial(void **state)
{
	uint8_t frame[1200], sample[16], mask[5];
	struct quic_keys c = { 0 }, s = { 0 };
	struct quic_dgram_result res;
	struct quic_conn conn;
	struct quic_hdr h;
	const uint8_t *p;
	size_t n, fn;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const struct initial_vec *v = &ivecs[i];

		setup(NULL);
		n = unhex(v->client, pkt, sizeof pkt);
		assert_int_equal(n, 1200);
		fn = unhex(CLIENT_CRYPTO_FRAME, frame, sizeof frame);
		assert_int_equal(fn, 4 + 0xf1);
		/* The header: Initial, the DCID, no SCID, no token,
		 * Length 1182 (0x449e). */
		assert_int_equal(quic_parse_header(pkt, n, &h), 1200);
		assert_int_equal(h.type, QUIC_PT_INITIAL);
		assert_int_equal(h.version, v->version);
		assert_int_equal(h.dcid_len, 8);
		assert_memory_equal(h.dcid, dcid8, 8);
		assert_int_equal(h.scid_len, 0);
		assert_int_equal(h.token_len, 0);
		assert_int_equal(h.pn_off, 18);
		/* The mask from the sample. */
		assert_int_equal(quic_keys_initial(&c, &s, v->version, dcid8, 8), 0);
		unhex(v->sample, sample, 16);
		assert_memory_equal(pkt + 22, sample, 16);
		assert_int_equal(quic_hp_mask(&c, sample, mask), 0);
		assert_hex(mask, 5, v->mask);
		quic_keys_free(&c);
		quic_keys_free(&s);
		/* The whole packet through the connection: opened, packet
		 * number 2, the CRYPTO frame's ClientHello in order. */
		quic_conn_init(&conn, &lim, NULL, NULL);
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res), 1);
		assert_int_equal(res.n_pkts, 1);
		assert_int_equal(res.pkts[0].type, QUIC_PT_INITIAL);
		assert_int_equal(res.pkts[0].opened, 1);
		assert_int_equal(res.pkts[0].pn, 2);
		assert_int_equal(res.pkts[0].len, 1200);
		assert_true(res.events & QUIC_EV_CRYPTO);
		assert_true(res.events & QUIC_EV_INITIAL_KEYS);
		assert_false(res.events & (QUIC_EV_MALFORMED | QUIC_EV_AUTH_FAIL));
		assert_int_equal(conn.version, v->version);
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p),
		                 0xf1);
		assert_memory_equal(p, frame + 4, 0xf1);
		assert_int_equal(g_stats.quic_pkt_opened, 1);
		assert_int_equal(conn.largest_pn[QUIC_SPACE_INITIAL][QUIC_DIR_CLIENT], 2);
		/* The same datagram again: opened again, the bytes compare
		 * equal, nothing new. */
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res), 1);
		assert_false(res.events & QUIC_EV_CRYPTO);
		assert_int_equal(g_stats.quic_crypto_overlap, 1);
		assert_int_equal(g_stats.quic_crypto_overlap_diff, 0);
		assert_int_equal(quic_crypto_stream(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL)->diff, 0);
		/* Consumed bytes leave the pending view. */
		quic_crypto_consume(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, 0x41);
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p),
		                 0xf1 - 0x41);
		assert_memory_equal(p, frame + 4 + 0x41, 0xf1 - 0x41);
		/* One flipped bit anywhere in the ciphertext: counted as an
		 * authentication failure, never parsed. */
		pkt[600] ^= 0x10;
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res), 1);
		assert_int_equal(res.pkts[0].opened, -1);
		assert_true(res.events & QUIC_EV_AUTH_FAIL);
		assert_int_equal(g_stats.quic_pkt_auth_fail, 1);
		quic_conn_free(&conn);
		assert_int_equal(g_stats.mem_in_use, 0);
	}
}

/* ---- A.3: the server's Initial -------------------------------------- */

static void test_server_initial(void **state)
{
	uint8_t payload[128];
	struct quic_dgram_result res;
	struct quic_conn conn;
	const uint8_t *p;
	size_t n, cn, pl;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const struct initial_vec *v = &ivecs[i];

		setup(NULL);
		pl = unhex(SERVER_PAYLOAD, payload, sizeof payload);
		assert_int_equal(pl, 99);
		cn = unhex(v->client, pkt, sizeof pkt);
		n = unhex(v->server, pkt2, sizeof pkt2);
		assert_int_equal(n, 135);
		quic_conn_init(&conn, &lim, NULL, NULL);
		/* Before the client's Initial, nobody knows the keys. */
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res), 1);
		assert_true(res.events & QUIC_EV_NO_KEY);
		assert_int_equal(res.pkts[0].opened, 0);
		assert_int_equal(g_stats.quic_pkt_no_key, 1);
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, cn, &res), 1);
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res), 1);
		assert_int_equal(res.pkts[0].opened, 1);
		assert_int_equal(res.pkts[0].pn, 1);
		assert_true(res.events & QUIC_EV_CRYPTO);
		/* ACK (5 bytes), then CRYPTO at offset 0, 0x5a bytes: the
		 * ServerHello. */
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_SERVER, QUIC_SPACE_INITIAL, &p),
		                 0x5a);
		assert_memory_equal(p, payload + 9, 0x5a);
		assert_int_equal(p[0], 2);   /* ServerHello */
		quic_conn_free(&conn);
	}
}

/* ---- A.4: Retry ----------------------------------------------------- */

static void test_retry(void **state)
{
	uint8_t tag[16], scid[8];
	struct quic_dgram_result res;
	struct quic_conn conn;
	struct quic_hdr h;
	const uint8_t *p;
	size_t n, cn;

	(void)state;
	unhex(RETRY_SCID, scid, sizeof scid);
	for (size_t i = 0; i < 2; i++) {
		const struct initial_vec *v = &ivecs[i];

		setup(NULL);
		n = unhex(v->retry, pkt2, sizeof pkt2);
		assert_int_equal(n, 36);
		assert_int_equal(quic_parse_header(pkt2, n, &h), 36);
		assert_int_equal(h.type, QUIC_PT_RETRY);
		assert_int_equal(h.scid_len, 8);
		assert_int_equal(h.token_len, 5);
		assert_memory_equal(h.token, "token", 5);
		assert_int_equal(quic_retry_tag(v->version, dcid8, 8, pkt2, n - 16, tag), 0);
		assert_memory_equal(tag, pkt2 + n - 16, 16);
		assert_ptr_equal(h.retry_tag, pkt2 + n - 16);

		/* A Retry before any client Initial is ignored. */
		quic_conn_init(&conn, &lim, NULL, NULL);
		quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res);
		assert_int_equal(g_stats.quic_retry_ignored, 1);
		cn = unhex(v->client, pkt, sizeof pkt);
		quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, cn, &res);
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p),
		                 0xf1);
		/* A Retry with one bit of its tag changed: ignored. */
		pkt2[n - 1] ^= 1;
		quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res);
		assert_false(res.events & QUIC_EV_RETRY);
		assert_int_equal(g_stats.quic_retry_ignored, 2);
		pkt2[n - 1] ^= 1;
		/* From the client's side it is nothing either. */
		quic_datagram(&conn, QUIC_DIR_CLIENT, pkt2, n, &res);
		assert_false(res.events & QUIC_EV_RETRY);
		/* The real one: new DCID, Initial keys and streams anew. */
		quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res);
		assert_true(res.events & QUIC_EV_RETRY);
		assert_int_equal(g_stats.quic_retry, 1);
		assert_int_equal(conn.dcid_len, 8);
		assert_memory_equal(conn.dcid, scid, 8);
		assert_memory_equal(conn.odcid, dcid8, 8);
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p), 0);
		/* The old client Initial no longer opens (its keys came from
		 * the first DCID). */
		quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, cn, &res);
		assert_true(res.events & QUIC_EV_AUTH_FAIL);
		/* A second Retry is ignored (RFC 9000 §17.2.5.2). */
		quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res);
		assert_int_equal(g_stats.quic_retry, 1);
		assert_int_equal(g_stats.quic_retry_ignored, 4);
		quic_conn_free(&conn);
	}
}

/* A client Initial built here (quicbuild.h) under keys from the Retry's
 * SCID opens after the Retry, and its ClientHello starts the stream
 * again from offset 0. */
static void test_retry_then_initial(void **state)
{
	uint8_t scid[8], frames[64];
	struct quic_keys c = { 0 }, s = { 0 };
	struct quic_dgram_result res;
	struct quic_conn conn;
	const uint8_t *p;
	size_t n, cn, fl;

	(void)state;
	setup(NULL);
	unhex(RETRY_SCID, scid, sizeof scid);
	quic_conn_init(&conn, &lim, NULL, NULL);
	cn = unhex(V1_CLIENT_INITIAL, pkt, sizeof pkt);
	quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, cn, &res);
	n = unhex(V1_RETRY, pkt2, sizeof pkt2);
	quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res);
	assert_true(res.events & QUIC_EV_RETRY);
	assert_int_equal(quic_keys_initial(&c, &s, QUIC_V1, scid, 8), 0);
	fl = qb_crypto(frames, sizeof frames, 0, (const uint8_t *)"hello again", 11);
	/* Packet numbers go on after a Retry: 3 after 2. */
	n = qb_long(pkt, sizeof pkt, &c, QUIC_V1, 0, scid, 8, NULL, 0, 3, 1, frames, fl);
	assert_true(n > 0);
	quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
	assert_int_equal(res.pkts[0].opened, 1);
	assert_int_equal(res.pkts[0].pn, 3);
	assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p), 11);
	assert_memory_equal(p, "hello again", 11);
	quic_keys_free(&c);
	quic_keys_free(&s);
	quic_conn_free(&conn);
}

/* ---- A.5: ChaCha20-Poly1305, short header --------------------------- */

struct chacha_vec {
	uint32_t version;
	const char *key, *iv, *hp, *mask, *packet;
};

static const struct chacha_vec chvecs[] = {
	{ QUIC_V1, "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8",
	  "e0459b3474bdd0e44a41c144",
	  "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4", "aefefe7d03",
	  "4cfe4189655e5cd55c41f69080575d7999c25a5bfb" },
	{ QUIC_V2, "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2",
	  "a6b5bc6ab7dafce30ffff5dd",
	  "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2", "97580e32bf",
	  "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba" },
};

static void test_chacha_short_header(void **state)
{
	uint8_t secret[32], hdr[4], mask[5], out[32];
	struct quic_dgram_result res;
	struct quic_keys k = { 0 };
	struct quic_conn conn;
	uint64_t tpn, pn;
	size_t n;

	(void)state;
	unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b", secret, 32);
	for (size_t i = 0; i < 2; i++) {
		const struct chacha_vec *v = &chvecs[i];

		setup(NULL);
		assert_int_equal(quic_keys_init(&k, v->version, 0x1303, secret, 32), 0);
		assert_int_equal(k.key_len, 32);
		assert_hex(k.key, 32, v->key);
		assert_hex(k.iv, 12, v->iv);
		assert_hex(k.hp_key, 32, v->hp);
		n = unhex(v->packet, pkt, sizeof pkt);
		assert_int_equal(n, 21);
		/* §5.4.2: a short header's sample starts 4 bytes after the
		 * packet number (here: byte 1 + 4). */
		assert_int_equal(quic_hp_mask(&k, pkt + 5, mask), 0);
		assert_hex(mask, 5, v->mask);
		/* Unprotected: 0x42 (3-byte packet number), 00bff4. */
		memcpy(hdr, pkt, 4);
		hdr[0] ^= mask[0] & 0x1f;
		for (int j = 0; j < 3; j++)
			hdr[1 + j] ^= mask[1 + j];
		assert_hex(hdr, 4, "4200bff4");
		tpn = (uint64_t)hdr[1] << 16 | (uint64_t)hdr[2] << 8 | hdr[3];
		pn = quic_decode_pn(654360563, 1, tpn, 24);
		assert_int_equal(pn, 654360564);
		assert_int_equal(quic_open(&k, pn, hdr, 4, pkt + 4, 17, out, sizeof out), 1);
		assert_int_equal(out[0], 0x01);   /* PING */
		/* Another packet number: the tag fails. */
		assert_int_equal(quic_open(&k, pn + 1, hdr, 4, pkt + 4, 17, out, sizeof out),
		                 QUIC_KEYS_ERR_AUTH);
		/* The connection recognises the short header and skips it. */
		quic_conn_init(&conn, &lim, NULL, NULL);
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_SERVER, pkt, n, &res), 1);
		assert_int_equal(res.pkts[0].type, QUIC_PT_SHORT);
		assert_int_equal(res.pkts[0].opened, 0);
		assert_true(res.events & QUIC_EV_SHORT);
		assert_int_equal(g_stats.quic_pkt_not_read, 1);
		quic_conn_free(&conn);
		quic_keys_free(&k);
	}
}

/* TLS_AES_256_GCM_SHA384 has no RFC vector: these values were computed
 * with Python's cryptography package (HMAC-SHA384 HKDF-Expand-Label with
 * the "quic"/"quicv2" labels, AES-256-ECB on the sample 00..0f, AES-256-GCM
 * sealing 01000000 at packet number 7 with the AAD "hdr") from the
 * 48-byte secret hs_secret below. */
static const uint8_t hs_secret[48];

static void test_aes256_suite(void **state)
{
	static const struct {
		uint32_t version;
		const char *key, *iv, *hp, *mask, *ct;
	} v[] = {
		{ QUIC_V1, "0d854f72594ac532dbba75fadd093dbf47579c0071abe7939653612ea88263a3",
		  "754f87e0442d6dc65a5d597f",
		  "920f978d1ad0152c85101e2f0a841e6033603dc97ac4d5933555fe16318d3e25", "163010c36b",
		  "b49e7d291a5489714c7489943015daaed1b0b29e" },
		{ QUIC_V2, "cfff31f422706a675c635f3ac3bbc002d4f177295417677b2843dcb6f9325b6d",
		  "ef544f35beec0c83f8f171f5",
		  "158a12a5d27144e425392380c74d20c3b5523eeb3e0e8facc3d67f227e0e0582", "0fe2bdce49",
		  "69c00eace74d5228b61e34d6a9359120d2c58ab1" },
	};
	uint8_t sample[16], mask[5], ct[20], out[20];
	struct quic_keys k = { 0 };

	(void)state;
	for (size_t i = 0; i < 16; i++)
		sample[i] = (uint8_t)i;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(quic_keys_init(&k, v[i].version, 0x1302, hs_secret, 48), 0);
		assert_int_equal(k.key_len, 32);
		assert_hex(k.key, 32, v[i].key);
		assert_hex(k.iv, 12, v[i].iv);
		assert_hex(k.hp_key, 32, v[i].hp);
		assert_int_equal(quic_hp_mask(&k, sample, mask), 0);
		assert_hex(mask, 5, v[i].mask);
		unhex(v[i].ct, ct, sizeof ct);
		assert_int_equal(quic_open(&k, 7, (const uint8_t *)"hdr", 3, ct, 20, out, sizeof out), 4);
		assert_hex(out, 4, "01000000");
		/* The secret of another length is refused. */
		assert_int_equal(quic_keys_init(&k, v[i].version, 0x1302, hs_secret, 32), -1);
		assert_false(k.ready);
	}
	quic_keys_free(&k);
}

/* ---- packet numbers ------------------------------------------------- */

static void test_decode_pn(void **state)
{
	(void)state;
	/* RFC 9000 Appendix A.3's example. */
	assert_true(quic_decode_pn(0xa82f30ea, 1, 0x9b32, 16) == 0xa82f9b32);
	/* The first packet of a space: expected 0. */
	assert_int_equal(quic_decode_pn(0, 0, 0, 8), 0);
	assert_int_equal(quic_decode_pn(0, 0, 2, 32), 2);
	/* Just past a window boundary, in both directions. */
	assert_int_equal(quic_decode_pn(0xff, 1, 0x01, 8), 0x101);
	assert_int_equal(quic_decode_pn(0x101, 1, 0xff, 8), 0xff);
	/* Near 2^62: the largest number, and a candidate that would need a
	 * window more than 2^62 allows stays below. */
	assert_true(quic_decode_pn(QUIC_PN_MAX - 1, 1, 0xff, 8) == QUIC_PN_MAX);
	assert_true(quic_decode_pn(QUIC_PN_MAX - 0x80, 1, 0x00, 8) == QUIC_PN_MAX - 0xff);
}

/* ---- Handshake packets with a key log's secret ---------------------- */

static const uint8_t hs_secret[48] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76,
	0x98, 0xba, 0xdc, 0xfe, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x0f, 0x1e, 0x2d, 0x3c,
	0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

struct hs_ctx {
	uint16_t suite;
	size_t secret_len;
	int calls;
};

/* What the engine will do: the server's Initial bytes (its ServerHello)
 * arrived, so the suite is known and the key log's secret goes in,
 * before the Handshake packet behind it in the same datagram is read. */
static void install_keys(void *arg, struct quic_conn *c, enum quic_dir dir, enum quic_space sp)
{
	struct hs_ctx *x = arg;
	const uint8_t *p;

	x->calls++;
	if (dir == QUIC_DIR_SERVER && sp == QUIC_SPACE_INITIAL) {
		quic_crypto_consume(c, dir, sp, quic_crypto_pending(c, dir, sp, &p));
		assert_int_equal(quic_conn_set_keys(c, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER, x->suite,
		                                    hs_secret, x->secret_len), 0);
	}
}

static void test_handshake_coalesced(void **state)
{
	static const struct { uint16_t suite; size_t len; uint32_t version; } cases[] = {
		{ 0x1301, 32, QUIC_V1 }, { 0x1302, 48, QUIC_V1 }, { 0x1303, 32, QUIC_V1 },
		{ 0x1301, 32, QUIC_V2 }, { 0x1302, 48, QUIC_V2 }, { 0x1303, 32, QUIC_V2 },
	};
	uint8_t frames[4096], cert[3000], scid[4] = { 1, 2, 3, 4 };
	struct quic_keys c = { 0 }, s = { 0 }, h = { 0 };
	struct quic_dgram_result res;
	struct quic_conn conn;
	const uint8_t *p;

	(void)state;
	for (size_t i = 0; i < sizeof cert; i++)
		cert[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hs_ctx x = { cases[i].suite, cases[i].len, 0 };
		uint32_t ver = cases[i].version;
		size_t n, fl, a, b;

		setup(NULL);
		assert_int_equal(quic_keys_initial(&c, &s, ver, dcid8, 8), 0);
		assert_int_equal(quic_keys_init(&h, ver, cases[i].suite, hs_secret, cases[i].len), 0);
		quic_conn_init(&conn, &lim, install_keys, &x);
		/* The client's Initial. */
		fl = qb_crypto(frames, sizeof frames, 0, (const uint8_t *)"CH", 2);
		n = qb_long(pkt, sizeof pkt, &c, ver, 0, dcid8, 8, scid, 4, 0, 4, frames, fl);
		assert_true(n > 0);
		quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
		assert_int_equal(res.pkts[0].opened, 1);
		/* The server's datagram: Initial (ServerHello) + Handshake
		 * (the certificate, second half first) + Handshake (first
		 * half), coalesced. */
		fl = qb_crypto(frames, sizeof frames, 0, (const uint8_t *)"SH", 2);
		a = qb_long(pkt, sizeof pkt, &s, ver, 0, scid, 4, dcid8, 8, 0, 2, frames, fl);
		fl = qb_crypto(frames, sizeof frames, 1500, cert + 1500, 1500);
		b = qb_long(pkt + a, sizeof pkt - a, &h, ver, 2, scid, 4, dcid8, 8, 0, 1, frames, fl);
		assert_true(a > 0 && b > 0);
		fl = qb_crypto(frames, sizeof frames, 0, cert, 1500);
		n = qb_long(pkt + a + b, sizeof pkt - a - b, &h, ver, 2, scid, 4, dcid8, 8, 1, 1,
		            frames, fl);
		assert_true(n > 0);
		n += a + b;
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_SERVER, pkt, n, &res), 3);
		assert_int_equal(res.pkts[0].type, QUIC_PT_INITIAL);
		assert_int_equal(res.pkts[1].type, QUIC_PT_HANDSHAKE);
		assert_int_equal(res.pkts[2].type, QUIC_PT_HANDSHAKE);
		assert_int_equal(res.pkts[1].opened, 1);
		assert_int_equal(res.pkts[2].opened, 1);
		assert_int_equal(res.pkts[2].pn, 1);
		assert_int_equal(x.calls, 3);   /* client Initial, server Initial, the in-order piece */
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE, &p),
		                 sizeof cert);
		assert_memory_equal(p, cert, sizeof cert);
		assert_int_equal(g_stats.quic_pkt_opened, 4);
		/* Without the callback (no keys yet) the Handshake packets
		 * wait; the same datagram fed again once the keys are in
		 * opens them, and the Initial compares equal. */
		quic_conn_free(&conn);
		quic_conn_init(&conn, &lim, NULL, NULL);
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt2, 0, &res), 0);
		n = qb_long(pkt2, sizeof pkt2, &c, ver, 0, dcid8, 8, scid, 4, 0, 4,
		            (const uint8_t *)"\x01", 1);
		quic_datagram(&conn, QUIC_DIR_CLIENT, pkt2, n, &res);
		n = a + b;
		quic_datagram(&conn, QUIC_DIR_SERVER, pkt, n, &res);
		assert_int_equal(res.pkts[1].opened, 0);
		assert_true(res.events & QUIC_EV_NO_KEY);
		assert_int_equal(quic_conn_set_keys(&conn, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER,
		                                    cases[i].suite, hs_secret, cases[i].len), 0);
		quic_datagram(&conn, QUIC_DIR_SERVER, pkt, n, &res);
		assert_int_equal(res.pkts[1].opened, 1);
		assert_int_equal(quic_crypto_stream(&conn, QUIC_DIR_SERVER, QUIC_SPACE_INITIAL)->diff, 0);
		/* Data ahead of the in-order point waits: nothing pending. */
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE, &p), 0);
		quic_conn_free(&conn);
		quic_keys_free(&c);
		quic_keys_free(&s);
		quic_keys_free(&h);
		assert_int_equal(g_stats.mem_in_use, 0);
	}
	/* Refused: the Initial space, a CCM suite, a secret of the wrong
	 * length. */
	quic_conn_init(&conn, &lim, NULL, NULL);
	assert_int_equal(quic_conn_set_keys(&conn, QUIC_SPACE_INITIAL, QUIC_DIR_SERVER, 0x1301,
	                                    hs_secret, 32), -1);
	assert_int_equal(quic_conn_set_keys(&conn, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER, 0x1304,
	                                    hs_secret, 32), -1);
	assert_int_equal(quic_conn_set_keys(&conn, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER, 0x1302,
	                                    hs_secret, 32), -1);
	quic_conn_free(&conn);
}

/* ---- packets too short for the flight ------------------------------ */

/* Without keys the server's Handshake packets are measured for the
 * fingerprint.  One that can hold no more than an ACK or a PING is not
 * the flight: Chromium's Handshake PING draws such an ACK from ngtcp2 or
 * not, by timing (pcaps/chromium/).  The bound is the Length field:
 * QUIC_CONTROL_ONLY_MAX is control only, one byte more may be data. */
static void test_control_only(void **state)
{
	/* ACK (RFC 9000 §19.3): largest 1, delay 0, no ranges, first range 1. */
	static const uint8_t ack[] = { 0x02, 0x01, 0x00, 0x00, 0x01 };
	static const struct { size_t pn_len, frames; int control; } cases[] = {
		{ 1, sizeof ack, 1 },     /* ngtcp2's ACK: Length 22 */
		{ 4, sizeof ack, 1 },
		{ 1, 18, 1 },             /* Length 35 = QUIC_CONTROL_ONLY_MAX */
		{ 1, 19, 0 },             /* Length 36 */
		{ 4, 15, 1 },             /* Length 35 with a 4-byte packet number */
		{ 4, 16, 0 },
		{ 1, 40, 0 },             /* a Finished's CRYPTO frame */
	};
	uint8_t frames[64], scid[4] = { 1, 2, 3, 4 };
	struct quic_keys c = { 0 }, s = { 0 }, h = { 0 };
	struct quic_pkt_info pi = { .type = QUIC_PT_SHORT, .len = 20 };
	struct quic_dgram_result res;
	struct quic_conn conn;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		setup(NULL);
		assert_int_equal(quic_keys_initial(&c, &s, QUIC_V1, dcid8, 8), 0);
		assert_int_equal(quic_keys_init(&h, QUIC_V1, 0x1301, hs_secret, 32), 0);
		quic_conn_init(&conn, &lim, NULL, NULL);
		n = qb_long(pkt, sizeof pkt, &c, QUIC_V1, 0, dcid8, 8, scid, 4, 0, 4,
		            (const uint8_t *)"\x01", 1);
		quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
		/* The ACK, then PADDING (0x00) up to the size of the case. */
		memset(frames, 0, sizeof frames);
		memcpy(frames, ack, sizeof ack);
		n = qb_long(pkt, sizeof pkt, &h, QUIC_V1, 2, scid, 4, dcid8, 8, 0, cases[i].pn_len,
		            frames, cases[i].frames);
		assert_true(n > 0);
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_SERVER, pkt, n, &res), 1);
		assert_int_equal(res.pkts[0].type, QUIC_PT_HANDSHAKE);
		assert_int_equal(res.pkts[0].opened, 0);   /* no key: only its size is known */
		assert_int_equal(res.pkts[0].protected_len, cases[i].pn_len + cases[i].frames + 16);
		assert_int_equal(quic_pkt_control_only(&res.pkts[0]), cases[i].control);
		/* With the key it opens: the packet is what the case says. */
		assert_int_equal(quic_conn_set_keys(&conn, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER, 0x1301,
		                                    hs_secret, 32), 0);
		quic_datagram(&conn, QUIC_DIR_SERVER, pkt, n, &res);
		assert_int_equal(res.pkts[0].opened, 1);
		quic_conn_free(&conn);
		quic_keys_free(&c);
		quic_keys_free(&s);
		quic_keys_free(&h);
	}
	/* A short header's length is the rest of the datagram: never taken
	 * for control only. */
	assert_int_equal(quic_pkt_control_only(&pi), 0);
}

/* ---- Version Negotiation, compatible negotiation -------------------- */

static void test_version_negotiation(void **state)
{
	static const uint8_t dcid_b[10] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
	static const uint8_t vn[] = {
		0x80, 0, 0, 0, 0,                    /* Version 0 */
		4, 0xaa, 0xbb, 0xcc, 0xdd,           /* DCID: the client's SCID */
		8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08,
		0x6b, 0x33, 0x43, 0xcf,              /* v2 */
		0x1a, 0x2a, 0x3a, 0x4a,              /* a reserved version */
	};
	uint8_t frames[64], scid[4] = { 0xaa, 0xbb, 0xcc, 0xdd };
	struct quic_keys c1 = { 0 }, s1 = { 0 }, c2 = { 0 }, s2 = { 0 };
	struct quic_dgram_result res;
	struct quic_conn conn;
	struct quic_hdr h;
	const uint8_t *p;
	size_t n, fl;

	(void)state;
	setup(NULL);
	assert_int_equal(quic_parse_header(vn, sizeof vn, &h), (int)sizeof vn);
	assert_int_equal(h.type, QUIC_PT_VN);
	assert_int_equal(h.versions_len, 8);
	assert_int_equal(quic_keys_initial(&c1, &s1, QUIC_V1, dcid8, 8), 0);
	assert_int_equal(quic_keys_initial(&c2, &s2, QUIC_V2, dcid_b, sizeof dcid_b), 0);
	quic_conn_init(&conn, &lim, NULL, NULL);
	fl = qb_crypto(frames, sizeof frames, 0, (const uint8_t *)"CH-v1", 5);
	n = qb_long(pkt, sizeof pkt, &c1, QUIC_V1, 0, dcid8, 8, scid, 4, 0, 1, frames, fl);
	quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
	assert_int_equal(res.pkts[0].opened, 1);
	quic_datagram(&conn, QUIC_DIR_SERVER, vn, sizeof vn, &res);
	assert_true(res.events & QUIC_EV_VN);
	assert_int_equal(g_stats.quic_vn, 1);
	assert_int_equal(conn.vn_from, QUIC_V1);
	/* The client starts again in v2 with a new DCID and packet number 0:
	 * keys from the new DCID, the stream from scratch. */
	fl = qb_crypto(frames, sizeof frames, 0, (const uint8_t *)"CH-v2", 5);
	n = qb_long(pkt, sizeof pkt, &c2, QUIC_V2, 0, dcid_b, sizeof dcid_b, scid, 4, 0, 1, frames,
	            fl);
	quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
	assert_true(res.events & QUIC_EV_RESTART);
	assert_int_equal(res.pkts[0].opened, 1);
	assert_int_equal(conn.version, QUIC_V2);
	assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p), 5);
	assert_memory_equal(p, "CH-v2", 5);
	assert_int_equal(quic_crypto_stream(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL)->diff, 0);
	quic_conn_free(&conn);

	/* A list that names the client's version is not a refusal. */
	quic_conn_init(&conn, &lim, NULL, NULL);
	n = unhex(V2_CLIENT_INITIAL, pkt, sizeof pkt);
	quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
	quic_datagram(&conn, QUIC_DIR_SERVER, vn, sizeof vn, &res);
	assert_int_equal(conn.vn_from, 0);
	quic_conn_free(&conn);

	/* Compatible negotiation (RFC 9369 §4): the client's v1 Initial
	 * answered by a v2 server Initial, keys of both versions from the
	 * one DCID. */
	quic_conn_init(&conn, &lim, NULL, NULL);
	n = unhex(V1_CLIENT_INITIAL, pkt, sizeof pkt);
	quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
	assert_int_equal(quic_conn_version(&conn), QUIC_V1);
	n = unhex(V2_SERVER_INITIAL, pkt2, sizeof pkt2);
	/* A server packet that does not authenticate chooses nothing. */
	pkt2[n - 1] ^= 1;
	quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res);
	assert_int_equal(res.pkts[0].opened, -1);
	assert_int_equal(quic_conn_version(&conn), QUIC_V1);
	pkt2[n - 1] ^= 1;
	quic_datagram(&conn, QUIC_DIR_SERVER, pkt2, n, &res);
	assert_int_equal(res.pkts[0].opened, 1);
	assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_SERVER, QUIC_SPACE_INITIAL, &p), 0x5a);
	/* The connection is v2 from then on: what the report says. */
	assert_int_equal(quic_conn_version(&conn), QUIC_V2);
	assert_int_equal(conn.version, QUIC_V1);
	quic_conn_free(&conn);
	quic_keys_free(&c1);
	quic_keys_free(&s1);
	quic_keys_free(&c2);
	quic_keys_free(&s2);
}

/* ---- CRYPTO reassembly ---------------------------------------------- */

static uint8_t src[200000];

static void fill_src(void)
{
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 8));
}

static long add(struct quic_conn *c, uint64_t off, size_t len)
{
	return quic_crypto_add(c, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE, off, src + off, len);
}

static const struct quic_crypto *hs_stream(const struct quic_conn *c)
{
	return quic_crypto_stream(c, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE);
}

static void assert_in_order(const struct quic_conn *c, size_t n)
{
	const uint8_t *p;

	assert_int_equal(quic_crypto_pending(c, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE, &p), n);
	if (n)
		assert_memory_equal(p, src, n);
}

static void test_crypto_out_of_order(void **state)
{
	struct quic_conn c;

	(void)state;
	setup(NULL);
	fill_src();
	quic_conn_init(&c, &lim, NULL, NULL);
	/* Pieces 3, 1, 2, 0 of 100 bytes: nothing in order until 0 comes. */
	assert_int_equal(add(&c, 300, 100), 0);
	assert_int_equal(add(&c, 100, 100), 0);
	assert_int_equal(hs_stream(&c)->n_held, 2);
	assert_int_equal(add(&c, 200, 100), 0);
	assert_int_equal(hs_stream(&c)->n_held, 1);   /* 100..400 joined */
	assert_in_order(&c, 0);
	assert_int_equal(add(&c, 0, 100), 400);
	assert_int_equal(hs_stream(&c)->n_held, 0);
	assert_in_order(&c, 400);
	/* Equal copies, overlapping both sides of the in-order point. */
	assert_int_equal(add(&c, 350, 100), 50);
	assert_int_equal(add(&c, 0, 450), 0);
	assert_int_equal(g_stats.quic_crypto_overlap, 2);
	assert_int_equal(g_stats.quic_crypto_overlap_diff, 0);
	assert_int_equal(hs_stream(&c)->diff, 0);
	assert_in_order(&c, 450);
	/* An empty frame changes nothing. */
	assert_int_equal(add(&c, 1000, 0), 0);
	quic_conn_free(&c);
	assert_int_equal(g_stats.mem_in_use, 0);
}

static void test_crypto_different_copy(void **state)
{
	uint8_t other[100];
	struct quic_conn c;
	const uint8_t *p;

	(void)state;
	setup(NULL);
	fill_src();
	quic_conn_init(&c, &lim, NULL, NULL);
	assert_int_equal(add(&c, 0, 100), 100);
	assert_int_equal(add(&c, 200, 100), 0);
	/* A copy of 50..150 with one byte changed at 60: the first copy is
	 * kept, the difference counted and flagged; the new bytes 100..150
	 * are taken. */
	memcpy(other, src + 50, 100);
	other[10] ^= 0xff;
	assert_int_equal(quic_crypto_add(&c, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE, 50, other, 100),
	                 50);
	assert_int_equal(g_stats.quic_crypto_overlap_diff, 1);
	assert_true(hs_stream(&c)->diff & QUIC_DIFF);
	assert_in_order(&c, 150);
	/* The same against a piece held ahead of the in-order point. */
	memcpy(other, src + 250, 50);
	other[49] ^= 1;
	assert_int_equal(quic_crypto_add(&c, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE, 250, other, 50),
	                 0);
	assert_int_equal(g_stats.quic_crypto_overlap_diff, 2);
	assert_int_equal(add(&c, 150, 50), 150);
	assert_int_equal(quic_crypto_pending(&c, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE, &p), 300);
	assert_memory_equal(p, src, 300);   /* first copies everywhere */
	quic_conn_free(&c);
}

static void test_crypto_limits(void **state)
{
	struct quic_conn c;

	(void)state;
	setup(NULL);
	fill_src();
	lim.quic_crypto_gap = 1000;
	lim.quic_crypto_max = 150000;
	quic_conn_init(&c, &lim, NULL, NULL);
	/* The gap window: data reaching past 1000 bytes ahead of the
	 * in-order point is refused and counted; inside it, taken. */
	assert_int_equal(add(&c, 900, 101), -1);
	assert_int_equal(g_stats.quic_crypto_gap_limit, 1);
	assert_int_equal(hs_stream(&c)->gap_refused, 1);
	assert_int_equal(add(&c, 900, 100), 0);
	assert_int_equal(add(&c, 0, 900), 1000);
	/* The window moves with the in-order point. */
	assert_int_equal(add(&c, 1900, 100), 0);
	assert_int_equal(hs_stream(&c)->state, QUIC_CRYPTO_ACTIVE);
	/* Pieces held apart: CS_QUIC_CRYPTO_RANGES, then the next refused. */
	quic_conn_free(&c);
	lim.quic_crypto_gap = 100000;
	quic_conn_init(&c, &lim, NULL, NULL);
	for (unsigned i = 0; i < CS_QUIC_CRYPTO_RANGES; i++)
		assert_int_equal(add(&c, 10 + 20 * (uint64_t)i, 10), 0);
	assert_int_equal(hs_stream(&c)->n_held, CS_QUIC_CRYPTO_RANGES);
	assert_int_equal(add(&c, 10 + 20 * CS_QUIC_CRYPTO_RANGES, 10), -1);
	assert_int_equal(g_stats.quic_crypto_ranges_limit, 1);
	/* A piece that joins two held ones is still taken. */
	assert_int_equal(add(&c, 20, 10), 0);
	assert_int_equal(hs_stream(&c)->n_held, CS_QUIC_CRYPTO_RANGES - 1);
	assert_int_equal(add(&c, 0, 10), 40);   /* [0, 40) in order now */
	/* The total: a stream reaching past quic_crypto_max stops. */
	quic_conn_free(&c);
	quic_conn_init(&c, &lim, NULL, NULL);
	for (uint64_t off = 0; off + 10000 <= 150000; off += 10000)
		assert_int_equal(add(&c, off, 10000), 10000);
	assert_int_equal(add(&c, 150000, 1), -1);
	assert_int_equal(g_stats.quic_crypto_max_limit, 1);
	assert_int_equal(hs_stream(&c)->state, QUIC_CRYPTO_STOPPED);
	assert_int_equal(add(&c, 0, 10), -1);
	assert_in_order(&c, 150000);   /* what came in order stays readable */
	/* Offsets at the varint limit are refused without wrapping. */
	assert_int_equal(quic_crypto_add(&c, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, QUIC_VARINT_MAX,
	                                 src, 2), -1);
	assert_int_equal(quic_crypto_add(&c, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, UINT64_MAX - 1,
	                                 src, 10), -1);
	quic_conn_free(&c);
	/* The flow memcap: a stream that cannot grow stops, counted. */
	cs_limits_default(&lim);
	lim.flow_memcap = 8192;
	quic_conn_init(&c, &lim, NULL, NULL);
	assert_int_equal(add(&c, 0, 8192), 8192);
	assert_int_equal(add(&c, 8192, 1), -1);
	assert_int_equal(g_stats.reasm_flow_memcap, 1);
	assert_int_equal(hs_stream(&c)->state, QUIC_CRYPTO_STOPPED);
	assert_int_equal(c.flow_bytes, 8192);
	quic_conn_free(&c);
	assert_int_equal(g_stats.mem_in_use, 0);
}

/* Split equivalence: the same bytes whole, byte by byte in reverse,
 * and in shuffled overlapping pieces give the same stream. */
static void test_crypto_split_equivalence(void **state)
{
	struct quic_conn a, b, d;
	uint64_t seed = 12345;
	const size_t total = 5000;

	(void)state;
	setup(NULL);
	fill_src();
	quic_conn_init(&a, &lim, NULL, NULL);
	quic_conn_init(&b, &lim, NULL, NULL);
	quic_conn_init(&d, &lim, NULL, NULL);
	assert_int_equal(add(&a, 0, total), (long)total);
	/* Reverse order, one byte each, within CS_QUIC_CRYPTO_RANGES:
	 * each new byte joins the piece held after it. */
	for (size_t i = total; i-- > 0;)
		add(&b, i, 1);
	while (quic_crypto_stream(&d, QUIC_DIR_SERVER, QUIC_SPACE_HANDSHAKE)->contig < total) {
		uint64_t off, len;

		seed = seed * 6364136223846793005u + 1442695040888963407u;
		off = (seed >> 33) % total;
		len = 1 + (seed >> 17) % 300;
		if (off + len > total)
			len = total - off;
		add(&d, off, (size_t)len);
	}
	assert_in_order(&a, total);
	assert_in_order(&b, total);
	assert_in_order(&d, total);
	assert_int_equal(hs_stream(&b)->n_held, 0);
	assert_int_equal(hs_stream(&d)->n_held, 0);
	assert_int_equal(g_stats.quic_crypto_overlap_diff, 0);
	quic_conn_free(&a);
	quic_conn_free(&b);
	quic_conn_free(&d);
	assert_int_equal(g_stats.mem_in_use, 0);
}

/* ---- malformed packets ---------------------------------------------- */

static void test_malformed_headers(void **state)
{
	static const uint8_t giant_len[] = {
		0xc0, 0, 0, 0, 1, 0, 0, 0,                           /* Initial, no CIDs, no token */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,      /* Length 2^62 - 1 */
		1, 2, 3, 4,
	};
	static const uint8_t big_cid[] = { 0xc0, 0, 0, 0, 1, 21 };
	static const uint8_t empty_vn[] = { 0x80, 0, 0, 0, 0, 0, 0 };
	static const uint8_t odd_vn[] = { 0x80, 0, 0, 0, 0, 0, 0, 1, 2, 3 };
	static const uint8_t short_retry[] = { 0xf0, 0, 0, 0, 1, 0, 0, 1, 2, 3 };
	static const uint8_t other_version[] = { 0xc0, 0xff, 0, 0, 0x1d, 1, 9, 0, 7, 7, 7 };
	uint8_t buf[64];
	struct quic_dgram_result res;
	struct quic_conn conn;
	struct quic_hdr h;
	size_t n;
	uint64_t v;

	(void)state;
	setup(NULL);
	/* Every truncation of the RFC 9001 A.2 packet: the header fields
	 * up to the Length (byte 18), then a Length past the end. */
	n = unhex(V1_CLIENT_INITIAL, pkt, sizeof pkt);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(quic_parse_header(pkt, cut, &h), QUIC_E_TRUNC);
	quic_conn_init(&conn, &lim, NULL, NULL);
	assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, 1199, &res), 0);
	assert_true(res.events & QUIC_EV_MALFORMED);
	assert_int_equal(g_stats.quic_pkt_malformed, 1);
	assert_int_equal(g_stats.quic_pkt_opened, 0);
	/* A Length field of 2^62 - 1. */
	assert_int_equal(quic_parse_header(giant_len, sizeof giant_len, &h), QUIC_E_TRUNC);
	/* Varints cut short: each length prefix with too few bytes. */
	for (unsigned k = 0; k < 4; k++) {
		size_t enc = (size_t)1 << k;

		buf[0] = (uint8_t)(k << 6);
		memset(buf + 1, 0xff, 8);
		assert_int_equal(quic_varint(buf, enc, &v), (int)enc);
		assert_int_equal(quic_varint(buf, enc - 1, &v), QUIC_E_TRUNC);
	}
	assert_int_equal(quic_varint(buf, 0, &v), QUIC_E_TRUNC);
	/* RFC 9000 §16's examples. */
	assert_int_equal(quic_varint((const uint8_t *)"\xc2\x19\x7c\x5e\xff\x14\xe8\x8c", 8, &v), 8);
	assert_true(v == UINT64_C(151288809941952652));
	assert_int_equal(quic_varint((const uint8_t *)"\x9d\x7f\x3e\x7d", 4, &v), 4);
	assert_true(v == 494878333);
	assert_int_equal(quic_varint((const uint8_t *)"\x7b\xbd", 2, &v), 2);
	assert_true(v == 15293);
	assert_int_equal(quic_varint((const uint8_t *)"\x40\x25", 2, &v), 2);
	assert_true(v == 37);
	/* A token length past the end: the A.2 packet with its token length
	 * byte set to 0x7f (a 2-byte varint 0x3fxx). */
	memcpy(pkt2, pkt, n);
	pkt2[15] = 0x7f;
	assert_int_equal(quic_parse_header(pkt2, n, &h), QUIC_E_TRUNC);
	pkt2[15] = 0x44;   /* 0x449e... as token length: 1182 bytes, past the end too */
	assert_int_equal(quic_parse_header(pkt2, n, &h), QUIC_E_TRUNC);
	/* A v1 CID longer than 20 bytes, an empty or ragged Version
	 * Negotiation list, a Retry without room for its tag. */
	memcpy(buf, big_cid, sizeof big_cid);
	memset(buf + sizeof big_cid, 0, 40);
	assert_int_equal(quic_parse_header(buf, sizeof big_cid + 40, &h), QUIC_E_FORMAT);
	assert_int_equal(quic_parse_header(empty_vn, sizeof empty_vn, &h), QUIC_E_FORMAT);
	assert_int_equal(quic_parse_header(odd_vn, sizeof odd_vn, &h), QUIC_E_FORMAT);
	assert_int_equal(quic_parse_header(short_retry, sizeof short_retry, &h), QUIC_E_TRUNC);
	/* An unknown version: recognised, takes the rest, not read. */
	assert_int_equal(quic_parse_header(other_version, sizeof other_version, &h),
	                 (int)sizeof other_version);
	assert_int_equal(h.type, QUIC_PT_UNKNOWN);
	assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, other_version, sizeof other_version,
	                               &res), 1);
	assert_int_equal(g_stats.quic_pkt_unsupported, 1);
	/* A packet too short for the header protection sample. */
	{
		static const uint8_t tiny[] = { 0xc0, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e,
		                                0x51, 0x57, 0x08, 0, 0, 3, 1, 2, 3 };

		assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, tiny, sizeof tiny, &res), 1);
		assert_true(res.events & QUIC_EV_MALFORMED);
		assert_int_equal(g_stats.quic_pkt_opened, 0);
	}
	quic_conn_free(&conn);
}

/* Frames inside an opened packet. */
static void test_malformed_frames(void **state)
{
	static const struct {
		const char *frames;
		int malformed;
		size_t crypto;
	} cases[] = {
		{ "0600024142", 0, 2 },                 /* CRYPTO "AB" */
		{ "01 0600024142 00000000", 0, 2 },     /* PING, CRYPTO, PADDING */
		{ "0600024142 08 00", 1, 2 },           /* STREAM: not allowed; what came before stays */
		{ "30 00 0600024142", 1, 0 },           /* DATAGRAM (RFC 9221): not allowed */
		{ "4006 00024142", 1, 0 },              /* CRYPTO type in 2 bytes: not minimal */
		{ "0600054142", 1, 0 },                 /* CRYPTO length past the payload */
		{ "06c0", 1, 0 },                       /* CRYPTO offset varint cut short */
		{ "02 05 00 00 05 0600024142", 0, 2 },  /* ACK of 0..5, then CRYPTO */
		{ "02 05 00 00 06", 1, 0 },             /* ACK first range below 0 */
		{ "02 05 00 01 01 02 02", 1, 0 },       /* ACK gap below 0 */
		{ "02 0a 00 01 01 01 02 0600024142", 0, 2 },  /* ACK 9..10 and 5..7 */
		{ "03 05 00 00 00 01 02 03 0600024142", 0, 2 }, /* ACK with ECN counts */
		{ "03 05 00 00 00 01 02", 1, 0 },       /* ECN counts cut short */
		{ "1c 0a 06 03 616263", 0, 0 },         /* CONNECTION_CLOSE "abc" */
		{ "1d 0a 03 616263", 0, 0 },            /* application CONNECTION_CLOSE */
		{ "1c 0a 06 09 616263", 1, 0 },         /* reason past the payload */
	};
	uint8_t frames[64];
	struct quic_keys c = { 0 }, s = { 0 };
	struct quic_dgram_result res;
	struct quic_conn conn;
	const uint8_t *p;

	(void)state;
	assert_int_equal(quic_keys_initial(&c, &s, QUIC_V1, dcid8, 8), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t fl = unhex(cases[i].frames, frames, sizeof frames), n;

		setup(NULL);
		quic_conn_init(&conn, &lim, NULL, NULL);
		n = qb_long(pkt, sizeof pkt, &c, QUIC_V1, 0, dcid8, 8, NULL, 0, 7, 2, frames, fl);
		assert_true(n > 0);
		assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res), 1);
		assert_int_equal(res.pkts[0].opened, 1);
		assert_int_equal(res.pkts[0].pn, 7);
		assert_int_equal(g_stats.quic_frames_malformed, (uint64_t)cases[i].malformed);
		assert_int_equal(!!(res.events & QUIC_EV_MALFORMED), cases[i].malformed);
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p),
		                 cases[i].crypto);
		if (cases[i].frames[0] == '1' && !cases[i].malformed) {
			assert_true(res.events & QUIC_EV_CLOSE);
			assert_int_equal(conn.close_error, 0x0a);
		}
		quic_conn_free(&conn);
	}
	/* A packet whose reserved bits are set: authentic, but a protocol
	 * violation (RFC 9000 §17.2): its frames are not read. */
	setup(NULL);
	quic_conn_init(&conn, &lim, NULL, NULL);
	{
		size_t fl = unhex("0600024142", frames, sizeof frames), n;

		n = qb_long_x(pkt, sizeof pkt, &c, QUIC_V1, 0, 0x08, dcid8, 8, NULL, 0, 0, 1, frames,
		              fl);
		assert_true(n > 0);
		quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n, &res);
		assert_int_equal(res.pkts[0].opened, 1);
		assert_int_equal(g_stats.quic_frames_malformed, 1);
		assert_int_equal(quic_crypto_pending(&conn, QUIC_DIR_CLIENT, QUIC_SPACE_INITIAL, &p), 0);
	}
	quic_conn_free(&conn);
	quic_keys_free(&c);
	quic_keys_free(&s);
}

/* Coalesced packets: a short header after an Initial, zero padding after
 * the last packet, and the per-datagram limit. */
static void test_coalesced(void **state)
{
	struct quic_keys c = { 0 }, s = { 0 };
	struct quic_dgram_result res;
	struct quic_conn conn;
	size_t n, m;

	(void)state;
	setup(NULL);
	assert_int_equal(quic_keys_initial(&c, &s, QUIC_V1, dcid8, 8), 0);
	quic_conn_init(&conn, &lim, NULL, NULL);
	n = qb_long(pkt, sizeof pkt, &c, QUIC_V1, 0, dcid8, 8, NULL, 0, 0, 1,
	            (const uint8_t *)"\x01", 1);
	memset(pkt + n, 0, 300);
	assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n + 300, &res), 1);
	assert_false(res.events & QUIC_EV_MALFORMED);
	pkt[n] = 0x41;   /* a short header follows */
	assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, n + 300, &res), 2);
	assert_int_equal(res.pkts[1].type, QUIC_PT_SHORT);
	assert_int_equal(res.pkts[1].len, 300);
	/* 0-RTT packets of 4 bytes each (not read): CS_QUIC_MAX_COALESCED
	 * are, the rest is counted. */
	m = 0;
	for (unsigned i = 0; i < CS_QUIC_MAX_COALESCED + 3; i++) {
		static const uint8_t zrtt[] = { 0xd0, 0, 0, 0, 1, 0, 0, 0x01, 0xaa };

		memcpy(pkt + m, zrtt, sizeof zrtt);
		m += sizeof zrtt;
	}
	assert_int_equal(quic_datagram(&conn, QUIC_DIR_CLIENT, pkt, m, &res),
	                 (int)CS_QUIC_MAX_COALESCED);
	assert_int_equal(res.pkts[0].type, QUIC_PT_0RTT);
	assert_int_equal(g_stats.quic_coalesced_limit, 1);
	quic_conn_free(&conn);
	quic_keys_free(&c);
	quic_keys_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_initial_keys, setup),
		cmocka_unit_test_setup(test_client_initial, setup),
		cmocka_unit_test_setup(test_server_initial, setup),
		cmocka_unit_test_setup(test_retry, setup),
		cmocka_unit_test_setup(test_retry_then_initial, setup),
		cmocka_unit_test_setup(test_chacha_short_header, setup),
		cmocka_unit_test_setup(test_aes256_suite, setup),
		cmocka_unit_test_setup(test_decode_pn, setup),
		cmocka_unit_test_setup(test_handshake_coalesced, setup),
		cmocka_unit_test_setup(test_control_only, setup),
		cmocka_unit_test_setup(test_version_negotiation, setup),
		cmocka_unit_test_setup(test_crypto_out_of_order, setup),
		cmocka_unit_test_setup(test_crypto_different_copy, setup),
		cmocka_unit_test_setup(test_crypto_limits, setup),
		cmocka_unit_test_setup(test_crypto_split_equivalence, setup),
		cmocka_unit_test_setup(test_malformed_headers, setup),
		cmocka_unit_test_setup(test_malformed_frames, setup),
		cmocka_unit_test_setup(test_coalesced, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
