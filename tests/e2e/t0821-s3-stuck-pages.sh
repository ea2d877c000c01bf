#!/bin/sh
# A server whose listing never advances (a truncated page that hands back
# the token or markers it was asked with) gets a clear error, not an
# endless loop of requests: ListObjectsV2 (backup list on an s3:// store)
# and ListMultipartUploads (s3-tool uploads).
. "$(dirname "$0")/../lib.sh"
PORT=$(free_port)
$PY - "$PORT" > "$T/server.log" 2>&1 <<'PY' &
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    n = 0
    def do_GET(self):
        H.n += 1
        if H.n > 50:
            self.send_response(500); self.end_headers(); return
        if "uploads" in self.path:
            body = ("<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
                    "<NextKeyMarker>k</NextKeyMarker><NextUploadIdMarker>u</NextUploadIdMarker>"
                    "<Upload><Key>k</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>")
        else:
            body = ("<ListBucketResult><IsTruncated>true</IsTruncated>"
                    "<NextContinuationToken>same</NextContinuationToken>"
                    "<Contents><Key>p/a/manifest.json</Key><Size>1</Size></Contents></ListBucketResult>")
        b = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        sys.stderr.write(self.path + "\n")
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
SPID=$!
t_at_exit "kill $SPID"
wait_port "$PORT" 20 || { not_ok "the stuck server starts"; exit 1; }
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 \
	AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PORT AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null

run timeout 60 "$SAASCTL" backup list --store s3://bucket/p
expect_rc 1 "backup list fails on a listing that does not advance"
expect_err "s3 GET 'bucket': the listing does not advance \(the same continuation token again\)" \
	"and says why"
pages=$(grep -c 'list-type=2' "$T/server.log")
[ "$pages" -eq 2 ] && ok "after two pages" || not_ok "after two pages" "$pages requests"

run timeout 60 "$TOOLS/s3-tool" uploads bucket p/
expect_rc 1 "listing uploads fails when the markers do not advance"
expect_err "the upload listing does not advance \(the same markers again\)" "and says why"
pages=$(grep -c 'uploads' "$T/server.log")
[ "$pages" -eq 2 ] && ok "after two pages of uploads" || not_ok "after two pages of uploads" "$pages requests"
