/*
 * client.c - a TLS client (BoringSSL) that offers certificate compression
 * (RFC 8879) and writes an NSS key log, for tests/mkcertcomp.sh.
 *
 *   client PORT SNI ALGS|none MAXVERSION KEYLOG
 *
 * Connects to 127.0.0.1:PORT with server_name SNI, offers the
 * comma-separated ALGS (zlib,brotli,zstd in the order given) or none,
 * sends one HTTP/1.0 request and prints the answer's body.  The chain is
 * not verified (the sensor judges it); the client's decompression must
 * succeed for the handshake to complete, which checks the server's
 * stream.  Exits 0 when the body was "ok".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common.h"

static FILE *keylog;

static void keylog_line(const SSL *ssl, const char *line)
{
	(void)ssl;
	fprintf(keylog, "%s\n", line);
	fflush(keylog);
}

int main(int argc, char **argv)
{
	static const char req[] = "GET /hello.txt HTTP/1.0\r\n\r\n";
	struct sockaddr_in sa;
	SSL_CTX *ctx;
	SSL *ssl;
	char buf[4096], *algs, *tok, *save = NULL;
	int fd, ver, got = 0, r;

	if (argc != 6) {
		fprintf(stderr, "usage: client PORT SNI ALGS|none 1.2|1.3 KEYLOG\n");
		return 2;
	}
	if ((ver = version_by_name(argv[4])) < 0)
		return fprintf(stderr, "unknown version %s\n", argv[4]), 2;
	if (!(keylog = fopen(argv[5], "a")))
		return perror(argv[5]), 1;
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx || !SSL_CTX_set_max_proto_version(ctx, (uint16_t)ver))
		return 1;
	SSL_CTX_set_keylog_callback(ctx, keylog_line);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	algs = strdup(argv[3]);
	for (tok = strtok_r(algs, ",", &save); tok && strcmp(tok, "none") != 0;
	     tok = strtok_r(NULL, ",", &save))
		if (!alg_add(ctx, alg_by_name(tok), 0))
			return fprintf(stderr, "cannot offer %s\n", tok), 2;
	free(algs);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return perror("connect"), 1;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, argv[2]);
	if (SSL_connect(ssl) != 1 || SSL_write(ssl, req, sizeof req - 1) != (int)(sizeof req - 1)) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	while ((r = SSL_read(ssl, buf + got, (int)(sizeof buf - 1 - (size_t)got))) > 0)
		got += r;
	buf[got] = '\0';
	fprintf(stderr, "client: %s, offered %s\n", SSL_get_version(ssl), argv[3]);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	fclose(keylog);
	printf("%s", strstr(buf, "\r\n\r\n") ? strstr(buf, "\r\n\r\n") + 4 : buf);
	return strstr(buf, "\r\n\r\nok\n") ? 0 : 1;
}
