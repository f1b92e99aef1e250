/*
 * classify.c - nDPI wrapper (see include/classify.h).  The only file that
 * includes nDPI.
 */
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "classify.h"

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
	f->nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
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
	ndpi_free_flow(f->nf);   /* frees nDPI's data and the struct itself */
	free(f);
}

size_t classify_flow_size(void)
{
	return sizeof(struct classify_flow) + SIZEOF_FLOW_STRUCT;
}

int classify_packet(struct classify_ctx *c, struct classify_flow *f,
                    const uint8_t *l3, size_t len, uint64_t ts_us)
{
	if (f->detected)
		return 1;
	if (len > 0xffff)
		len = 0xffff;   /* nDPI takes an unsigned short length */
	f->proto = ndpi_detection_process_packet(c->ndpi, f->nf, l3,
	                                         (unsigned short)len, ts_us / 1000);
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

	if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN)
		p = ndpi_detection_giveup(c->ndpi, f->nf, 1, &guessed);
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
