#!/usr/bin/env python3
"""An independent verifier of aduan's audit log, written from docs/audit.md
alone (no aduan code): chain hashes, Merkle leaves, RFC 6962/9162 inclusion
and consistency proofs, C2SP signed-note checkpoints and signed case bundles.

    verify.py vectors docs/audit-vectors.json
    verify.py fetch --url URL --token TOKEN --complaint ID [--kept NOTE | --from SIZE] [--out evidence.json]
    verify.py evidence evidence.json
    verify.py bundle case.json --key key.json

Exits 0 when everything verifies; otherwise prints why on stderr and exits 1.
Needs Python 3.9+ and the `cryptography` package (Ed25519); hashing is hashlib.
"""

import argparse
import base64
import decimal
import hashlib
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Refused(Exception):
    """Something does not verify."""



def b64(text):
    """Strict base64 (docs/audit.md, Encodings): the alphabet, padding, and
    zero unused bits, so no two spellings decode to the same bytes."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise ValueError("non-canonical base64: %r" % text)
    return raw

def check(condition, why):
    if not condition:
        raise Refused(why)


# --- Canonical JSON (docs/audit.md, "Canonical JSON") -----------------------

def canonical_number(n):
    if isinstance(n, bool):
        raise TypeError("not a number")
    if isinstance(n, int):
        return str(n)
    if n != n or n in (float("inf"), float("-inf")):
        raise Refused("NaN and infinities are not JSON")
    if n == int(n) and abs(n) < 1e21:
        return str(int(n))
    sign = "-" if n < 0 else ""
    # The shortest digits that read back as the same double.
    digits_tuple = decimal.Decimal(repr(abs(n))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    exponent = digits_tuple.exponent  # value = digits * 10^exponent
    point = len(digits) + exponent  # 10^(point-1) <= value < 10^point
    if 1e-5 <= abs(n) < 1e21:
        if point <= 0:
            return sign + "0." + "0" * (-point) + digits
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return sign + digits[:point] + "." + digits[point:]
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    e = point - 1
    return sign + mantissa + "e" + ("-" if e < 0 else "+") + str(abs(e))


def canonical(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return canonical_number(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        names = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(canonical(k) + ":" + canonical(value[k]) for k in names) + "}"
    raise TypeError("not JSON: %r" % (value,))


def sha256(data):
    return hashlib.sha256(data).digest()


# --- Chain hashes and leaves -------------------------------------------------

def event_hash(complaint, sequence, event_type, event_version, payload, metadata, prev):
    obj = {
        "complaint": complaint,
        "eventType": event_type,
        "eventVersion": event_version,
        "metadata": metadata,
        "payload": payload,
        "prev": prev,
        "sequence": sequence,
    }
    return sha256(canonical(obj).encode("utf-8")).hex()


def check_recorded_at(text):
    # 2026-11-30T02:15:00.590000Z: exactly six fractional digits and Z.
    check(
        isinstance(text, str) and len(text) == 27 and text[19] == "." and text.endswith("Z")
        and text[20:26].isdigit(),
        "recordedAt %r is not RFC 3339 UTC with six fractional digits" % (text,),
    )


def leaf_hash(position, recorded_at, hash_hex):
    check_recorded_at(recorded_at)
    obj = {"hash": hash_hex, "position": position, "recordedAt": recorded_at}
    return sha256(b"\x00" + canonical(obj).encode("utf-8"))


def node(left, right):
    return sha256(b"\x01" + left + right)


# --- RFC 6962 / 9162 Merkle tree ---------------------------------------------

def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves):
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, old_root, new_root, proof):
    """RFC 9162 2.1.4.2."""
    if m < 1 or m > n:
        return False
    if m == n:
        return not proof and old_root == new_root
    if m & (m - 1) == 0:
        proof = [old_root] + list(proof)
    if not proof:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def hashes(hex_list):
    out = []
    for h in hex_list:
        check(isinstance(h, str) and len(h) == 64, "a proof hash is not 64 hex digits")
        out.append(bytes.fromhex(h))
    return out


# --- Keys and signed notes ---------------------------------------------------

class Key:
    def __init__(self, verifier_key):
        name, key_id, raw = verifier_key.strip().split("+", 2)
        raw = b64(raw)
        check(len(raw) == 33 and raw[0] == 1, "not an Ed25519 verifier key")
        self.name, self.public = name, raw[1:]
        self.id = sha256(name.encode() + b"\n" + b"\x01" + self.public)[:4]
        check(self.id.hex() == key_id, "the verifier key's id does not match its key")
        self.key = Ed25519PublicKey.from_public_bytes(self.public)

    def verify(self, signature, message, what):
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            raise Refused("%s: the signature does not verify" % what)


def key_from_document(doc):
    """The log's keys as the document lists them: [(Key, retires or None)],
    the signing key first. A document from before key rotation names one key."""
    listed = doc.get("keys") or [doc]
    keys = []
    for k in listed:
        key = Key(k["verifierKey"])
        check(b64(k["publicKey"]) == key.public, "publicKey and verifierKey differ")
        keys.append((key, k.get("retires")))
    check(keys[0][0].id == Key(doc["verifierKey"]).id, "the signing key is not listed first")
    return keys


def instant(text):
    """An RFC 3339 UTC time as (seconds text, nanoseconds), comparable."""
    import re
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(?:Z|\+00:00)", text)
    check(m is not None, "%r is not an RFC 3339 UTC time" % (text,))
    return m.group(1), int((m.group(2) or "").ljust(9, "0"))


def signed_by(keys, what, signature, message):
    """Which of the keys made `signature` over `message` (a bundle's)."""
    for key, _ in keys:
        try:
            key.key.verify(signature, message)
            return key
        except InvalidSignature:
            pass
    raise Refused("%s: the signature does not verify with any listed key" % what)


def open_note(note, keys):
    """Returns (origin, size, root bytes, time text) of a checkpoint signed by
    one of `keys` (a Key, or [(Key, retires)]): a retired key's signature
    counts only on a checkpoint from before its retirement."""
    if isinstance(keys, Key):
        keys = [(keys, None)]
    check(isinstance(note, str) and "\n\n" in note, "not a signed note")
    body, signatures = note.split("\n\n", 1)
    body += "\n"
    check(signatures.endswith("\n"), "the note does not end with a newline")
    found = None
    for line in signatures[:-1].split("\n"):
        check(line.startswith("\u2014 "), "a signature line must start with an em dash")
        name, _, sig = line[2:].partition(" ")
        raw = b64(sig)
        for key, retires in keys:
            if found is None and name == key.name and len(raw) == 68 and raw[:4] == key.id:
                found = (key, retires, raw[4:])
    check(found is not None, "the note is not signed by %s" % " or ".join(k.name + "+" + k.id.hex() for k, _ in keys))
    key, retires, signature = found
    key.verify(signature, body.encode("utf-8"), "checkpoint")
    lines = body[:-1].split("\n")
    check(len(lines) == 4 and lines[3].startswith("time "), "not a tlog checkpoint")
    origin, size, root, time = lines[0], int(lines[1]), b64(lines[2]), lines[3][5:]
    check(str(size) == lines[1] and len(root) == 32, "a malformed size or root")
    check(origin == key.name, "the note's origin %r is not the key's name" % (origin,))
    if retires is not None:
        check(instant(time) <= instant(retires),
              "signed at %s by key %s, which retired at %s" % (time, key.id.hex(), retires))
    return origin, size, root, time


# --- The pieces ----------------------------------------------------------------

def six_digits(text):
    """A bundle written before recordedAt was spelled as hashed may carry a
    shorter fraction (docs/audit.md, "The bundle"): the leaf hashes the same
    instant with six digits."""
    import re
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z", text)
    check(m is not None, "recordedAt %r: not UTC with at most six fractional digits" % (text,))
    return "%s.%sZ" % (m.group(1), (m.group(2) or "").ljust(6, "0"))


def verify_case(complaint, events, key_or_root, size, what, legacy_times=False):
    """A complaint's whole history: chain from its first event, each leaf
    proved in the tree of `size` leaves with root `key_or_root`."""
    check(events, "%s: no events" % what)
    prev = ""
    for i, e in enumerate(events):
        at = "%s, event #%s" % (what, e.get("sequence"))
        check(e["sequence"] == i + 1, "%s: not the whole history in order" % at)
        check(e["prevHash"] == prev, "%s: not chained to the event before it" % at)
        h = event_hash(complaint, e["sequence"], e["eventType"], e["eventVersion"],
                       e["payload"], e["metadata"], prev)
        check(h == e["hash"], "%s: its content does not match its hash" % at)
        recorded_at = six_digits(e["recordedAt"]) if legacy_times else e["recordedAt"]
        leaf = leaf_hash(e["position"], recorded_at, h)
        if "leafHash" in e:
            check(leaf.hex() == e["leafHash"], "%s: the served leaf hash differs" % at)
        check(verify_inclusion(e["leafIndex"], size, leaf, hashes(e["proof"]), key_or_root),
              "%s: its inclusion proof does not lead to the checkpoint's root" % at)
        prev = h


def verify_bundle(data, key):
    """docs/audit.md, "The bundle file"."""
    text = data.decode("utf-8")
    if text.endswith("\n"):
        text = text[:-1]
    bundle = json.loads(text)
    check(canonical(bundle) == text, "bundle: the file is not its canonical JSON")
    check(bundle.get("format") == "aduan-audit-bundle/1", "bundle: unknown format")
    signature = b64(bundle.pop("signature"))
    keys = [(key, None)] if isinstance(key, Key) else key
    signer = signed_by(keys, "bundle", signature, canonical(bundle).encode("utf-8"))
    origin, size, root, _ = open_note(bundle["checkpoint"], [k for k in keys if k[0] is signer])
    verify_case(bundle["complaintId"], bundle["events"], root, size, "bundle", legacy_times=True)
    return len(bundle["events"]), size


def verify_vectors(path):
    v = json.load(open(path, encoding="utf-8"))
    for ex in v["canonicalJson"]:
        got = canonical(json.loads(ex["input"]))
        check(got == ex["canonical"], "canonical JSON of %s: %s, not %s" % (ex["input"], got, ex["canonical"]))
    key = Key(v["testKey"]["verifierKey"])
    seed = bytes.fromhex(v["testKey"]["seedHex"])
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    check(public == key.public, "the test key's seed and verifier key differ")
    leaves, heads = [], {}
    for e in v["events"]:
        prev = heads.get(e["complaint"], (0, ""))
        check(e["sequence"] == prev[0] + 1 and e["prevHash"] == prev[1], "event %s: chain" % e["position"])
        obj = {"complaint": e["complaint"], "eventType": e["eventType"], "eventVersion": e["eventVersion"],
               "metadata": e["metadata"], "payload": e["payload"], "prev": e["prevHash"], "sequence": e["sequence"]}
        check(canonical(obj) == e["hashedObject"], "event %s: hashed object" % e["position"])
        h = event_hash(e["complaint"], e["sequence"], e["eventType"], e["eventVersion"],
                       e["payload"], e["metadata"], e["prevHash"])
        check(h == e["hash"], "event %s: hash" % e["position"])
        leaf_obj = {"hash": h, "position": e["position"], "recordedAt": e["recordedAt"]}
        check(canonical(leaf_obj) == e["leafObject"], "event %s: leaf object" % e["position"])
        leaf = leaf_hash(e["position"], e["recordedAt"], h)
        check(leaf.hex() == e["leafHash"], "event %s: leaf hash" % e["position"])
        leaves.append(leaf)
        heads[e["complaint"]] = (e["sequence"], h)
    for r in v["roots"]:
        check(merkle_root(leaves[:r["size"]]).hex() == r["root"], "root at size %s" % r["size"])
    for p in v["inclusion"]:
        i, n = p["index"], p["size"]
        check(verify_inclusion(i, n, leaves[i], hashes(p["proof"]), merkle_root(leaves[:n])),
              "inclusion of %s in %s" % (i, n))
    for p in v["consistency"]:
        m, n = p["from"], p["to"]
        check(verify_consistency(m, n, merkle_root(leaves[:m]), merkle_root(leaves[:n]), hashes(p["proof"])),
              "consistency %s -> %s" % (m, n))
    for c in v["checkpoints"]:
        origin, size, root, _ = open_note(c["note"], key)
        check(c["note"].startswith(c["signedBody"] + "\n"), "checkpoint %s: signed body" % size)
        check(origin == v["testKey"]["origin"] and size == c["size"], "checkpoint %s: origin or size" % size)
        check(root == merkle_root(leaves[:size]), "checkpoint %s: root" % size)
    verify_bundle(v["bundle"]["file"].encode("utf-8"), key)
    return len(v["events"])


# --- A running server ------------------------------------------------------------

PROOF = """query($id: ID!) { auditProof(complaintId: $id) { complaintId verifierKey
  checkpoint { treeSize rootHash note }
  events { position sequence type eventVersion payload metadata recordedAt hash prevHash
           leafIndex leafHash inclusionProof } } }"""

CHECKPOINTS = "{ auditCheckpoints(first: 1000) { treeSize rootHash note } }"

CONSISTENCY = """query($from: Int!) { auditConsistency(from: $from) {
  fromSize fromRoot toSize toRoot proof toCheckpoint { treeSize note } } }"""


def graphql(url, token, query, variables):
    request = urllib.request.Request(
        url.rstrip("/") + "/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token},
    )
    body = json.load(urllib.request.urlopen(request))
    if body.get("errors"):
        raise Refused("the server refused %s" % json.dumps(body["errors"]))
    return body["data"]


def fetch(url, token, complaint, from_size, kept):
    key_doc = json.load(urllib.request.urlopen(url.rstrip("/") + "/.well-known/aduan-audit-key"))
    evidence = {}
    if kept is not None:
        # A checkpoint the auditor kept: prove the log extends it.
        evidence["kept"] = kept
        from_size = open_note(kept, key_from_document(key_doc))[1]
    evidence.update({
        "key": key_doc,
        "checkpoints": graphql(url, token, CHECKPOINTS, {})["auditCheckpoints"],
        "proof": graphql(url, token, PROOF, {"id": complaint})["auditProof"],
    })
    if from_size is not None:
        evidence["consistency"] = graphql(url, token, CONSISTENCY, {"from": from_size})["auditConsistency"]
    return evidence


def verify_evidence(ev):
    key = key_from_document(ev["key"])
    roots = {}
    for c in ev["checkpoints"]:
        _, size, root, _ = open_note(c["note"], key)
        check(size == c["treeSize"] and root.hex() == c["rootHash"], "a checkpoint's fields differ from its note")
        check(roots.setdefault(size, root) == root, "two checkpoints of size %s disagree" % size)
    if "kept" in ev:
        # The kept checkpoint's root wins over whatever the server lists.
        _, size, root, _ = open_note(ev["kept"], key)
        check(roots.get(size, root) == root, "the server's checkpoint of size %s differs from the kept one" % size)
        roots[size] = root
    proof = ev["proof"]
    check(any(proof["verifierKey"] == k["verifierKey"] for k in ev["key"].get("keys") or [ev["key"]]),
          "auditProof names a key the document does not list")
    _, size, root, _ = open_note(proof["checkpoint"]["note"], key)
    events = [dict(e, eventType=e["type"], proof=e["inclusionProof"]) for e in proof["events"]]
    verify_case(proof["complaintId"], events, root, size, "auditProof")
    consistent = None
    if "consistency" in ev:
        c = ev["consistency"]
        m, n = c["fromSize"], c["toSize"]
        check(m in roots, "no signed checkpoint of size %s to prove consistency from" % m)
        _, to_size, to_root, _ = open_note(c["toCheckpoint"]["note"], key)
        check(to_size == n, "the consistency proof ends at another size than its checkpoint")
        check(c["fromRoot"] == roots[m].hex() and c["toRoot"] == to_root.hex(),
              "the consistency proof's roots are not the signed ones")
        check(verify_consistency(m, n, roots[m], to_root, hashes(c["proof"])),
              "the consistency proof from %s to %s does not verify" % (m, n))
        consistent = (m, n)
    return len(ev["checkpoints"]), len(events), consistent


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("vectors").add_argument("file")
    f = sub.add_parser("fetch")
    f.add_argument("--url", required=True)
    f.add_argument("--token", required=True)
    f.add_argument("--complaint", required=True)
    f.add_argument("--from", dest="from_size", type=int, help="a checkpoint's tree size the server lists")
    f.add_argument("--kept", help="a checkpoint note kept outside the server")
    f.add_argument("--out")
    sub.add_parser("evidence").add_argument("file")
    b = sub.add_parser("bundle")
    b.add_argument("file")
    b.add_argument("--key", required=True, help="the /.well-known/aduan-audit-key document")
    args = parser.parse_args()
    try:
        if args.command == "vectors":
            print("%s: %d events, every hash, root, proof and signature agree" % (args.file, verify_vectors(args.file)))
        elif args.command == "bundle":
            key = key_from_document(json.load(open(args.key, encoding="utf-8")))
            count, size = verify_bundle(open(args.file, "rb").read(), key)
            print("%s: %d events proved in the signed tree of %d" % (args.file, count, size))
        else:
            if args.command == "fetch":
                kept = open(args.kept, encoding="utf-8").read() if args.kept else None
                ev = fetch(args.url, args.token, args.complaint, args.from_size, kept)
                if args.out:
                    with open(args.out, "w", encoding="utf-8") as out:
                        json.dump(ev, out, ensure_ascii=False, indent=1)
            else:
                ev = json.load(open(args.file, encoding="utf-8"))
            checkpoints, events, consistent = verify_evidence(ev)
            said = "%d checkpoints and %d events verify" % (checkpoints, events)
            if consistent:
                said += "; the tree of %d is the beginning of the tree of %d" % consistent
            print(said)
    except (Refused, KeyError, ValueError, TypeError) as e:
        print("REFUSED: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
