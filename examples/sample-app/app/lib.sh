# shellcheck shell=sh disable=SC2034 # the settings here are used by the scripts sourcing it
# Helpers of the sample app (sourced by run and the CGI scripts, busybox sh).
#
# Calls to the platform go through busybox wget, which only does GET and POST, prints the
# response headers on stderr with -S and saves no body for an error status: `request` keeps
# the status in HTTP_STATUS and the body in "$HTTP_BODY".

# As in examples/sample-app/appd.json: a managed instance registers under its descriptor.
APP_NAME=umec-sample-app
APP_PROVIDER=umec-examples
APP_D_ID=5b0e8c1a-7f43-4d2e-9a61-3c8f2b7d4e90
SERVICE_NAME=sample-echo
APP_PORT=${MEC_APP_PORT:-8080}
STATE=${MEC_APP_STATE_DIR:-/tmp/sample-app}
RETRY_SECONDS=${MEC_APP_RETRY_SECONDS:-60}
# One call must not hang the app: the platform answers in well under this.
CALL_TIMEOUT=10
API_ROOT=${MEC_API_ROOT%/}
APP_SUPPORT=$API_ROOT/mec_app_support/v2
SERVICE_MGMT=$API_ROOT/mec_service_mgmt/v1
APP_ID=${MEC_APP_INSTANCE_ID:-}
HTTP_BODY=$STATE/body.$$
HTTP_HEADERS=$STATE/headers.$$
HTTP_STATUS=000
CHILD=

log() {
	printf '%s sample-app %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

# Run a command in the background and wait for it, so that a trapped signal is handled at
# once instead of after the command (sh runs traps only between foreground commands).
waited() {
	"$@" &
	CHILD=$!
	wait "$CHILD"
	set -- $?
	CHILD=
	return "$1"
}

pause() {
	waited sleep "$1"
}

have_credentials() {
	[ -n "${MEC_OAUTH2_TOKEN_URL:-}" ] && [ -n "${MEC_OAUTH2_CLIENT_ID:-}" ] &&
		[ -n "${MEC_OAUTH2_CLIENT_SECRET:-}" ]
}

token() {
	cat "$STATE/token" 2>/dev/null || true
}

# Percent-encode every byte: always a valid form value, whatever the secret holds.
form_value() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n' | sed 's/../%&/g'
}

# wget_status: the last status line wget printed; 000 (also in the logs) when nothing answered.
wget_status() {
	HTTP_STATUS=$(sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$HTTP_HEADERS" | tail -n 1)
	[ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
}

# request METHOD URL [JSON]: one call with the current token, no retry.
request() {
	req_method=$1
	req_url=$2
	req_data=${3-}
	set -- -q -S -O "$HTTP_BODY" -U umec-sample-app
	req_token=$(token)
	if [ -n "$req_token" ]; then
		set -- "$@" --header "Authorization: Bearer $req_token"
	fi
	if [ "$req_method" = POST ]; then
		printf '%s' "$req_data" >"$HTTP_BODY.out"
		set -- "$@" --header "Content-Type: application/json" --post-file "$HTTP_BODY.out"
	fi
	rm -f "$HTTP_BODY"
	waited timeout "$CALL_TIMEOUT" wget "$@" "$req_url" 2>"$HTTP_HEADERS"
	wget_status
}

# fetch_token: a client credentials grant; the secret travels in a file, not in argv.
fetch_token() {
	printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' \
		"$(form_value "$MEC_OAUTH2_CLIENT_ID")" "$(form_value "$MEC_OAUTH2_CLIENT_SECRET")" \
		>"$STATE/grant"
	rm -f "$HTTP_BODY"
	waited timeout "$CALL_TIMEOUT" wget -q -S -O "$HTTP_BODY" -U umec-sample-app \
		--post-file "$STATE/grant" "$MEC_OAUTH2_TOKEN_URL" 2>"$HTTP_HEADERS"
	rm -f "$STATE/grant"
	wget_status
	[ "$HTTP_STATUS" = 200 ] || return 1
	sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' "$HTTP_BODY" >"$STATE/token.new"
	rm -f "$HTTP_BODY"
	[ -s "$STATE/token.new" ] && mv "$STATE/token.new" "$STATE/token"
}

# retryable: nobody answered, or the platform is busy or not up yet.
retryable() {
	case $HTTP_STATUS in
	000 | 429 | 502 | 503 | 504) return 0 ;;
	esac
	return 1
}

# get_token: fetch a token, retrying while the platform does not answer.
get_token() {
	tok_deadline=$(($(date +%s) + RETRY_SECONDS))
	tok_retrying=
	while ! fetch_token; do
		if ! retryable || [ "$(date +%s)" -ge "$tok_deadline" ]; then
			log "token: not obtained (HTTP $HTTP_STATUS)"
			return 1
		fi
		if [ -z "$tok_retrying" ]; then
			tok_retrying=yes
			log "retrying: token request got HTTP $HTTP_STATUS, trying for up to $RETRY_SECONDS s"
		fi
		pause 1
	done
	log "token: obtained for client $MEC_OAUTH2_CLIENT_ID"
}

# call METHOD URL [JSON]: retries while the platform does not answer; on 401 gets a new token
# once. Sets HTTP_STATUS; the body of a 2xx answer is in "$HTTP_BODY".
call() {
	call_deadline=$(($(date +%s) + RETRY_SECONDS))
	call_renewed=no
	call_retrying=
	while :; do
		request "$@"
		if [ "$HTTP_STATUS" = 401 ] && [ "$call_renewed" = no ] && have_credentials; then
			call_renewed=yes
			log "token: refused, getting a new one"
			get_token || return 0
			continue
		fi
		retryable || return 0
		[ "$(date +%s)" -lt "$call_deadline" ] || return 0
		if [ -z "$call_retrying" ]; then
			call_retrying=yes
			log "retrying: $1 $2 got HTTP $HTTP_STATUS, trying for up to $RETRY_SECONDS s"
		fi
		pause 1
	done
}

ok() {
	case $HTTP_STATUS in
	2??) return 0 ;;
	esac
	return 1
}

# json_string NAME FILE: the value of a string member (flat, enough for the platform's bodies).
json_string() {
	sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1
}

# confirm_termination ACTION: tell the platform the clean-up is done (an
# AppTerminationConfirmation, MEC 011 clause 7.1.4.3).
confirm_termination() {
	call POST "$APP_SUPPORT/applications/$APP_ID/confirm_termination" \
		"{\"operationAction\":\"$1\"}"
	if ok; then
		log "confirm_termination: $1 confirmed (HTTP $HTTP_STATUS)"
		return 0
	fi
	log "confirm_termination: $1 not confirmed (HTTP $HTTP_STATUS)"
	return 1
}

cleanup_call_files() {
	rm -f "$HTTP_BODY" "$HTTP_BODY.out" "$HTTP_HEADERS"
}
