// quicpeer - both ends of the quic-go sessions that tests/mkquic.sh
// captures: DNS over QUIC (RFC 9250, ALPN "doq", UDP 853) and HTTP/3
// (RFC 9114, ALPN "h3", UDP 443), each as server or client.
//
// Built by mkquic.sh with Debian 12's Go 1.19 and the packaged quic-go
// 0.29 (golang-github-lucas-clemente-quic-go-dev) in GOPATH mode, offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o quicpeer quicpeer.go
//
// The client writes the TLS secrets to -keylog (NSS key log format, the
// same lines SSLKEYLOGFILE gives), which is what a sensor needs to open
// the server's Handshake packets. The client never verifies the server's
// chain: the captures must show rogue chains being accepted, as a
// client behind an interceptor would.
//
// A server answers exactly -n exchanges, then exits; a client makes one
// exchange and exits; both exit non-zero when anything fails, so the
// generator stops instead of committing a half-made capture.
package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
	"github.com/miekg/dns"
)

var (
	mode     = flag.String("mode", "", "doq-server, doq-client, h3-server or h3-client")
	addr     = flag.String("addr", "", "server: address to listen on; client: address to connect to (host:port)")
	certFile = flag.String("cert", "", "server: PEM chain, leaf first")
	keyFile  = flag.String("key", "", "server: PEM private key of the leaf")
	sni      = flag.String("sni", "", "client: server name sent in the ClientHello (empty: none)")
	keylog   = flag.String("keylog", "", "client: append TLS secrets here (NSS key log format)")
	retry    = flag.Bool("retry", false, "server: require address validation (send a Retry to every new client)")
	version  = flag.String("version", "", "QUIC version to offer or accept: v1 or v2draft (0x709a50c4); default: quic-go's list")
	count    = flag.Int("n", 1, "server: exchanges to answer before exiting")
	timeout  = flag.Duration("timeout", 20*time.Second, "give up after this long")
)

// doqMaxMsg bounds a DNS message read from a DoQ stream: RFC 9250 §4.2
// prefixes each message with a 2-byte length, so 65535 is the most a
// peer can announce.
const doqMaxMsg = 65535

func quicConfig() *quic.Config {
	c := &quic.Config{HandshakeIdleTimeout: *timeout, MaxIdleTimeout: *timeout}
	switch *version {
	case "":
	case "v1":
		c.Versions = []quic.VersionNumber{quic.Version1}
	case "v2draft":
		// quic-go 0.29 knows QUIC v2 only as draft-ietf-quic-v2's
		// 0x709a50c4, not RFC 9369's 0x6b3343cf.
		c.Versions = []quic.VersionNumber{quic.Version2}
	default:
		log.Fatalf("unknown -version %q", *version)
	}
	if *retry {
		c.RequireAddressValidation = func(net.Addr) bool { return true }
	}
	return c
}

func serverTLS(alpn string) *tls.Config {
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatalf("load %s / %s: %v", *certFile, *keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn},
		MinVersion: tls.VersionTLS13}
}

// clientTLS opens the key log for appending; the file is owned by the
// returned config and closed when the process exits.
func clientTLS(alpn string) *tls.Config {
	c := &tls.Config{ServerName: *sni, NextProtos: []string{alpn}, InsecureSkipVerify: true,
		MinVersion: tls.VersionTLS13}
	if *keylog != "" {
		f, err := os.OpenFile(*keylog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			log.Fatal(err)
		}
		c.KeyLogWriter = f
	}
	return c
}

// readMsg reads one length-prefixed DNS message (RFC 9250 §4.2).
func readMsg(r io.Reader) (*dns.Msg, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n == 0 || n > doqMaxMsg {
		return nil, fmt.Errorf("DNS message length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(b)
}

func writeMsg(w io.Writer, m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	out := make([]byte, 2, 2+len(b))
	binary.BigEndian.PutUint16(out, uint16(len(b)))
	_, err = w.Write(append(out, b...))
	return err
}

// doqServer answers A queries for any name with the address it listens
// on; one query per connection, as a stub resolver sends them.
func doqServer(ctx context.Context) error {
	ln, err := quic.ListenAddr(*addr, serverTLS("doq"), quicConfig())
	if err != nil {
		return err
	}
	defer ln.Close()
	host, _, _ := net.SplitHostPort(*addr)
	for i := 0; i < *count; i++ {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			return err
		}
		q, err := readMsg(st)
		if err != nil {
			return err
		}
		// RFC 9250 §4.2.1: the Message ID is 0 on DoQ.
		if q.Id != 0 || len(q.Question) != 1 {
			return fmt.Errorf("bad query: id %d, %d questions", q.Id, len(q.Question))
		}
		r := new(dns.Msg)
		r.SetReply(q)
		r.Id = 0
		r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name,
			Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.ParseIP(host)})
		if err := writeMsg(st, r); err != nil {
			return err
		}
		st.Close() // the FIN ends the response (RFC 9250 §4.2)
		// Wait for the client to close (DOQ_NO_ERROR) so that the
		// capture ends with its CONNECTION_CLOSE, not an idle timeout.
		<-conn.Context().Done()
	}
	return nil
}

func doqClient(ctx context.Context) error {
	conn, err := quic.DialAddrContext(ctx, *addr, clientTLS("doq"), quicConfig())
	if err != nil {
		return err
	}
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	q := new(dns.Msg)
	q.SetQuestion("cloudflare-dns.com.", dns.TypeA)
	q.Id = 0
	if err := writeMsg(st, q); err != nil {
		return err
	}
	st.Close()
	r, err := readMsg(st)
	if err != nil {
		return err
	}
	if len(r.Answer) != 1 {
		return fmt.Errorf("%d answers", len(r.Answer))
	}
	fmt.Println(r.Answer[0].String())
	return conn.CloseWithError(0, "") // DOQ_NO_ERROR (RFC 9250 §4.3)
}

func h3Server(ctx context.Context) error {
	done := make(chan struct{}, *count)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello.txt", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
		done <- struct{}{}
	})
	srv := &http3.Server{Addr: *addr, TLSConfig: serverTLS("h3"), QuicConfig: quicConfig(), Handler: mux}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	for i := 0; i < *count; i++ {
		select {
		case <-done:
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Let the last response and the client's CONNECTION_CLOSE through
	// before the listener goes away.
	time.Sleep(500 * time.Millisecond)
	return srv.Close()
}

func h3Client(ctx context.Context) error {
	rt := &http3.RoundTripper{TLSClientConfig: clientTLS("h3"), QuicConfig: quicConfig(),
		// Connect to -addr whatever the URL's host: the URL names the
		// server as a browser would, the SNI comes from -sni.
		Dial: func(ctx context.Context, _ string, t *tls.Config, c *quic.Config) (quic.EarlyConnection, error) {
			return quic.DialAddrEarlyContext(ctx, *addr, t, c)
		}}
	defer rt.Close()
	host := *sni
	if host == "" {
		host, _, _ = net.SplitHostPort(*addr)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/hello.txt", nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("status %d, body %q", resp.StatusCode, body)
	}
	fmt.Printf("%s %s", resp.Proto, body)
	return nil
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("quicpeer: ")
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var err error
	switch *mode {
	case "doq-server":
		err = doqServer(ctx)
	case "doq-client":
		err = doqClient(ctx)
	case "h3-server":
		err = h3Server(ctx)
	case "h3-client":
		err = h3Client(ctx)
	default:
		err = errors.New("-mode must be doq-server, doq-client, h3-server or h3-client")
	}
	if err != nil {
		log.Fatalf("%s: %v", *mode, err)
	}
}
