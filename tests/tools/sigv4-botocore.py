#!/usr/bin/python3
"""sigv4-botocore.py CASES.json: signs each request of the cases file (see
tests/data/sigv4/s3-cases.json) with botocore's S3 SigV4 signer, an oracle
independent of src/sigv4, and prints each Authorization header on a line.

The path is encoded as botocore's S3 client encodes a key
(botocore.utils.percent_encode) and the query goes in as request params,
so nothing of saasctl's encoding leaks into the oracle. "unsigned": true
asks for UNSIGNED-PAYLOAD, else the body's SHA-256 is signed."""
import datetime
import json
import sys
from unittest import mock

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode

for case in json.load(open(sys.argv[1], encoding="utf-8")):
    creds = Credentials(case["access_key"], case["secret_key"], case.get("session_token"))
    params = [(n, "" if v is None else v) for n, v in case.get("query", [])]
    req = AWSRequest(method=case["method"],
                     url="http://" + case["host"] + percent_encode(case["path"], safe="/~"),
                     params=params, headers=dict(case.get("headers", {})),
                     data=case["body"].encode())
    req.context["client_config"] = Config(s3={"payload_signing_enabled": not case["unsigned"]})
    signer = S3SigV4Auth(creds, "s3", case["region"])
    when = datetime.datetime.strptime(case["date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = when
        dt.datetime.strptime = datetime.datetime.strptime
        signer.add_auth(req)
    print(req.headers["Authorization"])
