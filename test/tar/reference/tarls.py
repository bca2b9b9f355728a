"""List tar archives (each announced by {"file": ...}) with Python's tarfile: one JSON line per member, then {"end": "eof"} or {"error": ...}."""
import base64, json, sys, tarfile

def b64(s):
    return base64.b64encode(s.encode("utf-8", "surrogateescape")).decode()

def list_one(path):
    try:
        tf = tarfile.open(path, "r:", encoding="utf-8", errors="surrogateescape")
        while True:
            m = tf.next()
            if m is None:
                break
            print(json.dumps({"name": b64(m.name), "link": b64(m.linkname), "type": ord(m.type) if m.type else 48, "size": m.size}))
        print(json.dumps({"end": "eof"}))
    except Exception as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))

for path in sys.argv[1:]:
    print(json.dumps({"file": path}))
    list_one(path)
