/*
 * classify.c - nDPI wrapper (see include/analyser/classify.h).  The only file that
 * includes nDPI.
 *
 * Memory: nDPI allocates per flow beyond its flow struct (its TLS
 * dissector keeps a message buffer of 2 KB and more per flow), which a
 * flood of half-open flows turns into hundreds of MB that --memcap must
 * see.  nDPI's allocator hooks route every allocation through here; those
 * made inside a per-flow call (flow_new, packet, finish, flow_free) are
 * charged to this thread's memory gauge (stats_mem_add) at the size glibc
 * really gave, and given back when nDPI frees them.  The detection
 * module's own tables, made once per thread, are part of the fixed
 * overhead the README states, not of --memcap.
 *
 * Must not: parse TLS itself (tls.c does) or keep certificates.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "analyser/classify.h"
#include "core/stats.h"

/* glibc's chunk header, which malloc_usable_size does not include. */
#define CHUNK_HEADER 8u

static _Thread_local int counting;          /* inside a per-flow nDPI call */
static _Thread_local uint64_t counted;      /* bytes charged, not yet freed */
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *ndpi_alloc_hook(size_t n)
{
	void *p = malloc(n);   /* owned by nDPI; freed through ndpi_free_hook */

	if (p && counting) {
		size_t u = malloc_usable_size(p) + CHUNK_HEADER;

		counted += u;
		stats_mem_add(u);
	}
	return p;
}

static void ndpi_free_hook(void *p)
{
	if (!p)
		return;
	if (counting) {
		/* Never give back more than was charged: a block nDPI made
		 * outside a per-flow call (its module) and frees inside one
		 * must not drive the gauge below what is really held. */
		uint64_t u = malloc_usable_size(p) + CHUNK_HEADER;

		if (u > counted)
			u = counted;
		counted -= u;
		stats_mem_sub(u);
	}
	free(p);
}

static void hooks_install(void)
{
	set_ndpi_malloc(ndpi_alloc_hook);
	set_ndpi_free(ndpi_free_hook);
	set_ndpi_flow_malloc(ndpi_alloc_hook);
	set_ndpi_flow_free(ndpi_free_hook);
}

struct classify_ctx {
	struct ndpi_detection_module_struct *ndpi;  /* owned */
};

struct classify_flow {
	struct ndpi_flow_struct *nf;                /* owned, nDPI's allocator */
	ndpi_protocol proto;
	int detected;
};

struct classify_ctx *classify_new(void)
{
	struct classify_ctx *c = calloc(1, sizeof(*c));  /* owned by the caller */
	NDPI_PROTOCOL_BITMASK all;

	if (!c)
		return NULL;
	pthread_once(&hooks_once, hooks_install);
	c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	if (!c->ndpi) {
		free(c);
		return NULL;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
	ndpi_finalize_initialization(c->ndpi);
	return c;
}

void classify_free(struct classify_ctx *c)
{
	if (!c)
		return;
	ndpi_exit_detection_module(c->ndpi);
	free(c);
}

struct classify_flow *classify_flow_new(void)
{
	struct classify_flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	counting = 1;
	f->nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
	counting = 0;
	if (!f->nf) {
		free(f);
		return NULL;
	}
	memset(f->nf, 0, SIZEOF_FLOW_STRUCT);
	return f;
}

void classify_flow_free(struct classify_flow *f)
{
	if (!f)
		return;
	counting = 1;
	ndpi_free_flow(f->nf);   /* frees nDPI's data and the struct itself */
	counting = 0;
	free(f);
}

size_t classify_flow_size(void)
{
	/* nDPI's own allocations (the flow struct among them) are charged
	 * as they are made. */
	return sizeof(struct classify_flow);
}

int classify_packet(struct classify_ctx *c, struct classify_flow *f,
                    const uint8_t *l3, size_t len, uint64_t ts_us)
{
	if (f->detected)
		return 1;
	if (len > 0xffff)
		len = 0xffff;   /* nDPI takes an unsigned short length */
	counting = 1;
	f->proto = ndpi_detection_process_packet(c->ndpi, f->nf, l3,
	                                         (unsigned short)len, ts_us / 1000);
	counting = 0;
	if (f->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN &&
	    !ndpi_extra_dissection_possible(c->ndpi, f->nf))
		f->detected = 1;
	return f->detected;
}

static int proto_is_tls(ndpi_protocol p)
{
	return p.master_protocol == NDPI_PROTOCOL_TLS || p.app_protocol == NDPI_PROTOCOL_TLS;
}

void classify_finish(struct classify_ctx *c, struct classify_flow *f,
                     struct classify_result *out)
{
	ndpi_protocol p = f->proto;
	u_int8_t guessed = 0;
	char name[CLASSIFY_NAME_LEN];

	if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
		counting = 1;
		p = ndpi_detection_giveup(c->ndpi, f->nf, 1, &guessed);
		counting = 0;
	}
	memset(out, 0, sizeof(*out));
	out->valid = 1;
	ndpi_protocol2name(c->ndpi, p, name, sizeof(name));
	memcpy(out->proto, name, sizeof(out->proto));
	out->proto[sizeof(out->proto) - 1] = '\0';
	snprintf(out->proto_id, sizeof(out->proto_id), "%u.%u",
	         p.master_protocol, p.app_protocol);
	snprintf(out->category, sizeof(out->category), "%s",
	         ndpi_category_get_name(c->ndpi, p.category));
	out->risk = f->nf->risk;
	out->is_tls = proto_is_tls(p);
}

const char *classify_risk_name(unsigned bit)
{
	if (bit == 0 || bit >= NDPI_MAX_RISK)
		return NULL;
	return ndpi_risk2str((ndpi_risk_enum)bit);
}

const char *classify_risk_severity(unsigned bit)
{
	ndpi_risk_info *info;

	if (bit == 0 || bit >= NDPI_MAX_RISK)
		return NULL;
	info = ndpi_risk2severity((ndpi_risk_enum)bit);
	return info ? ndpi_severity2str(info->severity) : NULL;
}
