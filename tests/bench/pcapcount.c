/*
 * pcapcount.c - the read limit of tests/bench/bench.sh: open capture files
 * with libpcap, as certsentry does, and only count packets and bytes.
 * Whatever certsentry does beyond this is its own cost.
 *
 *   pcapcount FILE...   prints "PACKETS BYTES"
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	uint64_t pkts = 0, bytes = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: pcapcount FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct pcap_pkthdr *h;
		const u_char *data;
		pcap_t *p = pcap_open_offline(argv[i], err);
		int rc;

		if (!p) {
			fprintf(stderr, "pcapcount: %s\n", err);
			return 2;
		}
		while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
			pkts++;
			bytes += h->caplen;
		}
		if (rc == PCAP_ERROR) {
			fprintf(stderr, "pcapcount: %s: %s\n", argv[i], pcap_geterr(p));
			pcap_close(p);
			return 2;
		}
		pcap_close(p);
	}
	printf("%" PRIu64 " %" PRIu64 "\n", pkts, bytes);
	return 0;
}
