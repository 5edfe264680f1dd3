/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmp-server.c - a CMP server for the tests that really issues: OpenSSL's
 * OSSL_CMP_SRV_CTX does the protocol (protection, proof of possession,
 * certConf), a software test CA signs a certificate for the public key of
 * each p10cr, ir, cr and kur.  OpenSSL 3.0 has no HTTP server API: the
 * loop below reads one HTTP POST per connection (headers up to the blank
 * line, Content-Length bytes of DER) and answers it; every byte of CMP
 * goes through d2i/i2d_OSSL_CMP_MSG.
 *
 *   cmp-server CA.pem CA.key PORTFILE MODE [REF SECRETFILE]
 *
 * It binds 127.0.0.1 on a free port and writes the port to PORTFILE (via a
 * temporary file and rename, so a reader never sees half of it).  With REF
 * and SECRETFILE it speaks PBMAC with that shared secret; without, it signs
 * its answers with the CA and accepts requests signed by certificates the
 * CA issued.  MODE: ok; garbage (200 with bytes that are not CMP); silent
 * (reads the request, never answers); http500; reject (PKIStatus rejection,
 * badCertTemplate).  It runs until killed.  With $CMP_SERVER_DUMP set, it
 * writes each answer there too (seeds for tests/fuzz/fuzz-cmp).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/asn1t.h>
#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * RFC 4211 CertTemplate, declared with OpenSSL's ASN.1 templates as
 * crypto/crmf/crmf_asn.c does: OpenSSL 3.0 has no getter for the template's
 * publicKey (3.2 adds OSSL_CRMF_CERTTEMPLATE_get0_publicKey), so the
 * server re-reads the encoded template with this declaration.
 */
typedef struct {
	ASN1_TIME *notBefore, *notAfter;
} TMPL_VALIDITY;
typedef struct {
	ASN1_INTEGER *version, *serial;
	X509_ALGOR *alg;
	X509_NAME *issuer;
	TMPL_VALIDITY *validity;
	X509_NAME *subject;
	X509_PUBKEY *pub;
	ASN1_BIT_STRING *issuerUID, *subjectUID;
	STACK_OF(X509_EXTENSION) *exts;
} TMPL;
DECLARE_ASN1_ITEM(TMPL_VALIDITY)
DECLARE_ASN1_FUNCTIONS(TMPL)
ASN1_SEQUENCE(TMPL_VALIDITY) = {
	ASN1_EXP_OPT(TMPL_VALIDITY, notBefore, ASN1_TIME, 0),
	ASN1_EXP_OPT(TMPL_VALIDITY, notAfter, ASN1_TIME, 1),
} ASN1_SEQUENCE_END(TMPL_VALIDITY)
ASN1_SEQUENCE(TMPL) = {
	ASN1_IMP_OPT(TMPL, version, ASN1_INTEGER, 0),
	ASN1_IMP_OPT(TMPL, serial, ASN1_INTEGER, 1),
	ASN1_IMP_OPT(TMPL, alg, X509_ALGOR, 2),
	ASN1_EXP_OPT(TMPL, issuer, X509_NAME, 3),
	ASN1_IMP_OPT(TMPL, validity, TMPL_VALIDITY, 4),
	ASN1_EXP_OPT(TMPL, subject, X509_NAME, 5),
	ASN1_IMP_OPT(TMPL, pub, X509_PUBKEY, 6),
	ASN1_IMP_OPT(TMPL, issuerUID, ASN1_BIT_STRING, 7),
	ASN1_IMP_OPT(TMPL, subjectUID, ASN1_BIT_STRING, 8),
	ASN1_IMP_SEQUENCE_OF_OPT(TMPL, exts, X509_EXTENSION, 9),
} ASN1_SEQUENCE_END(TMPL)
IMPLEMENT_ASN1_FUNCTIONS(TMPL)

struct server {
	X509 *ca;
	EVP_PKEY *cakey;
	const char *mode;
};

static EVP_PKEY *template_key(const OSSL_CRMF_MSG *crm)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_OSSL_CRMF_CERTTEMPLATE(OSSL_CRMF_MSG_get0_tmpl(crm), &der);
	TMPL *t = NULL;
	EVP_PKEY *pub = NULL;

	p = der;
	if (len > 0 && (t = d2i_TMPL(NULL, &p, len)) && t->pub)
		pub = X509_PUBKEY_get(t->pub);
	TMPL_free(t);
	OPENSSL_free(der);
	return pub;
}

