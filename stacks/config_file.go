package stacks

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// gcmNonce and gcmTag are the sizes, in bytes, of the nonce and the
// authentication tag of Pulumi's "v1:" secrets (AES-256-GCM), which the
// passphrase and the cloud KMS secrets managers both write.
const (
	gcmNonce = 12
	gcmTag   = 16
)

// ReadStackFile reads the config of a stack's file (stacks/Pulumi.<stack>.yaml)
// as the CLI would: full keys to values, a key without namespace in the
// project's. A secret is not decrypted: its length is read from its
// ciphertext (AES-256-GCM adds a fixed 16-byte tag and no padding), so an
// empty secret is found without the passphrase; SecretLen is -1 for a format
// it does not know.
func ReadStackFile(raw []byte) (map[string]Value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %v", err)
	}
	out := map[string]Value{}
	if len(doc.Content) == 0 {
		return out, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a YAML map (want config: and the stack's keys under it)")
	}
	var config *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "config" {
			config = top.Content[i+1]
		}
	}
	if config == nil || config.Kind == yaml.ScalarNode && config.Tag == "!!null" {
		return out, nil
	}
	if config.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: is not a map of keys to values")
	}
	for i := 0; i+1 < len(config.Content); i += 2 {
		key, node := config.Content[i].Value, config.Content[i+1]
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("config key %s is set twice", key)
		}
		v, err := readValue(node)
		if err != nil {
			return nil, fmt.Errorf("config key %s: %v", key, err)
		}
		out[key] = v
	}
	return out, nil
}

func readValue(n *yaml.Node) (Value, error) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		var x any
		if err := n.Decode(&x); err != nil {
			return Value{}, err
		}
		if x == nil {
			return Value{}, nil // the CLI reads no value as ""
		}
		v := Value{Value: fmt.Sprint(x)}
		if (n.Tag == "!!int" || n.Tag == "!!float") && v.Value != n.Value {
			v.Written = n.Value
		}
		return v, nil
	case yaml.MappingNode:
		if len(n.Content) == 2 && n.Content[0].Value == "secure" && n.Content[1].Kind == yaml.ScalarNode {
			return Value{Secret: true, SecretLen: secretLength(n.Content[1].Value)}, nil
		}
	}
	var x any
	if err := n.Decode(&x); err != nil {
		return Value{}, err
	}
	b, err := json.Marshal(x)
	if err != nil {
		return Value{Structured: true}, nil
	}
	return Value{Value: string(b), Structured: true}, nil
}

// secretLength is the plaintext length of a "v1:<nonce>:<ciphertext>"
// secret, or -1 for another format.
func secretLength(ciphertext string) int {
	parts := strings.Split(ciphertext, ":")
	if len(parts) != 3 || parts[0] != "v1" {
		return -1
	}
	nonce, err1 := base64.StdEncoding.DecodeString(parts[1])
	sealed, err2 := base64.StdEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(nonce) != gcmNonce || len(sealed) < gcmTag {
		return -1
	}
	return len(sealed) - gcmTag
}

// NeedsDecryption reports whether a secret's emptiness cannot be read from
// the file (a secrets provider with another ciphertext format): then the
// caller asks the CLI (see SecretLengths).
func NeedsDecryption(values map[string]Value) bool {
	for _, k := range SecretKeys {
		for _, full := range []string{Project + ":" + k, k} {
			if v, ok := values[full]; ok && v.Secret && v.SecretLen < 0 {
				return true
			}
		}
	}
	return false
}

// SecretLengths fills in the secrets' lengths from plaintexts the CLI
// decrypted (plain: full key to value); the plaintexts are not kept.
func SecretLengths(values map[string]Value, plain func(fullKey string) (string, bool)) {
	for _, k := range SecretKeys {
		for _, key := range []string{Project + ":" + k, k} {
			if v, ok := values[key]; ok && v.Secret && v.SecretLen < 0 {
				if p, ok := plain(Project + ":" + k); ok {
					v.SecretLen = len(p)
					values[key] = v
				}
			}
		}
	}
}
