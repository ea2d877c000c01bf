# Sourced by the S3 tests after tests/lib.sh: starts a real Ceph RGW (one
# mon, one memstore OSD, radosgw) in $T/rgw for the whole test file, stops
# it at exit, and points the AWS_* variables at it.
RGW_FIXTURE=$TOP/tests/servers/rgw
RGW_ACCESS=saasctl-test-access
RGW_SECRET=saasctl-test-secret-1234567890

# rgw_start: sets RGW_PORT, RGW_URL and RGW_START_SECS; exports
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3.
rgw_start() {
	need radosgw ceph-mon ceph-osd ceph radosgw-admin monmaptool curl
	RGW_PORT=$(free_port)
	RGW_DIR=$T/rgw
	# Registered first, so that a failed start is cleaned up too.
	t_at_exit "$RGW_FIXTURE/stop.sh '$RGW_DIR'"
	_t0=$(date +%s)
	if ! RGW_OWNER_PID=$$ "$RGW_FIXTURE/start.sh" "$RGW_DIR" "$RGW_PORT" "$RGW_ACCESS" "$RGW_SECRET" \
		> "$T/rgw-start.log" 2>&1; then
		not_ok "the RGW test server starts" "$(tail -n 30 "$T/rgw-start.log")"
		exit 1
	fi
	RGW_START_SECS=$(( $(date +%s) - _t0 ))
	RGW_URL=http://127.0.0.1:$RGW_PORT
	export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET \
		AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3=$RGW_URL
	unset AWS_ENDPOINT_URL AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION
}
