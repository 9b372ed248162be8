#!/bin/sh
# One-shot import of the data view and saved searches (deploy/compose.yaml runs it once Kibana is up).
set -eu
code=$(curl -s -o /tmp/answer -w '%{http_code}' -u "elastic:$ELASTIC_PASSWORD" \
  -X POST 'http://kibana:5601/api/saved_objects/_import?overwrite=true' \
  -H 'kbn-xsrf: true' -F file=@/setup/kibana/saved-objects.ndjson)
cat /tmp/answer
echo
case $code in
  200) grep -q '"success":true' /tmp/answer || exit 1 ;;
  *) echo "kibana-setup: HTTP $code" >&2; exit 1 ;;
esac
