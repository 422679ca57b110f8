#!/usr/bin/python3
"""Regenerates testdata/hash/vectors.jsonl: known-answer vectors for
migrate/hash, produced by tools nobody in this project wrote (openssl,
htpasswd, mkpasswd, slappasswd, php, passlib, argon2-cffi, PostgreSQL
pgcrypto, MariaDB) and, for the formats no installed tool writes (Django via
hashlib, ASP.NET Identity), by python hashlib following the documented
layouts. Each line records the tool and its version.

Usage: scripts/gen-hash-vectors.sh   (runs this with /usr/bin/python3)
Env: PGHOST/PGPORT/PGUSER (default 127.0.0.1/5432/postgres), MYSQL_HOST
(default 127.0.0.1, user root). Needs: openssl apache2-utils whois slapd
php-cli python3-passlib python3-bcrypt python3-argon2 postgresql-client
mariadb-client.
"""
import base64, datetime, hashlib, json, os, secrets, struct, subprocess, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "testdata/hash/vectors.jsonl"


def synthetic(y, m, d, male, seq):
    """Same construction as nrn.Synthetic: sequence 9xx, obviously fictitious."""
    s = 900 + (seq % 50) * 2 + (1 if male else 0)
    base = (y % 100) * 10_000_000 + m * 100_000 + d * 1000 + s
    n = base + (2_000_000_000 if y >= 2000 else 0)
    return "%09d%02d" % (base, 97 - n % 97)


N1 = synthetic(1985, 7, 30, True, 0)
N2 = synthetic(2003, 2, 15, False, 1)
dotted = lambda n: f"{n[0:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:11]}"
dashed = lambda n: f"{n[0:6]}-{n[6:9]}-{n[9:11]}"

# (password, nrn it derives from or "")
PASSWORDS = [
    ("correct horse", ""),
    (N1, N1),
    (dotted(N1), N1),
    (dashed(N2), N2),
    ("30071985", N1),
    ("Brüssel-été€", ""),
    ("пароль密码", ""),
]

vectors = []


