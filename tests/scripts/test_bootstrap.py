"""scripts/jvb-bootstrap against a fake IMDSv2 and temporary config dirs.

The HOCON results are also read back with Typesafe Config (the library JVB
reads jvb.conf with; Debian's libtypesafe-config-java, through java), so the
tests check what a bridge would see, not only the bytes.
"""

import copy
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fakeimds import FakeImds  # noqa: E402
from runner import main  # noqa: E402

SCRIPT = os.environ.get("JVB_BOOTSTRAP",
                        os.path.join(HERE, "..", "..", "scripts", "jvb-bootstrap"))
TYPESAFE_JAR = "/usr/share/java/typesafe-config.jar"

IID = "i-0123456789abcdef0"
LOCAL = "10.0.1.23"
PUBLIC = "3.120.7.42"
BEGIN = "# BEGIN jvb-lifecycled (managed by jvb-bootstrap)"
END = "# END jvb-lifecycled"

# What the Debian package (jitsi-videobridge2 postinst, 2025+) writes on a new
# install, plus settings an operator added by hand.
DEBIAN_JVB_CONF = """\
videobridge {
    apis.xmpp-client.configs {
        shard {
            HOSTNAME=localhost
            DOMAIN="auth.meet.example.org"
            USERNAME=jvb
            PASSWORD="Pw0rd-not-in-logs"
            MUC_JIDS="jvbbrewery@internal.auth.meet.example.org"
            MUC_NICKNAME=5e5c1f2a-8a1b-4c1e-9d6e-2f1f0a6b7c3d
        }
    }
    # operator: websockets through nginx
    http-servers.public { port = 9090 }
    websockets {
        enabled = true
        domain = "meet.example.org:443"
        tls = true
    }
    cc.trust-bwe = false
}
ice4j {
    harvest {
        mapping {
            aws {
                enabled = false
            }
            stun {
                addresses = ["meet-jit-si-turnrelay.jitsi.net:443"]
            }
        }
    }
}
// operator, 2024-03: shorter drains
videobridge.shutdown.graceful-shutdown-max-duration = 2 hours
videobridge.apis.rest.enabled=false
"""
DEBIAN_NICK_OLD = "MUC_NICKNAME=5e5c1f2a-8a1b-4c1e-9d6e-2f1f0a6b7c3d"
DEBIAN_NICK_NEW = 'MUC_NICKNAME="%s"' % IID

# An install from the 2020-2024 packages: jvb.conf has only the websocket
# server; XMPP and NAT settings are in the legacy properties.
LEGACY_JVB_CONF = """\
videobridge {
    http-servers {
        public {
            port = 9090
        }
    }
    websockets {
        enabled = true
        domain = "meet.example.org:443"
        tls = true
    }
}
"""
LEGACY_PROPS = """\
org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=false
org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES=meet-jit-si-turnrelay.jitsi.net:443
org.jitsi.videobridge.ENABLE_STATISTICS=true
org.jitsi.videobridge.STATISTICS_TRANSPORT=muc
org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost
org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.meet.example.org
org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb
org.jitsi.videobridge.xmpp.user.shard.PASSWORD=Xy7pQw2z
org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.meet.example.org
org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=0f4c6d9e-1111-2222-3333-444455556666
# from a NAT how-to
org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS = 172.31.5.5
org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS = 52.1.2.3
org.jitsi.videobridge.ENABLE_REST_SHUTDOWN=false
org.jitsi.videobridge.rest.private.jetty.port: 8888
"""
LEGACY_PROPS_EXPECTED = """\
org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true
org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES=meet-jit-si-turnrelay.jitsi.net:443
org.jitsi.videobridge.ENABLE_STATISTICS=true
org.jitsi.videobridge.STATISTICS_TRANSPORT=muc
org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost
org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.meet.example.org
org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb
org.jitsi.videobridge.xmpp.user.shard.PASSWORD=Xy7pQw2z
org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.meet.example.org
org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=i-0123456789abcdef0
# from a NAT how-to
org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS = 10.0.1.23
org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS = 3.120.7.42
org.jitsi.videobridge.ENABLE_REST_SHUTDOWN=true
org.jitsi.videobridge.rest.private.jetty.port: 8080
"""

