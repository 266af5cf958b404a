# SPDX-License-Identifier: GPL-2.0-only
"""A TLS terminator for tests: HTTPS on 127.0.0.1 in front of a plain server.

AWS is only ever reached over TLS, so every network path is tested through
one of these at least once. The CA and the server certificate (SAN localhost
and 127.0.0.1) are made here with the openssl command; the CA's PEM is
`ca_file`, to be handed to the program under test the way a host would hold
it (a bundle path, AWS_CA_BUNDLE, a trust store in a mount namespace).

    with TlsProxy(upstream_port) as tls:
        tls.endpoint          # "https://127.0.0.1:PORT"
        tls.ca_file           # the CA that signed the server certificate
        tls.connections       # how many TLS handshakes completed
"""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading

OPENSSL = shutil.which("openssl") or "openssl"


def make_ca_and_server(directory, names=("localhost",), addresses=("127.0.0.1",)):
    """(ca.pem, server.pem, server.key) in directory, made with openssl."""
    ca_key = os.path.join(directory, "ca.key")
    ca_pem = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "server.key")
    csr = os.path.join(directory, "server.csr")
    pem = os.path.join(directory, "server.pem")
    ext = os.path.join(directory, "server.ext")
    run = lambda *args: subprocess.run([OPENSSL, *args], check=True,  # noqa: E731
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem,
        "-days", "2", "-subj", "/CN=ec2-forensics test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=localhost")
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{a}" for a in addresses])
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
        "-out", pem, "-days", "2", "-extfile", ext)
    return ca_pem, pem, key


class TlsProxy:
    def __init__(self, upstream_port, upstream_host="127.0.0.1", listen_host="127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.dir = tempfile.mkdtemp(prefix="tlsproxy.")
        self.ca_file, cert, key = make_ca_and_server(self.dir)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(cert, key)
        self.connections = 0
        self.failed_handshakes = 0
        self._lock = threading.Lock()
        self._sock = None
        self._stopping = False
        self.port = None

    @property
    def endpoint(self):
        return f"https://{self.listen_host}:{self.port}"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.listen_host, 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self._stopping = True
        if self._sock:
            try:
                self._sock.close()
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def _accept(self):
        while not self._stopping:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            client.settimeout(60)
            tls = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.failed_handshakes += 1
            client.close()
            return
        with self._lock:
            self.connections += 1
        try:
            upstream = socket.create_connection(self.upstream, timeout=60)
        except OSError:
            tls.close()
            return
        closed = threading.Event()

        def close_both():
            # Either side ending ends the exchange: a half-open relay would
            # hold the client waiting for an answer that cannot come.
            if closed.is_set():
                return
            closed.set()
            for sock in (tls, upstream):
                try:
                    sock.close()
                except OSError:
                    pass

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                close_both()

        threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()
        pump(tls, upstream)
