"""A real Prosody (Debian's 0.12) on loopback for tests, and a small XMPP
client to talk to it from Python.

    from harness.net import allocate
    from harness.prosody import Prosody, XmppClient

    with Prosody(allocate(), tls=False) as p:   # start() .. stop()
        p.register("jvb", "secret")
        p.brewery            # "jvbbrewery@internal.auth.jitsi.test"
        p.host, p.port       # c2s on 127.0.0.1:<free port>
        p.ca_file            # with tls=True: the CA that signed its cert
        p.kill()             # SIGKILL
        p.restart()          # same port, same accounts (data kept)
        p.pause(); p.resume()  # SIGSTOP / SIGCONT: a hung server
        p.log_text()

Each Prosody lives in its own temporary directory (config, data, log,
certificates), started in the foreground with a generated config: one
VirtualHost `domain`, one MUC component `muc_domain` with
muc_room_locking = false (as Jitsi's own config), c2s only, no s2s, no
HTTP.  With tls=True a CA and a server certificate for both domains are
made with openssl and c2s requires encryption.  extra_config goes in the
global section, muc_config under the MUC component.  stop() (also at exit, and
from __exit__) kills it and removes the directory.

Prosody 0.12 notes: `prosody --version` would start a server (use
`prosodyctl about`); accounts are made with `prosodyctl --config F register`
(the password is on its command line: test accounts only).
"""

import atexit
import base64
import hashlib
import hmac
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

try:
    from harness.net import free_port as _net_free_port
except ImportError:  # pragma: no cover - net.py is someone else's file
    _net_free_port = None

__all__ = ["Prosody", "XmppClient", "XmppError", "make_ca", "free_port"]

PROSODY = "/usr/bin/prosody"
PROSODYCTL = "/usr/bin/prosodyctl"

NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_COLIBRI = "http://jitsi.org/protocol/colibri"

_live = set()


def _cleanup_all():
    for p in list(_live):
        try:
            p.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_cleanup_all)


def free_port(host="127.0.0.1"):
    """A TCP port on host that was free a moment ago."""
    if _net_free_port is not None:
        return _net_free_port(host)
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def available():
    """True when prosody and prosodyctl are installed."""
    return os.access(PROSODY, os.X_OK) and os.access(PROSODYCTL, os.X_OK)


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=60)


def make_ca(directory, name="ca"):
    """A fresh self-signed CA in directory: returns (cert path, key path)."""
    os.makedirs(directory, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".pem", "-days", "3",
             "-subj", "/CN=jvb-lifecycled test CA " + name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=directory)
    os.chmod(os.path.join(directory, name + ".key"), 0o600)
    return (os.path.join(directory, name + ".pem"),
            os.path.join(directory, name + ".key"))


def _make_server_cert(directory, ca_pem, ca_key, names):
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=" + ",".join("DNS:" + n for n in names)
                + "\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=" + names[0], cwd=directory)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", ca_pem,
             "-CAkey", ca_key, "-CAcreateserial", "-out", "server.pem",
             "-days", "3", "-extfile", ext, cwd=directory)
    os.chmod(os.path.join(directory, "server.key"), 0o600)
    return (os.path.join(directory, "server.pem"),
            os.path.join(directory, "server.key"))