static X509 *issue(struct server *s, const X509_NAME *subject, EVP_PKEY *pub,
                   const STACK_OF(X509_EXTENSION) *exts)
{
	X509 *c = X509_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	unsigned char rnd[8];
	BIGNUM *bn = NULL;
	int ok = c && serial && RAND_bytes(rnd, sizeof(rnd)) == 1;

	rnd[0] &= 0x7f;
	ok = ok && (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) && BN_to_ASN1_INTEGER(bn, serial);
	ok = ok && X509_set_version(c, 2) && X509_set_serialNumber(c, serial);
	ok = ok && X509_set_issuer_name(c, X509_get_subject_name(s->ca));
	ok = ok && X509_set_subject_name(c, subject);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(c), -300);
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(c), 90L * 86400);
	ok = ok && X509_set_pubkey(c, pub);
	for (int i = 0; ok && i < sk_X509_EXTENSION_num(exts); i++)
		ok = X509_add_ext(c, sk_X509_EXTENSION_value(exts, i), -1);
	if (ok && X509_get_ext_by_NID(c, NID_basic_constraints, -1) < 0) {
		X509V3_CTX v3;
		X509_EXTENSION *bc;

		X509V3_set_ctx(&v3, s->ca, c, NULL, NULL, 0);
		bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:FALSE");
		ok = bc && X509_add_ext(c, bc, -1);
		X509_EXTENSION_free(bc);
	}
	ok = ok && X509_sign(c, s->cakey, EVP_sha256()) > 0;
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static OSSL_CMP_PKISI *cert_request(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, int id,
                                    const OSSL_CRMF_MSG *crm, const X509_REQ *p10cr,
                                    X509 **cert_out, STACK_OF(X509) **chain_out,
                                    STACK_OF(X509) **ca_pubs)
{
	struct server *s = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const X509_NAME *subject;
	EVP_PKEY *pub;
	OSSL_CMP_PKISI *si = NULL;

	(void)req;
	(void)id;
	*chain_out = NULL;
	*ca_pubs = NULL;
	if (strcmp(s->mode, "reject") == 0)
		return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_rejection,
		                               1 << OSSL_CMP_PKIFAILUREINFO_badCertTemplate,
		                               "the test CA rejects every request");
	if (p10cr) {
		pub = X509_REQ_get_pubkey((X509_REQ *)p10cr);
		subject = X509_REQ_get_subject_name(p10cr);
		exts = X509_REQ_get_extensions((X509_REQ *)p10cr);
	} else {
		const OSSL_CRMF_CERTTEMPLATE *t = OSSL_CRMF_MSG_get0_tmpl(crm);

		pub = template_key(crm);
		subject = OSSL_CRMF_CERTTEMPLATE_get0_subject(t);
		exts = sk_X509_EXTENSION_deep_copy(OSSL_CRMF_CERTTEMPLATE_get0_extensions(t),
		                                   X509_EXTENSION_dup, X509_EXTENSION_free);
	}
	/* the chain in extraCerts (what EJBCA sends), the root in caPubs too */
	if (pub && subject && (*cert_out = issue(s, subject, pub, exts)) &&
	    (*ca_pubs = sk_X509_new_null()) && X509_up_ref(s->ca) &&
	    sk_X509_push(*ca_pubs, s->ca) && (*chain_out = sk_X509_new_null()) &&
	    X509_up_ref(s->ca) && sk_X509_push(*chain_out, s->ca))
		si = OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, NULL);
	else
		fprintf(stderr, "cmp-server: cannot issue\n");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	EVP_PKEY_free(pub);
	return si;
}

static int cert_conf(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, int id,
                     const ASN1_OCTET_STRING *hash, const OSSL_CMP_PKISI *si)
{
	char buf[300];

	(void)srv;
	(void)req;
	(void)id;
	(void)hash;
	if (si)
		fprintf(stderr, "cmp-server: certConf: %s\n",
		        OSSL_CMP_snprint_PKIStatusInfo(si, buf, sizeof(buf)));
	return 1;
}

static void process_error(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, const OSSL_CMP_PKISI *si,
                          const ASN1_INTEGER *code, const OSSL_CMP_PKIFREETEXT *details)
{
	(void)srv;
	(void)req;
	(void)si;
	(void)code;
	(void)details;
}

static void reply(BIO *b, const char *status, const char *type, const unsigned char *body, int len)
{
	BIO_printf(b,
	           "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: "
	           "close\r\n\r\n",
	           status, type, len);
	if (len > 0)
		BIO_write(b, body, len);
	(void)BIO_flush(b);
}

/* $CMP_SERVER_DUMP/answer-N.der: the answers, as seeds for tests/fuzz/fuzz-cmp */
static void dump(const unsigned char *der, int len)
{
	static int n;
	const char *dir = getenv("CMP_SERVER_DUMP");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/answer-%d.der", dir, ++n);
	if ((f = fopen(path, "wb"))) {
		fwrite(der, 1, (size_t)len, f);
		fclose(f);
	}
}