# docker-jitsi-meet's jvb.conf template as rendered with its defaults.
DOCKER_JVB_CONF = """\
videobridge {
    cc {
        use-vla-target-bitrate = false
        trust-bwe = true
    }
    ice {
        udp {
            port = 10000
        }
        advertise-private-candidates = true
    }
    apis {
        xmpp-client {
            configs {
                shard0 {
                    HOSTNAME = "xmpp.meet.jitsi"
                    PORT = "5222"
                    DOMAIN = "auth.meet.jitsi"
                    USERNAME = "jvb"
                    PASSWORD = "f00b4rf00b4r"
                    MUC_JIDS = "jvbbrewery@internal-muc.meet.jitsi"
                    MUC_NICKNAME = "ip-10-0-1-23" # from $HOSTNAME
                    DISABLE_CERTIFICATE_VERIFICATION = true
                }
            }
        }
        rest {
            enabled = false
        }
    }
    rest {
        shutdown {
            enabled = false
        }
    }
    stats {
        enabled = true
    }
    http-servers {
        private {
          host = 0.0.0.0
          send-server-version = false
        }
    }
}

ice4j {
    harvest {
        mapping {
            aws {
                enabled = true
            }
            stun {
                addresses = [ "meet-jit-si-turnrelay.jitsi.net:443" ]
            }
            static-mappings = [
                {
                    local-address = "172.17.0.5"
                    public-address = "203.0.113.9"
                    name = "ip-0"
                },
            ]
        }
    }
}

include "custom-jvb.conf"
"""


def have_java():
    return shutil.which("java") and shutil.which("javac") and \
        os.path.exists(TYPESAFE_JAR)


def set_path(d, path, value):
    keys = path.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def get_path(d, path):
    for k in path.split("."):
        d = d[k]
    return d


def parse_props(text):
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip()[0] in "#!":
            continue
        m = re.match(r"\s*([^\s=:]+)\s*[=:]?\s*(.*)$", line)
        out[m.group(1)] = m.group(2)
    return out


