#!/bin/sh
# One-shot setup of Elasticsearch for the decision records (deploy/compose.yaml runs it).
set -eu
ES=http://elasticsearch:9200

es() {
  method=$1 path=$2 body=$3
  code=$(curl -s -o /tmp/answer -w '%{http_code}' -u "elastic:$ELASTIC_PASSWORD" \
    -X "$method" -H 'content-type: application/json' "$ES$path" --data-binary "$body")
  case $code in
    2??) echo "elasticsearch-setup: $method $path: $code" ;;
    *) echo "elasticsearch-setup: $method $path: HTTP $code" >&2; cat /tmp/answer >&2; exit 1 ;;
  esac
}

es POST /_security/user/kibana_system/_password "{\"password\":\"$KIBANA_SYSTEM_PASSWORD\"}"
# Filebeat may create the daily indices and append to them, nothing else.
es PUT /_security/role/zero_trust_writer '{
  "cluster": ["monitor"],
  "indices": [{ "names": ["zero-trust-decisions-*"], "privileges": ["create_doc", "create_index", "auto_configure"] }]
}'
es PUT /_security/user/filebeat_writer "{\"password\":\"$FILEBEAT_PASSWORD\",\"roles\":[\"zero_trust_writer\"]}"
es PUT /_index_template/zero-trust-decisions "@/setup/index-template.json"