static void serve(OSSL_CMP_SRV_CTX *srv, struct server *s, int fd)
{
	BIO *sock = BIO_new_socket(fd, BIO_CLOSE), *b = sock ? BIO_new(BIO_f_buffer()) : NULL;
	char line[1024];
	long clen = -1;
	unsigned char *body = NULL, *out = NULL;
	const unsigned char *p;
	OSSL_CMP_MSG *req = NULL, *rsp = NULL;
	int n, got = 0, len;

	if (!b) {
		if (sock)
			BIO_free(sock);
		else
			close(fd);
		return;
	}
	/* a socket BIO has no gets: the buffer in front of it reads lines */
	b = BIO_push(b, sock);
	/* the request line and headers, up to the blank line */
	while ((n = BIO_gets(b, line, sizeof(line))) > 0) {
		if (strcmp(line, "\r\n") == 0 || strcmp(line, "\n") == 0)
			break;
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
	}
	if (n <= 0 || clen < 0 || clen > 1 << 20 || !(body = malloc(clen ? clen : 1)))
		goto done;
	while (got < clen && (n = BIO_read(b, body + got, (int)(clen - got))) > 0)
		got += n;
	if (got != clen)
		goto done;
	if (strcmp(s->mode, "silent") == 0) {
		/* the client waits for an answer that never comes: until killed */
		pause();
		goto done;
	}
	if (strcmp(s->mode, "http500") == 0) {
		reply(b, "500 Internal Server Error", "text/plain", (const unsigned char *)"no\n",
		      3);
		goto done;
	}
	if (strcmp(s->mode, "garbage") == 0) {
		static const unsigned char junk[] = "this is not a CMP message\n";

		reply(b, "200 OK", "application/pkixcmp", junk, (int)sizeof(junk) - 1);
		goto done;
	}
	p = body;
	req = d2i_OSSL_CMP_MSG(NULL, &p, clen);
	if (req)
		rsp = OSSL_CMP_SRV_process_request(srv, req);
	if (rsp && (len = i2d_OSSL_CMP_MSG(rsp, &out)) > 0) {
		reply(b, "200 OK", "application/pkixcmp", out, len);
		dump(out, len);
	} else
		reply(b, "400 Bad Request", "text/plain", (const unsigned char *)"bad\n", 4);
	ERR_print_errors_fp(stderr);
done:
	OPENSSL_free(out);
	OSSL_CMP_MSG_free(req);
	OSSL_CMP_MSG_free(rsp);
	free(body);
	BIO_free_all(b);
}

static int write_port(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	struct server s = { 0 };
	OSSL_CMP_SRV_CTX *srv = OSSL_CMP_SRV_CTX_new(NULL, NULL);
	OSSL_CMP_CTX *cc = srv ? OSSL_CMP_SRV_CTX_get0_cmp_ctx(srv) : NULL;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	X509_STORE *store = NULL;
	BIO *in;
	int lfd, one = 1;

	if (argc != 5 && argc != 7) {
		fprintf(stderr, "usage: cmp-server CA.pem CA.key PORTFILE MODE [REF SECRETFILE]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	s.mode = argv[4];
	if ((in = BIO_new_file(argv[1], "r"))) {
		s.ca = PEM_read_bio_X509(in, NULL, NULL, NULL);
		BIO_free(in);
	}
	if ((in = BIO_new_file(argv[2], "r"))) {
		s.cakey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
		BIO_free(in);
	}
	if (!cc || !s.ca || !s.cakey ||
	    !OSSL_CMP_SRV_CTX_init(srv, &s, cert_request, NULL, NULL, process_error, cert_conf,
	                           NULL)) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	if (argc == 7) {
		unsigned char secret[256];
		FILE *f = fopen(argv[6], "r");
		size_t n = f ? fread(secret, 1, sizeof(secret), f) : 0;

		if (f)
			fclose(f);
		while (n && (secret[n - 1] == '\n' || secret[n - 1] == '\r'))
			n--;
		if (!n ||
		    !OSSL_CMP_CTX_set1_referenceValue(cc, (unsigned char *)argv[5],
		                                      (int)strlen(argv[5])) ||
		    !OSSL_CMP_CTX_set1_secretValue(cc, secret, (int)n)) {
			fprintf(stderr, "cmp-server: cannot read the secret\n");
			return 1;
		}
	} else {
		/* signature mode: answers signed by the CA; requests by what it issued */
		if (!(store = X509_STORE_new()) || !X509_STORE_add_cert(store, s.ca) ||
		    !OSSL_CMP_CTX_set0_trustedStore(cc, store) ||
		    !OSSL_CMP_CTX_set1_cert(cc, s.ca) || !OSSL_CMP_CTX_set1_pkey(cc, s.cakey)) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
	}
	/* a client that cannot protect its request (wrong secret) is told why, unprotected */
	OSSL_CMP_SRV_CTX_set_send_unprotected_errors(srv, 1);
	OSSL_CMP_CTX_set_log_verbosity(cc, OSSL_CMP_LOG_ERR);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0 ||
	    write_port(argv[3], ntohs(a.sin_port)) != 0) {
		perror("cmp-server");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0)
			serve(srv, &s, fd);
	}
}
