/*
 * server.c - a TLS server (BoringSSL) that compresses its certificate
 * chain (RFC 8879), for tests/mkcertcomp.sh.  Debian's OpenSSL 3.0 and
 * GnuTLS cannot; BoringSSL can, given the compression function.
 *
 *   server PORT CHAIN.pem KEY.pem ALG|none MAXVERSION NACCEPT [ADDR]
 *
 * Listens on ADDR:PORT (127.0.0.1 unless given: tests/mkchromium.sh
 * serves a browser in another network namespace, on a veth), takes NACCEPT connections one after the
 * other, each: handshake, read one request, answer "HTTP/1.0 200 OK" with
 * body "ok", close_notify.  ALG (zlib, brotli, zstd) is the only
 * algorithm it compresses with, and only when the client offers it;
 * "none" registers none.  MAXVERSION 1.2 or 1.3.  Exits 0 when every
 * connection completed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common.h"

static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	SSL_CTX *ctx;
	int lfd, one = 1, n, alg = 0, ver;

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: server PORT CHAIN KEY ALG|none 1.2|1.3 NACCEPT [ADDR]\n");
		return 2;
	}
	if (strcmp(argv[4], "none") != 0 && (alg = alg_by_name(argv[4])) < 0)
		return fprintf(stderr, "unknown algorithm %s\n", argv[4]), 2;
	if ((ver = version_by_name(argv[5])) < 0)
		return fprintf(stderr, "unknown version %s\n", argv[5]), 2;
	n = atoi(argv[6]);
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx || !SSL_CTX_use_certificate_chain_file(ctx, argv[2]) ||
	    !SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) ||
	    !SSL_CTX_set_max_proto_version(ctx, (uint16_t)ver) ||
	    (alg && !alg_add(ctx, alg, 1))) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc == 8 && inet_pton(AF_INET, argv[7], &sa.sin_addr) != 1)
		return fprintf(stderr, "bad address %s\n", argv[7]), 2;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
		perror("listen");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char req[1024];
		int fd = accept(lfd, NULL, NULL);
		SSL *ssl = SSL_new(ctx);

		if (fd < 0 || !ssl)
			return 1;
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1 || SSL_read(ssl, req, sizeof req) <= 0 ||
		    SSL_write(ssl, resp, sizeof resp - 1) != (int)(sizeof resp - 1)) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
		fprintf(stderr, "server: %s, certificate compression %s\n", SSL_get_version(ssl),
		        argv[4]);
		SSL_shutdown(ssl);
		SSL_free(ssl);
		close(fd);
	}
	SSL_CTX_free(ctx);
	close(lfd);
	return 0;
}