def run(args, stdin=None, env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run(args, input=stdin, capture_output=True, check=True, env=e)
    return r.stdout.decode().strip()


def version(args):
    try:
        return run(args).splitlines()[0].strip()
    except Exception as ex:  # noqa
        return "unknown (%s)" % ex


def dpkg(pkg):
    return pkg + " " + version(["dpkg-query", "-W", "-f=${Version}", pkg])


def add(tool, ver, scheme, pw, nrn, h, hint="", salt="", expect="match"):
    vectors.append(dict(scheme=scheme, tool=tool, version=ver, password=pw, nrn=nrn,
                        hash=h, hint=hint, salt=salt, expect=expect))


def each(fn):
    for pw, n in PASSWORDS:
        fn(pw, n)


# openssl passwd
ov = version(["openssl", "version"])
for flag, scheme in [("-1", "md5-crypt"), ("-apr1", "apr1"), ("-5", "sha256-crypt"), ("-6", "sha512-crypt")]:
    each(lambda pw, n: add("openssl passwd " + flag, ov, scheme, pw, n, run(["openssl", "passwd", flag, pw])))

# htpasswd (apache2-utils)
hv = dpkg("apache2-utils")
for flags, scheme in [(["-B", "-C", "5"], "bcrypt"), (["-m"], "apr1"), (["-s"], "ldap-sha")]:
    each(lambda pw, n: add("htpasswd -nb " + " ".join(flags), hv, scheme, pw, n,
                           run(["htpasswd", "-nb"] + flags + ["u", pw]).split(":", 1)[1]))

# mkpasswd (whois)
mv = dpkg("whois")
for flags, scheme in [(["-m", "sha512crypt", "-R", "12000"], "sha512-crypt"),
                      (["-m", "sha512crypt"], "sha512-crypt"),
                      (["-m", "sha256crypt", "-R", "7000"], "sha256-crypt"),
                      (["-m", "md5crypt"], "md5-crypt"),
                      (["-m", "bcrypt", "-R", "5"], "bcrypt"),
                      (["-m", "bcrypt-a", "-R", "4"], "bcrypt")]:
    each(lambda pw, n: add("mkpasswd " + " ".join(flags), mv, scheme, pw, n, run(["mkpasswd"] + flags + [pw])))
# Formats we do not implement: must be reported unsupported, never a match.
for flags in (["-m", "yescrypt"], ["-m", "descrypt"], ["-m", "sunmd5"], ["-m", "bsdicrypt"]):
    add("mkpasswd " + " ".join(flags), mv, "", "correct horse", "",
        run(["mkpasswd"] + flags + ["correct horse"]), expect="unsupported")

# slappasswd (slapd)
sv = dpkg("slapd")
for h, scheme, extra in [("{SSHA}", "ldap-ssha", []), ("{SHA}", "ldap-sha", []), ("{MD5}", "ldap-md5", []),
                         ("{SMD5}", "ldap-smd5", []),
                         ("{SSHA256}", "ldap-ssha256", ["-o", "module-load=pw-sha2"]),
                         ("{SSHA512}", "ldap-ssha512", ["-o", "module-load=pw-sha2"]),
                         ("{SHA256}", "ldap-sha256", ["-o", "module-load=pw-sha2"]),
                         ("{SHA512}", "ldap-sha512", ["-o", "module-load=pw-sha2"]),
                         ("{CRYPT}", "ldap-crypt/sha512-crypt", ["-c", "$6$%.8s"]),
                         ("{CRYPT}", "ldap-crypt/md5-crypt", ["-c", "$1$%.8s"])]:
    each(lambda pw, n: add("slappasswd -h " + h + " " + " ".join(extra), sv, scheme, pw, n,
                           run(["slappasswd", "-h", h] + extra + ["-s", pw])))

# php password_hash
pv = "php " + version(["php", "-r", "echo PHP_VERSION;"])
php = lambda algo, opts, pw: run(["php", "-r", "echo password_hash($argv[1], %s, %s);" % (algo, opts), "--", pw])
each(lambda pw, n: add("php password_hash PASSWORD_BCRYPT cost 5", pv, "bcrypt", pw, n, php("PASSWORD_BCRYPT", "['cost'=>5]", pw)))
each(lambda pw, n: add("php password_hash PASSWORD_ARGON2ID m=4096 t=2 p=1", pv, "argon2id", pw, n,
                       php("PASSWORD_ARGON2ID", "['memory_cost'=>4096,'time_cost'=>2,'threads'=>1]", pw)))
each(lambda pw, n: add("php password_hash PASSWORD_ARGON2I m=4096 t=2 p=1", pv, "argon2i", pw, n,
                       php("PASSWORD_ARGON2I", "['memory_cost'=>4096,'time_cost'=>2,'threads'=>1]", pw)))
add("php password_hash PASSWORD_ARGON2ID defaults", pv, "argon2id", N1, N1, php("PASSWORD_ARGON2ID", "[]", N1))

# passlib
import passlib
from passlib import hash as ph
lv = "passlib " + passlib.__version__
for handler, scheme, kw in [
    (ph.phpass, "phpass", dict(ident="P", rounds=8)),
    (ph.phpass, "phpass", dict(ident="H", rounds=10)),
    (ph.django_pbkdf2_sha256, "django-pbkdf2-sha256", dict(rounds=1000)),
    (ph.django_pbkdf2_sha1, "django-pbkdf2-sha1", dict(rounds=1000)),
    (ph.django_bcrypt_sha256, "django-bcrypt-sha256", dict(rounds=5)),
    (ph.django_bcrypt, "django-bcrypt", dict(rounds=5)),
    (ph.django_argon2, "django-argon2", dict(memory_cost=1024, rounds=2, parallelism=2)),
    (ph.django_salted_sha1, "django-sha1", {}),
    (ph.django_salted_md5, "django-md5", {}),
    (ph.pbkdf2_sha256, "pbkdf2-sha256", dict(rounds=1000)),
    (ph.pbkdf2_sha512, "pbkdf2-sha512", dict(rounds=1000)),
    (ph.pbkdf2_sha1, "pbkdf2-sha1", dict(rounds=1000)),
    (ph.scrypt, "scrypt", dict(rounds=10, block_size=8, parallelism=1)),
    (ph.ldap_salted_sha1, "ldap-ssha", {}),
    (ph.ldap_salted_md5, "ldap-smd5", {}),
    (ph.ldap_salted_sha256, "ldap-ssha256", {}),
    (ph.ldap_salted_sha512, "ldap-ssha512", {}),
    (ph.mysql41, "mysql41", {}),
    (ph.sha512_crypt, "sha512-crypt", dict(rounds=20000)),
    (ph.sha256_crypt, "sha256-crypt", dict(rounds=5000)),
    (ph.md5_crypt, "md5-crypt", {}),
    (ph.apr_md5_crypt, "apr1", {}),
    (ph.bcrypt, "bcrypt", dict(rounds=4, ident="2b")),
    (ph.argon2, "argon2id", dict(type="ID", memory_cost=1024, rounds=2, parallelism=2)),
]:
    h = handler.using(**kw) if kw else handler
    each(lambda pw, n: add("passlib " + handler.name + " " + json.dumps(kw, sort_keys=True), lv, scheme, pw, n, h.hash(pw)))
for hx, scheme in [(ph.hex_md5, "md5"), (ph.hex_sha1, "sha1"), (ph.hex_sha256, "sha256"), (ph.hex_sha512, "sha512")]:
    each(lambda pw, n: add("passlib " + hx.name, lv, scheme, pw, n, hx.hash(pw)))
    each(lambda pw, n: add("passlib " + hx.name + " (store hint)", lv, scheme, pw, n, hx.hash(pw), hint=scheme))
# Django's unusable-password marker ("!" + random): no password opens it.
add("passlib django_disabled", lv, "locked", "correct horse", "", ph.django_disabled.hash("correct horse"), expect="unusable")
# passlib's defaults, once: slow but what real apps store.
add("passlib django_pbkdf2_sha256 defaults", lv, "django-pbkdf2-sha256", N1, N1, ph.django_pbkdf2_sha256.hash(N1))
add("passlib sha512_crypt defaults", lv, "sha512-crypt", N1, N1, ph.sha512_crypt.hash(N1))

# PostgreSQL pgcrypto, in a temporary database dropped afterwards.
pgenv = {"PGHOST": os.environ.get("PGHOST", "127.0.0.1"), "PGUSER": os.environ.get("PGUSER", "postgres"),
         "PGCLIENTENCODING": "UTF8"}
db = "overstap_hashvec_%d" % os.getpid()
run(["psql", "-d", "postgres", "-qAtc", "CREATE DATABASE %s" % db], env=pgenv)
try:
    run(["psql", "-d", db, "-qAtc", "CREATE EXTENSION pgcrypto"], env=pgenv)
    pgv = "PostgreSQL " + run(["psql", "-d", db, "-qAtc", "SHOW server_version"], env=pgenv) + \
        " pgcrypto " + run(["psql", "-d", db, "-qAtc", "SELECT extversion FROM pg_extension WHERE extname='pgcrypto'"], env=pgenv)
    pg = lambda sql, pw: run(["psql", "-d", db, "-qAt", "-v", "pw=" + pw], stdin=sql.encode(), env=pgenv)
    for gs, scheme in [("gen_salt('bf', 5)", "bcrypt"), ("gen_salt('md5')", "md5-crypt")]:
        each(lambda pw, n: add("pgcrypto crypt(pw, %s)" % gs, pgv, scheme, pw, n, pg("SELECT crypt(:'pw', %s);" % gs, pw)))
    for gs in ("gen_salt('xdes')", "gen_salt('des')"):
        add("pgcrypto crypt(pw, %s)" % gs, pgv, "", "correct horse", "",
            pg("SELECT crypt(:'pw', %s);" % gs, "correct horse"), expect="unsupported")
    each(lambda pw, n: add("pgcrypto encode(digest(pw,'sha256'),'hex')", pgv, "sha256", pw, n,
                           pg("SELECT encode(digest(:'pw','sha256'),'hex');", pw)))
finally:
    run(["psql", "-d", "postgres", "-qAtc", "DROP DATABASE IF EXISTS %s" % db], env=pgenv)

# MariaDB: PASSWORD() (MySQL 4.1 format) and the SQL digests legacy PHP apps
# used for salted columns. Read-only SELECTs.
myhost = os.environ.get("MYSQL_HOST", "127.0.0.1")
my = lambda sql: run(["mysql", "-h", myhost, "-uroot", "-N", "-B", "-e", sql])
myv = "MariaDB " + my("SELECT VERSION()")
X = lambda s: "X'" + s.encode().hex() + "'"
each(lambda pw, n: add("MariaDB PASSWORD()", myv, "mysql41", pw, n, my("SELECT PASSWORD(%s)" % X(pw))))
SALT = "Zk3$9q!x"
for fn, alg in [("MD5(%s)", "md5"), ("SHA1(%s)", "sha1"), ("SHA2(%s,256)", "sha256"), ("SHA2(%s,512)", "sha512")]:
    each(lambda pw, n: add("MariaDB " + fn % "CONCAT(salt,pw)", myv, alg + "(salt+password)", pw, n,
                           my("SELECT " + fn % ("CONCAT(%s,%s)" % (X(SALT), X(pw)))), hint=alg + "(salt+password)", salt=SALT))
    each(lambda pw, n: add("MariaDB " + fn % "CONCAT(pw,salt)", myv, alg + "(password+salt)", pw, n,
                           my("SELECT " + fn % ("CONCAT(%s,%s)" % (X(pw), X(SALT)))), hint=alg + "(password+salt)", salt=SALT))
JSALT = "Jx8Qw2LpZr5Tn7Vb3Hc9Md4Kf6Gs1Ay0"
each(lambda pw, n: add("MariaDB CONCAT(MD5(CONCAT(pw,salt)),':',salt) (Joomla 1.5 layout)", myv, "joomla", pw, n,
                       my("SELECT CONCAT(MD5(CONCAT(%s,%s)),':',%s)" % (X(pw), X(JSALT), X(JSALT)))))
each(lambda pw, n: add("MariaDB plaintext column", myv, "plaintext", pw, n, pw, hint="plaintext"))

# Django formats per django/contrib/auth/hashers.py, computed with hashlib.
pyv = "python %s hashlib" % sys.version.split()[0]
def django_pbkdf2(pw, alg, it):
    salt = secrets.token_urlsafe(16)[:22]
    dk = hashlib.pbkdf2_hmac(alg, pw.encode(), salt.encode(), it)
    return "pbkdf2_%s$%d$%s$%s" % (alg, it, salt, base64.b64encode(dk).decode())
each(lambda pw, n: add("hashlib Django PBKDF2PasswordHasher layout", pyv, "django-pbkdf2-sha256", pw, n, django_pbkdf2(pw, "sha256", 2000)))
each(lambda pw, n: add("hashlib Django PBKDF2SHA1PasswordHasher layout", pyv, "django-pbkdf2-sha1", pw, n, django_pbkdf2(pw, "sha1", 2000)))

# ASP.NET Identity PasswordHasher (aspnetcore src/Identity/Extensions.Core/src/PasswordHasher.cs).
def aspnet_v2(pw):
    salt = secrets.token_bytes(16)
    return base64.b64encode(b"\x00" + salt + hashlib.pbkdf2_hmac("sha1", pw.encode(), salt, 1000, 32)).decode()
def aspnet_v3(pw, prf, it):
    salt = secrets.token_bytes(16)
    alg = {0: "sha1", 1: "sha256", 2: "sha512"}[prf]
    sub = hashlib.pbkdf2_hmac(alg, pw.encode(), salt, it, 32)
    return base64.b64encode(b"\x01" + struct.pack(">III", prf, it, 16) + salt + sub).decode()
each(lambda pw, n: add("hashlib ASP.NET Identity v2 layout", pyv, "aspnet-identity-v2", pw, n, aspnet_v2(pw)))
each(lambda pw, n: add("hashlib ASP.NET Identity v3 HMACSHA256 10000 layout", pyv, "aspnet-identity-v3", pw, n, aspnet_v3(pw, 1, 10000)))
each(lambda pw, n: add("hashlib ASP.NET Identity v3 HMACSHA512 100000 layout", pyv, "aspnet-identity-v3", pw, n, aspnet_v3(pw, 2, 100000)))

with open(OUT, "w", encoding="utf-8") as f:
    f.write(json.dumps({"_generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "_by": "scripts/gen-hash-vectors.sh", "count": len(vectors)}, ensure_ascii=False) + "\n")
    for v in vectors:
        f.write(json.dumps(v, ensure_ascii=False, sort_keys=True) + "\n")
print("wrote %d vectors to %s" % (len(vectors), OUT))