class BootstrapTest(unittest.TestCase):
    javadir = None

    @classmethod
    def setUpClass(cls):
        if have_java():
            cls._javatmp = tempfile.TemporaryDirectory()
            cls.javadir = cls._javatmp.name
            subprocess.run(["javac", "-cp", TYPESAFE_JAR, "-d", cls.javadir,
                            os.path.join(HERE, "HoconDump.java")],
                           check=True, timeout=120)

    @classmethod
    def tearDownClass(cls):
        if cls.javadir is not None:
            cls._javatmp.cleanup()

    def setUp(self):
        self.imds = FakeImds(IID, LOCAL, PUBLIC).start()
        self.addCleanup(self.imds.stop)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = os.path.join(tmp.name, "videobridge")
        os.mkdir(self.dir)

    # helpers ---------------------------------------------------------------

    def seed(self, jvb_conf, props=None, mode=0o640):
        paths = [self.write("jvb.conf", jvb_conf, mode)]
        if props is not None:
            paths.append(self.write("sip-communicator.properties", props, mode))
        return paths

    def write(self, name, text, mode=0o640):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def run_script(self, *args, imds=True, env=None):
        argv = [SCRIPT, "--config-dir", self.dir, "--imds-retry-delay", "0"]
        if imds:
            argv += ["--imds", self.imds.endpoint]
        argv += list(args)
        e = {k: v for k, v in os.environ.items()
             if k != "AWS_EC2_METADATA_SERVICE_ENDPOINT"}
        e.update(env or {})
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=120, env=e)

    def run_ok(self, *args, **kw):
        p = self.run_script(*args, **kw)
        self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s"
                         % (p.stdout, p.stderr))
        return p

    def snapshot(self):
        out = {}
        for name in sorted(os.listdir(self.dir)):
            path = os.path.join(self.dir, name)
            st = os.stat(path)
            with open(path, "rb") as f:
                out[name] = (f.read(), st.st_mtime_ns, stat.S_IMODE(st.st_mode))
        return out

    def hocon(self, *texts):
        """Each text parsed by Typesafe Config, as a dict."""
        if self.javadir is None:
            self.skipTest("missing: java, javac or libtypesafe-config-java")
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, t in enumerate(texts):
                p = os.path.join(d, "f%d.conf" % i)
                with open(p, "w") as f:
                    f.write(t)
                paths.append(p)
            r = subprocess.run(
                ["java", "-cp", "%s:%s" % (self.javadir, TYPESAFE_JAR),
                 "HoconDump"] + paths,
                capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, "HOCON did not parse: " + r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def split_block(self, text):
        """(text before the managed block, the block); the block must end
        the file, preceded by one blank line."""
        self.assertTrue(text.endswith(END + "\n"), "block not at the end")
        self.assertEqual(text.count(BEGIN), 1)
        head, block = text.split("\n" + BEGIN + "\n")
        return head, BEGIN + "\n" + block

    def expected_hocon(self, before, nick_paths=(), public=True, port=8080):
        want = copy.deepcopy(before)
        set_path(want, "videobridge.apis.rest.enabled", True)
        set_path(want, "videobridge.rest.shutdown.enabled", True)
        set_path(want, "videobridge.http-servers.private.host", LOCAL)
        set_path(want, "videobridge.http-servers.private.port", port)
        for p in nick_paths:
            set_path(want, p, IID)
        if public:
            set_path(want, "ice4j.harvest.mapping.aws.enabled", False)
            set_path(want, "ice4j.harvest.mapping.static-mappings",
                     [{"local-address": LOCAL, "public-address": PUBLIC}])
        return want

    # tests -----------------------------------------------------------------

    def test_debian_layout_edited_and_idempotent(self):
        self.seed(DEBIAN_JVB_CONF)
        self.imds.scan_argv = True
        p1 = self.run_ok()
        self.assertEqual(self.imds.argv_leaks, [],
                         "the IMDS token was on a command line")
        self.assertIn("updated", p1.stdout)
        first = self.snapshot()
        after = first["jvb.conf"][0].decode()

        # The operator's file, byte for byte, but for the nickname value.
        head, block = self.split_block(after)
        self.assertEqual(head,
                         DEBIAN_JVB_CONF.replace(DEBIAN_NICK_OLD, DEBIAN_NICK_NEW))
        self.assertEqual(first["jvb.conf"][2], 0o640, "mode not kept")
        self.assertEqual(self.imds.unauthorized(), [],
                         "a metadata GET went out without the IMDSv2 token")

        # What JVB reads: our keys set, every other key as it was.
        before, now = self.hocon(DEBIAN_JVB_CONF, after)
        want = self.expected_hocon(
            before, ["videobridge.apis.xmpp-client.configs.shard.MUC_NICKNAME"])
        self.assertEqual(now, want)

        # Twice on the same directory: the same result, files not rewritten.
        p2 = self.run_ok()
        self.assertNotIn("updated", p2.stdout)
        self.assertEqual(self.snapshot(), first)

    def test_legacy_properties_edited_in_place(self):
        self.seed(LEGACY_JVB_CONF, LEGACY_PROPS, mode=0o600)
        self.run_ok()
        first = self.snapshot()
        self.assertEqual(self.read("sip-communicator.properties"),
                         LEGACY_PROPS_EXPECTED)
        self.assertEqual(first["sip-communicator.properties"][2], 0o600)
        head, _ = self.split_block(self.read("jvb.conf"))
        self.assertEqual(head, LEGACY_JVB_CONF)
        before, now = self.hocon(LEGACY_JVB_CONF, self.read("jvb.conf"))
        self.assertEqual(now, self.expected_hocon(before))
        # Properties: only the keys the script manages differ.
        old, new = parse_props(LEGACY_PROPS), parse_props(
            self.read("sip-communicator.properties"))
        self.assertEqual(set(old), set(new))
        changed = {k for k in old if old[k] != new[k]}
        self.assertEqual(changed, {
            "org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER",
            "org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME",
            "org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS",
            "org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS",
            "org.jitsi.videobridge.ENABLE_REST_SHUTDOWN",
            "org.jitsi.videobridge.rest.private.jetty.port",
        })
        self.run_ok()
        self.assertEqual(self.snapshot(), first)

    def test_docker_layout_and_port(self):
        self.seed(DOCKER_JVB_CONF)
        self.run_ok("--port", "8181")
        after = self.read("jvb.conf")
        head, _ = self.split_block(after)
        self.assertEqual(head, DOCKER_JVB_CONF.replace(
            'MUC_NICKNAME = "ip-10-0-1-23" # from $HOSTNAME',
            'MUC_NICKNAME = "%s" # from $HOSTNAME' % IID))
        before, now = self.hocon(DOCKER_JVB_CONF, after)
        want = self.expected_hocon(
            before, ["videobridge.apis.xmpp-client.configs.shard0.MUC_NICKNAME"],
            port=8181)
        self.assertEqual(now, want)
        first = self.snapshot()
        self.run_ok("--port", "8181")
        self.assertEqual(self.snapshot(), first)

    def test_no_public_address_leaves_nat_alone(self):
        self.imds.data["public-ipv4"] = None
        self.seed(DOCKER_JVB_CONF, LEGACY_PROPS)
        p = self.run_ok()
        self.assertIn("no public address", p.stdout)
        before, now = self.hocon(DOCKER_JVB_CONF, self.read("jvb.conf"))
        want = self.expected_hocon(
            before, ["videobridge.apis.xmpp-client.configs.shard0.MUC_NICKNAME"],
            public=False)
        self.assertEqual(now, want)
        self.assertEqual(get_path(now, "ice4j.harvest.mapping.static-mappings"),
                         [{"local-address": "172.17.0.5",
                           "public-address": "203.0.113.9", "name": "ip-0"}])
        props = parse_props(self.read("sip-communicator.properties"))
        self.assertEqual(
            props["org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS"], "52.1.2.3")
        self.assertEqual(
            props["org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER"], "false")

    def test_block_moves_to_end_and_stays_stable(self):
        self.seed(DEBIAN_JVB_CONF)
        self.run_ok()
        # Another tool appends after our block (as `hocon set` would).
        with open(os.path.join(self.dir, "jvb.conf"), "a") as f:
            f.write("videobridge.http-servers.private.host = 127.0.0.1\n")
        self.run_ok()
        text = self.read("jvb.conf")
        head, _ = self.split_block(text)
        self.assertTrue(head.endswith(
            "videobridge.apis.rest.enabled=false\n"
            "videobridge.http-servers.private.host = 127.0.0.1\n"))
        (now,) = self.hocon(text)
        self.assertEqual(get_path(now, "videobridge.http-servers.private.host"),
                         LOCAL)
        first = self.snapshot()
        self.run_ok()
        self.assertEqual(self.snapshot(), first)

    def test_file_without_final_newline(self):
        conf = DEBIAN_JVB_CONF.rstrip("\n")
        self.seed(conf)
        self.run_ok()
        head, _ = self.split_block(self.read("jvb.conf"))
        self.assertEqual(head, conf.replace(DEBIAN_NICK_OLD, DEBIAN_NICK_NEW)
                         + "\n")
        first = self.snapshot()
        self.run_ok()
        self.assertEqual(self.snapshot(), first)

    def test_env_endpoint_and_slow_imds(self):
        # IMDS not ready for the first two token requests, endpoint from env.
        self.imds.fail_token_puts = 2
        self.seed(DEBIAN_JVB_CONF)
        self.run_ok("--imds-attempts", "3", imds=False,
                    env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": self.imds.endpoint})
        self.assertIn(DEBIAN_NICK_NEW, self.read("jvb.conf"))
        puts = [e for e in self.imds.log if e[0] == "PUT"]
        self.assertEqual([e[2] for e in puts], [503, 503, 200])

    def test_dry_run_writes_nothing_and_hides_passwords(self):
        self.seed(DEBIAN_JVB_CONF, LEGACY_PROPS)
        before = self.snapshot()
        p = self.run_ok("--dry-run")
        self.assertEqual(self.snapshot(), before)
        self.assertIn('+' + ' ' * 12 + DEBIAN_NICK_NEW, p.stdout)
        self.assertIn("+videobridge.apis.rest.enabled = true", p.stdout)
        self.assertIn("+org.jitsi.videobridge.ENABLE_REST_SHUTDOWN=true", p.stdout)
        for secret in ("Pw0rd-not-in-logs", "Xy7pQw2z"):
            self.assertNotIn(secret, p.stdout + p.stderr)

    def test_missing_legacy_nickname_added(self):
        line = "org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=%s\n"
        props = LEGACY_PROPS.replace(
            line % "0f4c6d9e-1111-2222-3333-444455556666", "")
        self.seed(LEGACY_JVB_CONF, props)
        self.run_ok()
        self.assertEqual(self.read("sip-communicator.properties"),
                         LEGACY_PROPS_EXPECTED.replace(line % IID, "")
                         + line % IID)
        first = self.snapshot()
        self.run_ok()
        self.assertEqual(self.snapshot(), first)

    def test_no_nickname_anywhere(self):
        conf = DEBIAN_JVB_CONF.replace("            %s\n" % DEBIAN_NICK_OLD, "")
        self.seed(conf)
        before = self.snapshot()
        p = self.run_script()
        self.assertEqual(p.returncode, 1)
        self.assertIn("MUC_NICKNAME", p.stderr)
        self.assertEqual(self.snapshot(), before)
        # A config kept elsewhere: named on the command line.
        self.run_ok("--xmpp-config-id", "shard")
        before_h, now = self.hocon(conf, self.read("jvb.conf"))
        want = self.expected_hocon(
            before_h, ["videobridge.apis.xmpp-client.configs.shard.MUC_NICKNAME"])
        self.assertEqual(now, want)

    def assert_fails_untouched(self, *args, files=None, message=None):
        self.seed(*(files or (DEBIAN_JVB_CONF, LEGACY_PROPS)))
        before = self.snapshot()
        p = self.run_script(*args)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertEqual(self.snapshot(), before)
        if message:
            self.assertIn(message, p.stderr)
        return p

    def test_garbage_instance_id(self):
        for bad in ("i-0123456789abcdef0; rm -rf /", "i-XYZ", "",
                    "i-0123456789abcdef0\nfoo", "i-0123456", '"><'):
            with self.subTest(bad=bad):
                self.imds.data["instance-id"] = bad
                self.assert_fails_untouched(message="instance-id")

    def test_garbage_addresses(self):
        for key, bad in (("local-ipv4", "10.0.1.256"), ("local-ipv4", "10.0.1"),
                         ("local-ipv4", "10.0.01.2"), ("local-ipv4", "fe80::1"),
                         ("public-ipv4", "3.120.7.42,1.2.3.4"),
                         ("public-ipv4", "<html>")):
            with self.subTest(key=key, bad=bad):
                self.imds.data = {"instance-id": IID, "local-ipv4": LOCAL,
                                  "public-ipv4": PUBLIC, key: bad}
                self.assert_fails_untouched(message=key)

    def test_imds_down(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # Nothing listens on that port now: connection refused.
        p = self.assert_fails_untouched(
            "--imds", "http://127.0.0.1:%d" % port, "--imds-attempts", "2",
            message="did not answer after 2 attempts")
        self.assertNotIn("updated", p.stdout)

    def test_imds_missing_instance_id(self):
        self.imds.data["instance-id"] = None
        self.assert_fails_untouched("--imds-attempts", "1",
                                    message="instance-id: HTTP 404")

    def test_half_block_refused(self):
        self.assert_fails_untouched(
            files=(DEBIAN_JVB_CONF + "\n" + BEGIN + "\nvideobridge.x = 1\n",),
            message="without its END")

    def test_root_braces_refused(self):
        self.assert_fails_untouched(
            files=("{\n" + DEBIAN_JVB_CONF + "}\n",), message="root object")

    def test_bad_usage(self):
        self.seed(DEBIAN_JVB_CONF)
        for args in (("--port", "0"), ("--port", "70000"), ("--port", "x"),
                     ("--imds", "ftp://x"), ("--xmpp-config-id", "a\"b"),
                     ("--frobnicate",)):
            with self.subTest(args=args):
                p = self.run_script(*args)
                self.assertEqual(p.returncode, 2)

    def test_shellcheck(self):
        if shutil.which("shellcheck") is None:
            self.skipTest("missing: shellcheck")
        p = subprocess.run(["shellcheck", SCRIPT], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    main()
