"""The original system's stack doing simswarm's no-op benchmark job: an RQ
job that starts the simulation program for one run and stores its result
file in MongoDB GridFS with pymongo. Used by throughput.sh; not shipped.

    python3 rq_noop.py enqueue REDIS_URL MONGO_URI PROGRAM N
    rq worker --burst --url REDIS_URL simswarm-bench   (with rq_noop importable)
"""
import os
import subprocess
import sys
import tempfile

import gridfs
import pymongo
from redis import Redis
from rq import Queue

_db = None


def _mongo(uri):
    global _db
    if _db is None:
        _db = pymongo.MongoClient(uri).get_default_database("simswarm")
    return _db


def run_one(mongo_uri, program, run):
    db = _mongo(mongo_uri)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([program, "-u", "Cmdenv", "-c", "General", "-r", str(run),
                        "--result-dir=" + d], check=True)
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                gridfs.GridFS(db, collection="rqresults").put(f.read(), filename=name, run=run)
    db.rqruns.insert_one({"run": run, "state": "Succeeded"})


if __name__ == "__main__":
    _, cmd, redis_url, mongo_uri, program, n = sys.argv
    q = Queue("simswarm-bench", connection=Redis.from_url(redis_url))
    for r in range(int(n)):
        q.enqueue("rq_noop.run_one", mongo_uri, program, r)