def _lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Prosody:
    """One Prosody server on loopback (see the module docstring)."""

    def __init__(self, net=None, tls=False, host="127.0.0.1",
                 domain="auth.jitsi.test", muc_domain=None, port=None,
                 debug_log=False, extra_config="", muc_config=""):
        self.net = net  # kept for symmetry with other harness servers
        self.tls = tls
        self.host = host
        self.domain = domain
        self.muc_domain = muc_domain or "internal." + domain
        self.brewery = "jvbbrewery@" + self.muc_domain
        self.port = port or free_port(host)
        self.debug_log = debug_log
        self.extra_config = extra_config
        self.muc_config = muc_config
        self.dir = tempfile.mkdtemp(prefix="jl-prosody-")
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        self.log_path = os.path.join(self.dir, "prosody.log")
        self.ca_file = None
        self.proc = None
        self._stdout = None
        self.accounts = {}
        self._written = False
        _live.add(self)

    # -- setup ------------------------------------------------------------

    def _write_config(self):
        if self._written:
            return
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        vhost_ssl = ""
        if self.tls:
            certs = os.path.join(self.dir, "certs")
            ca_pem, ca_key = make_ca(certs)
            cert, key = _make_server_cert(certs, ca_pem, ca_key,
                                          [self.domain, self.muc_domain])
            self.ca_file = ca_pem
            vhost_ssl = ("    ssl = { key = %s; certificate = %s; }\n"
                         % (_lua_str(key), _lua_str(cert)))
        cfg = [
            "daemonize = false",
            "run_as_root = true" if os.geteuid() == 0 else "",
            "pidfile = %s" % _lua_str(os.path.join(self.dir, "prosody.pid")),
            "data_path = %s" % _lua_str(os.path.join(self.dir, "data")),
            "certificates = %s" % _lua_str(os.path.join(self.dir, "certs")),
            "log = { %s = %s }" % ("debug" if self.debug_log else "info",
                                   _lua_str(self.log_path)),
            "interfaces = { %s }" % _lua_str(self.host),
            "local_interfaces = { %s }" % _lua_str(self.host),
            "c2s_ports = { %d }" % self.port,
            "s2s_ports = { }",
            "component_ports = { }",
            "http_ports = { }",
            "https_ports = { }",
            "admin_socket = %s" % _lua_str(os.path.join(self.dir,
                                                        "admin.sock")),
            'modules_enabled = { "saslauth", "tls", "disco", "ping", '
            '"roster", "posix" }',
            'modules_disabled = { "s2s", "offline", "http", '
            '"admin_shell" }',
            'authentication = "internal_hashed"',
            'storage = "internal"',
            "c2s_require_encryption = %s" % ("true" if self.tls else
                                             "false"),
            "allow_unencrypted_plain_auth = false",
            self.extra_config,
            "",
            "VirtualHost %s" % _lua_str(self.domain),
            vhost_ssl,
            "Component %s \"muc\"" % _lua_str(self.muc_domain),
            "    muc_room_locking = false",
            "    muc_room_default_public_jids = true",
            self.muc_config,
            "",
        ]
        with open(self.config, "w") as f:
            f.write("\n".join(cfg))
        self._written = True

    # -- lifecycle --------------------------------------------------------

    def start(self, timeout=20.0):
        """Start (or start again) and wait until c2s accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        self._write_config()
        if self._stdout is None:
            self._stdout = open(os.path.join(self.dir, "stdout.txt"), "ab")
        self.proc = subprocess.Popen(
            [PROSODY, "--config", self.config, "-F"],
            stdin=subprocess.DEVNULL, stdout=self._stdout,
            stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("prosody exited with %s:\n%s" % (
                    self.proc.returncode, self.log_text()[-3000:]))
            try:
                with socket.create_connection((self.host, self.port),
                                              timeout=1.0):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("prosody did not listen on %s:%d:\n%s"
                                   % (self.host, self.port,
                                      self.log_text()[-3000:]))
            time.sleep(0.05)

    def restart(self, timeout=20.0):
        """Stop if running (SIGTERM), then start on the same port, with the
        same accounts."""
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()
        return self.start(timeout)

    def terminate(self, timeout=10.0):
        """SIGTERM (a clean shutdown) and wait."""
        self._signal_and_wait(signal.SIGTERM, timeout)

    def kill(self):
        """SIGKILL and wait: clients see their connections reset."""
        self._signal_and_wait(signal.SIGKILL, 10.0)

    def _signal_and_wait(self, sig, timeout):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGCONT)  # if paused
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def pause(self):
        """SIGSTOP: the kernel still accepts connections, nothing answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Kill and remove everything (idempotent)."""
        if self.proc is not None:
            self.kill()
            self.proc = None
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None
        if self.dir is not None and os.environ.get("JL_KEEP_PROSODY") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        _live.discard(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- accounts and logs ------------------------------------------------

    def register(self, user, password):
        """Create (or reset) user@domain."""
        self._write_config()
        r = subprocess.run(
            [PROSODYCTL, "--config", self.config, "register", user,
             self.domain, password],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60, cwd=self.dir)
        if r.returncode != 0:
            raise RuntimeError("prosodyctl register %s failed: %s"
                               % (user, r.stdout.decode(errors="replace")))
        self.accounts[user] = password

    def password_file(self, user, directory=None):
        """A 0600 file holding user's password (for programs under test)."""
        path = os.path.join(directory or self.dir, "%s.password" % user)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.accounts[user] + "\n")
        return path

    def log_text(self):
        out = []
        for name in ("stdout.txt", "prosody.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    out.append(f.read().decode(errors="replace"))
            except (OSError, TypeError):
                pass
        return "\n".join(out)

    def client(self, user, **kw):
        """An XmppClient logged in as user (see XmppClient)."""
        c = XmppClient(self.host, self.port, self.domain, user,
                       self.accounts[user],
                       ca_file=self.ca_file if self.tls else None, **kw)
        return c.connect()


class XmppError(RuntimeError):
    pass


class XmppClient:
    """A small blocking XMPP client: STARTTLS (verified against ca_file),
    SCRAM-SHA-1, bind; then MUC join/leave and colibri stats presences.
    Enough to stand in for a bridge or to check a server from a test.

        c = XmppClient(host, port, domain, user, password, ca_file=None)
        c.connect()                                  # raises XmppError
        c.join(room, nick, stats={"drain": "false"}) # waits for 110
        c.presence(room, nick, stats={...})          # a stats update
        c.leave(room, nick); c.close()
    """

    def __init__(self, host, port, domain, user, password, ca_file=None,
                 timeout=10.0):
        self.host, self.port, self.domain = host, port, domain
        self.user, self.password = user, password
        self.ca_file = ca_file
        self.timeout = timeout
        self.sock = None
        self.parser = None
        self.depth = 0
        self.pending = []
        self.jid = None

    # -- the stream -------------------------------------------------------

    def _open_stream(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.pending = []
        self._send("<?xml version='1.0'?><stream:stream to='%s' "
                   "version='1.0' xmlns='jabber:client' xmlns:stream="
                   "'http://etherx.jabber.org/streams'>" % self.domain)
        # Wait for the server's stream header.
        while self.depth == 0:
            self._read_more()

    def _send(self, data):
        self.sock.sendall(data.encode())

    def _read_more(self):
        self.sock.settimeout(self.timeout)
        data = self.sock.recv(65536)
        if not data:
            raise XmppError("connection closed by the server")
        self.parser.feed(data)
        for event, el in self.parser.read_events():
            if event == "start":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 1:
                    self.pending.append(el)
                elif self.depth == 0:
                    raise XmppError("stream closed by the server")

    def next(self, match=None, timeout=None):
        """The next top-level element (for which match(el) is true)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, el in enumerate(self.pending):
                if match is None or match(el):
                    return self.pending.pop(i)
            if time.monotonic() > deadline:
                raise XmppError("timed out waiting for a stanza")
            self._read_more()

    # -- login ------------------------------------------------------------

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port),
                                             timeout=self.timeout)
        try:
            self._negotiate()
        except Exception:
            self.close()
            raise
        return self

    def _features(self):
        return self.next(lambda e: e.tag == "{%s}features" % NS_STREAM)

    def _negotiate(self):
        self._open_stream()
        feats = self._features()
        if self.ca_file is not None:
            if feats.find("{%s}starttls" % NS_TLS) is None:
                raise XmppError("server offers no STARTTLS")
            self._send("<starttls xmlns='%s'/>" % NS_TLS)
            self.next(lambda e: e.tag == "{%s}proceed" % NS_TLS)
            ctx = ssl.create_default_context(cafile=self.ca_file)
            self.sock = ctx.wrap_socket(self.sock,
                                        server_hostname=self.domain)
            self._open_stream()
            feats = self._features()
        mechs = [m.text for m in feats.iter("{%s}mechanism" % NS_SASL)]
        if "SCRAM-SHA-1" not in mechs:
            raise XmppError("no SCRAM-SHA-1 among %r" % mechs)
        self._scram_sha1()
        self._open_stream()
        self._features()
        self._send("<iq type='set' id='bind1'><bind xmlns='%s'/></iq>"
                   % NS_BIND)
        iq = self.next(lambda e: e.get("id") == "bind1")
        jid = iq.find(".//{%s}jid" % NS_BIND)
        if iq.get("type") != "result" or jid is None:
            raise XmppError("bind failed")
        self.jid = jid.text

    def _scram_sha1(self):
        nonce = base64.b64encode(os.urandom(18)).decode()
        user = self.user.replace("=", "=3D").replace(",", "=2C")
        first_bare = "n=%s,r=%s" % (user, nonce)
        self._send("<auth xmlns='%s' mechanism='SCRAM-SHA-1'>%s</auth>" % (
            NS_SASL, base64.b64encode(("n,," + first_bare).encode())
            .decode()))
        ch = self.next(lambda e: e.tag.startswith("{%s}" % NS_SASL))
        if ch.tag != "{%s}challenge" % NS_SASL:
            raise XmppError("SASL: %s" % ch.tag)
        server_first = base64.b64decode(ch.text or "").decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        if not attrs["r"].startswith(nonce):
            raise XmppError("SASL: bad nonce")
        salted = hashlib.pbkdf2_hmac("sha1", self.password.encode(),
                                     base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
        stored = hashlib.sha1(client_key).digest()
        final_nop = "c=biws,r=" + attrs["r"]
        auth_msg = ",".join([first_bare, server_first, final_nop])
        sig = hmac.new(stored, auth_msg.encode(), hashlib.sha1).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        final = final_nop + ",p=" + base64.b64encode(proof).decode()
        self._send("<response xmlns='%s'>%s</response>" % (
            NS_SASL, base64.b64encode(final.encode()).decode()))
        res = self.next(lambda e: e.tag.startswith("{%s}" % NS_SASL))
        if res.tag != "{%s}success" % NS_SASL:
            raise XmppError("authentication failed")

    # -- MUC --------------------------------------------------------------

    @staticmethod
    def _stats_xml(stats):
        if stats is None:
            return ""
        parts = ["<stats xmlns='%s'>" % NS_COLIBRI]
        for k, v in stats.items():
            parts.append("<stat name='%s' value='%s'/>" % (
                _xml_attr(str(k)), _xml_attr(str(v))))
        parts.append("</stats>")
        return "".join(parts)

    def join(self, room, nick, stats=None, wait=True):
        """Join room as nick (with a stats presence if stats is a dict);
        returns the self-presence, or raises XmppError (e.g. on 409)."""
        self._send("<presence to='%s/%s'><x xmlns='%s'><history "
                   "maxstanzas='0'/></x>%s</presence>" % (
                       _xml_attr(room), _xml_attr(nick), NS_MUC,
                       self._stats_xml(stats)))
        if not wait:
            return None
        frm = "%s/%s" % (room, nick)

        def mine(e):
            return (e.tag == "{%s}presence" % NS_CLIENT
                    and e.get("from", "").lower() == frm.lower()
                    and (e.get("type") == "error"
                         or e.find(".//{%s}status[@code='110']"
                                   % NS_MUC_USER) is not None))
        pres = self.next(mine)
        if pres.get("type") == "error":
            err = pres.find("{%s}error" % NS_CLIENT)
            cond = [c.tag.split("}")[1] for c in (err if err is not None
                                                  else [])]
            raise XmppError("join refused: %s" % ",".join(cond))
        return pres

    def presence(self, room, nick, stats=None):
        self._send("<presence to='%s/%s'>%s</presence>" % (
            _xml_attr(room), _xml_attr(nick), self._stats_xml(stats)))

    def leave(self, room, nick):
        self._send("<presence type='unavailable' to='%s/%s'/>" % (
            _xml_attr(room), _xml_attr(nick)))

    def send_raw(self, xml):
        """Send XML as it is (the caller escapes)."""
        self._send(xml)

    def kick(self, room, nick, timeout=None):
        """As a moderator: remove nick from room (status 307)."""
        self._send("<iq type='set' id='kick1' to='%s'><query xmlns='"
                   "http://jabber.org/protocol/muc#admin'><item nick='%s' "
                   "role='none'/></query></iq>" % (_xml_attr(room),
                                                   _xml_attr(nick)))
        iq = self.next(lambda e: e.get("id") == "kick1", timeout)
        if iq.get("type") != "result":
            raise XmppError("kick refused")

    def ping(self):
        """XEP-0199 ping to the server; True when answered."""
        self._send("<iq type='get' id='ping1' to='%s'><ping "
                   "xmlns='urn:xmpp:ping'/></iq>" % self.domain)
        iq = self.next(lambda e: e.get("id") == "ping1")
        return iq.get("type") == "result"

    def close(self):
        if self.sock is not None:
            try:
                self._send("</stream:stream>")
            except OSError:
                pass
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def _xml_attr(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace("'", "&apos;")
            .replace('"', "&quot;"))
