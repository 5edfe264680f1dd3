#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""est-server.py - a small EST (RFC 7030) server for the tests.

It really issues: a test CA (made here, or read from --ca-cert/--ca-key)
signs each request's public key with the request's subject and
subjectAltName.  /cacerts, /csrattrs, /simpleenroll and /simplereenroll
under /.well-known/est.  /simpleenroll needs HTTP Basic (--user,
--password-file) or a client certificate the CA issued; /simplereenroll
needs a client certificate the CA issued whose subject equals the
request's.  It binds 127.0.0.1 on a port the system picks and writes the
port to --port-file once it listens (the test waits for that file).

--mode changes what it answers, for the error tests:
  ok        as above
  junk      200 with text that is no PKCS#7
  otherkey  a certificate for a key of its own, not the request's
  hang      accepts TLS, then never answers
  pending   202 Accepted with Retry-After: 60
"""
import argparse
import base64
import datetime
import http.server
import os
import socketserver
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(NOW + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue(ca_cert, ca_key, subject, pub, sans=None, server=False):
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(NOW + datetime.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(ca_key, hashes.SHA256())


def certs_only(certs):
    der = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    b64 = base64.encodebytes(der)  # lines of 76 and LF
    return b64.replace(b"\n", b"\r\n")  # RFC 8951: the client must take CRLF


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "est-test/1"

    def log_message(self, fmt, *args):
        if self.server.opts.log:
            with open(self.server.opts.log, "a", encoding="utf-8") as f:
                f.write("%s %s\n" % (self.command, fmt % args))

    def send(self, code, body=b"", ctype="text/plain", extra=None):
        self.send_response(code)
        if body or code == 200:
            self.send_header("Content-Type", ctype)
        if ctype.startswith("application/pkcs7") or ctype == "application/csrattrs":
            self.send_header("Content-Transfer-Encoding", "base64")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def base(self):
        p = self.path.split("?")[0]
        if not p.startswith("/.well-known/est/"):
            return None
        return p[len("/.well-known/est/"):].rsplit("/", 1)[-1]

    def client_cert(self):
        der = self.connection.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der) if der else None

    def basic_ok(self):
        opts = self.server.opts
        h = self.headers.get("Authorization", "")
        if not opts.user or not h.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == opts.user and pw == self.server.password

    def do_GET(self):
        op = self.base()
        if self.server.opts.mode == "hang":
            self.server.hang.wait()
            return
        if op == "cacerts":
            self.send(200, certs_only([self.server.ca_cert]), "application/pkcs7-mime")
        elif op == "csrattrs":
            if self.server.opts.csrattrs:
                # CsrAttrs ::= SEQUENCE OF AttrOrOID: challengePassword, EKU OID
                der = bytes.fromhex("3010" "06092a864886f70d010907" "0603551d25")
                self.send(200, base64.encodebytes(der), "application/csrattrs")
            else:
                self.send(204)
        else:
            self.send(404, b"no such EST operation\n")

    def do_POST(self):
        opts = self.server.opts
        op = self.base()
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if opts.mode == "hang":
            self.server.hang.wait()
            return
        if op not in ("simpleenroll", "simplereenroll"):
            self.send(404, b"no such EST operation\n")
            return
        peer = self.client_cert()
        if op == "simpleenroll" and not peer and not self.basic_ok():
            self.send(401, b"authentication required\n", extra={"WWW-Authenticate": 'Basic realm="est"'})
            return
        if op == "simplereenroll" and not peer:
            self.send(401, b"re-enrolment needs the client certificate\n")
            return
        try:
            csr = x509.load_der_x509_csr(base64.b64decode(body))
        except ValueError:
            self.send(400, b"not a base64 PKCS#10 request\n")
            return
        if not csr.is_signature_valid:
            self.send(400, b"request signature invalid\n")
            return
        if op == "simplereenroll" and peer.subject != csr.subject:
            self.send(400, b"subject differs from the certificate's\n")
            return
        if opts.mode == "pending":
            self.send(202, b"pending approval\n", extra={"Retry-After": "60"})
            return
        if opts.mode == "junk":
            self.send(200, b"<html>this is not PKCS#7</html>\n", "application/pkcs7-mime")
            return
        pub = csr.public_key()
        if opts.mode == "otherkey":
            pub = ec.generate_private_key(ec.SECP256R1()).public_key()
        try:
            sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            sans = list(sans)
        except x509.ExtensionNotFound:
            sans = None
        cert = issue(self.server.ca_cert, self.server.ca_key, csr.subject, pub, sans)
        with open(os.path.join(opts.dir, "issued.log"), "a", encoding="utf-8") as f:
            f.write("%s %s %x\n" % (op, csr.subject.rfc4514_string(), cert.serial_number))
        self.send(200, certs_only([cert]), "application/pkcs7-mime; smime-type=certs-only")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="where the CA and server files go")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--mode", default="ok", choices=["ok", "junk", "otherkey", "hang", "pending"])
    ap.add_argument("--ca-cert")
    ap.add_argument("--ca-key")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--csrattrs", action="store_true")
    ap.add_argument("--log")
    opts = ap.parse_args()

    if opts.ca_cert:
        with open(opts.ca_cert, "rb") as f:
            ca_cert = x509.load_pem_x509_certificate(f.read())
        with open(opts.ca_key, "rb") as f:
            ca_key = serialization.load_pem_private_key(f.read(), None)
    else:
        ca_cert, ca_key = make_ca("EST Test CA")
        with open(os.path.join(opts.dir, "ca.pem"), "wb") as f:
            f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
        with open(os.path.join(opts.dir, "ca.key"), "wb") as f:
            f.write(ca_key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    skey = ec.generate_private_key(ec.SECP256R1())
    import ipaddress
    scert = issue(ca_cert, ca_key,
                  x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
                  skey.public_key(),
                  [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
                  server=True)
    spem = os.path.join(opts.dir, "server.pem")
    with open(spem, "wb") as f:
        f.write(scert.public_bytes(serialization.Encoding.PEM))
        f.write(skey.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(spem)
    tls.verify_mode = ssl.CERT_OPTIONAL  # a client certificate, when sent, must be the CA's
    tls.load_verify_locations(cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode())

    srv = Server(("127.0.0.1", 0), Handler)
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    srv.opts = opts
    srv.ca_cert, srv.ca_key = ca_cert, ca_key
    srv.hang = threading.Event()
    srv.password = None
    if opts.password_file:
        with open(opts.password_file, encoding="utf-8") as f:
            srv.password = f.read().rstrip("\n")
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, opts.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
