#!/bin/sh
# GET /: who this instance is and how many requests it has answered (busybox httpd runs this
# CGI for a directory without index.html).
# shellcheck source-path=SCRIPTDIR source=../../lib.sh
. "${APP_HOME:-/app}/lib.sh"

case ${REQUEST_METHOD:-GET} in
GET | HEAD) ;;
*)
	printf 'Status: 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Type: text/plain\r\n\r\n'
	exit 0
	;;
esac
# Counted without a lock: two requests at once may read the same number, which a sample
# tolerates.
count=$(($(cat "$STATE/requests" 2>/dev/null || echo 0) + 1))
echo "$count" >"$STATE/requests"
printf 'Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n'
printf '{"appInstanceId":"%s","service":"%s","requests":%d,"time":"%s"}\n' \
	"$APP_ID" "$SERVICE_NAME" "$count" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
