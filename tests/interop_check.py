#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# interop_check.py -- checks an export the way its consumers do: a STIX file
# against the OASIS STIX 2.1 bundle schema (draft 2020-12, every $ref resolved
# by $id from the schemas under INTEROP/stix2.1/schemas), a MISP file (each
# event of a "response" list) against
# PyMISP's strict schema.json (draft-04); then every id/uuid for RFC 4122
# version 1-5 and variant, and (STIX) valid_until later than valid_from.
# Usage: interop_check.py stix|misp FILE...   (INTEROP_DIR: the references)
#        interop_check.py probe               (exit 0: all is there to check)
# Prints one line per problem and exits 1 when there is one; exits 77 when
# the references or python3-jsonschema are missing (the reason on stderr).
import datetime
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.environ.get("INTEROP_DIR") or os.path.join(HERE, "..", "..", "shared", "interop")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-([1-5])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MAX_SHOWN = 10


def skip(reason):
    print(reason, file=sys.stderr)
    sys.exit(77)


try:
    import jsonschema
except ImportError:
    skip("python3-jsonschema is not installed")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def stix_validator():
    """The bundle schema's validator, every schema under stix2.1/schemas
    reachable by its $id; and one validator per object type (by file name),
    to say what is wrong with an object the bundle refuses."""
    top = os.path.join(INTEROP, "stix2.1", "schemas")
    if not os.path.isdir(top):
        skip("no STIX 2.1 schemas in %s" % top)
    store, by_type = {}, {}
    for folder, _, names in os.walk(top):
        for name in names:
            if name.endswith(".json"):
                schema = load(os.path.join(folder, name))
                store[schema["$id"]] = schema
                by_type[name[:-5]] = schema
    cls = jsonschema.Draft202012Validator
    try:  # jsonschema >= 4.18: a registry
        from referencing import Registry, Resource

        registry = Registry().with_resources(
            (k, Resource.from_contents(s)) for k, s in store.items())
        make = lambda schema: cls(schema, registry=registry)
    except ImportError:  # Debian's 4.10: a RefResolver with a store
        make = lambda schema: cls(
            schema, resolver=jsonschema.RefResolver.from_schema(schema, store=store))
    validators = {t: make(s) for t, s in by_type.items()}
    return validators["bundle"], validators


def misp_validator():
    path = os.path.join(INTEROP, "misp", "schema.json")
    if not os.path.isfile(path):
        skip("no PyMISP schema.json in %s" % path)
    return jsonschema.Draft4Validator(load(path))


def check_uuid(text, where, problems):
    m = UUID_RE.match(text) if isinstance(text, str) else None
    if not m:
        problems.append("%s: %r is not an RFC 4122 UUID of version 1-5" % (where, text))


def stix_time(text):
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")


def stix_ids(doc, problems):
    def check_id(text, where):
        if not isinstance(text, str) or "--" not in text:
            problems.append("%s: %r is not a STIX id" % (where, text))
            return
        check_uuid(text.split("--", 1)[1], where, problems)

    check_id(doc.get("id"), "bundle id")
    for i, o in enumerate(doc.get("objects", [])):
        where = "objects[%d] (%s)" % (i, o.get("id"))
        check_id(o.get("id"), where + " id")
        for ref in o.get("object_marking_refs", []):
            check_id(ref, where + " marking ref")
        if o.get("type") == "indicator" and "valid_until" in o:
            if stix_time(o["valid_until"]) <= stix_time(o["valid_from"]):
                problems.append("%s: valid_until %s is not later than valid_from %s"
                                % (where, o["valid_until"], o["valid_from"]))


def misp_ids(doc, problems):
    event = doc.get("Event", {})
    check_uuid(event.get("uuid"), "Event uuid", problems)
    for org in ("Orgc", "Org"):
        if org in event:
            check_uuid(event[org].get("uuid"), "Event %s uuid" % org, problems)
    for i, a in enumerate(event.get("Attribute", [])):
        check_uuid(a.get("uuid"), "Attribute[%d] uuid" % i, problems)


def schema_problems(validator, doc, kind):
    """One line per schema error; for an object the bundle refuses (its
    anyOf of every type), the errors of its own type's schema instead."""
    if kind == "misp":
        return ["schema: %s at /%s" % (e.message[:200], "/".join(map(str, e.absolute_path)))
                for e in validator.iter_errors(doc)]
    bundle, by_type = validator
    out = []
    for e in bundle.iter_errors(doc):
        path = list(e.absolute_path)
        own = None
        if len(path) == 2 and path[0] == "objects":
            own = by_type.get(str(doc["objects"][path[1]].get("type")))
        if own is None:
            out.append("schema: %s at /%s" % (e.message[:200], "/".join(map(str, path))))
            continue
        subs = ["schema: %s at /objects/%d/%s"
                % (sub.message[:200], path[1], "/".join(map(str, sub.absolute_path)))
                for sub in own.iter_errors(doc["objects"][path[1]])]
        out += subs or ["schema: objects[%d] is refused by the bundle schema" % path[1]]
    return out


def main(argv):
    if argv[1:] == ["probe"]:
        stix_validator()
        misp_validator()
        return 0
    if len(argv) < 3 or argv[1] not in ("stix", "misp"):
        print("usage: interop_check.py stix|misp FILE...", file=sys.stderr)
        return 2
    kind = argv[1]
    validator = stix_validator() if kind == "stix" else misp_validator()
    bad = 0
    for path in argv[2:]:
        try:
            doc = load(path)
        except (OSError, ValueError) as e:
            print("%s: %s" % (path, e))
            bad += 1
            continue
        # A MISP list of events ({"response": [...]}, as an export holding
        # reports writes it): each {"Event": ...} is checked as a file.
        docs = doc.get("response") if kind == "misp" and isinstance(doc, dict) else None
        docs = docs if isinstance(docs, list) else [doc]
        problems = []
        for d in docs:
            problems += schema_problems(validator, d, kind)
            (stix_ids if kind == "stix" else misp_ids)(d, problems)
        for p in problems[:MAX_SHOWN]:
            print("%s: %s" % (path, p))
        if len(problems) > MAX_SHOWN:
            print("%s: and %d more" % (path, len(problems) - MAX_SHOWN))
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
